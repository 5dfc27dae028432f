//! Secrets and sign-in rules: argon2id for passwords and PINs, random session tokens stored as
//! SHA-256 hashes, single-use activation codes, and lockout with exponential backoff.

use std::sync::LazyLock;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

use crate::storage::hex;

/// How long sessions last.
pub const STAFF_SESSION: Duration = Duration::from_secs(12 * 3600);
pub const PATIENT_SESSION: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long an activation code is valid after it is issued.
pub const ACTIVATION_CODE_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);
/// Failures allowed before the first lockout.
pub const FREE_FAILURES: i64 = 5;
const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
const LONGEST_LOCKOUT: Duration = Duration::from_secs(3600);

/// argon2id with m = 7 MiB, t = 5, p = 1: one of the equivalent settings the OWASP Password
/// Storage Cheat Sheet recommends (19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5, p=1), the one
/// with the least memory, since every check in flight holds its `m`. Stored hashes carry their own
/// parameters, so hashes made with other settings still verify.
const ARGON2_MEMORY_KIB: u32 = 7 * 1024;
const ARGON2_ITERATIONS: u32 = 5;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id hash (PHC string) of `secret`, with a fresh random salt.
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(secret.as_bytes(), &salt).expect("argon2 hashes any input").to_string()
}

/// The bound on password and PIN hashing: at most `permits` argon2 runs at once (each holds
/// its memory), and a caller waits at most `wait` for a turn, then is told the server is busy.
/// Anonymous requests can reach hashing (sign-in, activation), so without the bound a burst of
/// them takes memory without limit.
#[derive(Debug, Clone)]
pub struct Hasher {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    wait: Duration,
}

/// A turn to hash, from [`Hasher::turn`].
#[derive(Debug)]
pub struct HashTurn(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

/// No turn to hash came within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherBusy;

impl Hasher {
    /// One run per core (at least one), waiting at most `wait` for a turn.
    pub fn new(wait: Duration) -> Hasher {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Hasher::with_permits(cores, wait)
    }

    pub fn with_permits(permits: usize, wait: Duration) -> Hasher {
        Hasher { permits: std::sync::Arc::new(tokio::sync::Semaphore::new(permits.max(1))), wait }
    }

    /// Waits for a turn to hash.
    pub async fn turn(&self) -> Result<HashTurn, HasherBusy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashTurn(permit)),
            _ => Err(HasherBusy),
        }
    }

    /// [`verify_secret`] on a blocking thread, in the given turn.
    pub async fn verify(&self, turn: HashTurn, secret: String, stored: Option<String>) -> bool {
        tokio::task::spawn_blocking(move || {
            let matches = verify_secret(&secret, stored.as_deref());
            drop(turn);
            matches
        })
        .await
        .unwrap_or(false)
    }

    /// [`hash_secret`] on a blocking thread, in the given turn.
    pub async fn hash(&self, turn: HashTurn, secret: String) -> Option<String> {
        tokio::task::spawn_blocking(move || {
            let hash = hash_secret(&secret);
            drop(turn);
            hash
        })
        .await
        .ok()
    }
}

/// Whether `secret` matches the stored hash. Runs in the same time for unknown accounts (pass
/// `None`), so response times do not tell which accounts exist.
pub fn verify_secret(secret: &str, stored: Option<&str>) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash_secret("no account has this secret"));
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (DUMMY.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    argon2().verify_password(secret.as_bytes(), &parsed).is_ok() && real
}

/// A new session token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What is stored for a token or an activation code: its SHA-256. These are long random values,
/// so a fast hash is enough, and it lets the server look them up.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Crockford's base-32 alphabet: no I, L, O or U, so codes read aloud or typed are unambiguous.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new activation code: 12 characters (60 random bits) in groups of four, e.g. `7KQ2-M9XD-4TRA`.
pub fn new_activation_code() -> String {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes.iter().map(|byte| CODE_ALPHABET[usize::from(byte % 32)] as char).collect();
    chars.chunks(4).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The canonical form of a typed activation code: upper case, without spaces or dashes, with the
/// look-alike letters read as Crockford does (O → 0, I and L → 1).
pub fn normalise_activation_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// A username as stored and compared, from what someone typed: trimmed, lower case.
pub fn normal_username(typed: &str) -> String {
    typed.trim().to_lowercase()
}

/// A study id as stored and compared, from what someone typed: trimmed, upper case.
pub fn normal_study_id(typed: &str) -> String {
    typed.trim().to_uppercase()
}

/// The sign-in throttle's key for a staff account (a normal username).
pub fn staff_sign_in_key(username: &str) -> String {
    format!("staff:{username}")
}

/// The sign-in throttle's key for a patient (a normal study id).
pub fn patient_sign_in_key(study_id: &str) -> String {
    format!("patient:{study_id}")
}

/// A PIN is 4 to 8 digits.
pub fn valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

pub const MIN_PASSWORD_LENGTH: usize = 12;

/// After `failures` failed attempts in a row, how long the key is locked: nothing for the first
/// [`FREE_FAILURES`], then 30 s, doubling with each further failure, up to an hour.
pub fn lockout_after(failures: i64) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = u32::try_from(failures - FREE_FAILURES).unwrap_or(u32::MAX).min(16);
    Some(FIRST_LOCKOUT.saturating_mul(1 << doublings).min(LONGEST_LOCKOUT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_only_against_their_own_hash() {
        let hash = hash_secret("correct horse battery");
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert!(verify_secret("correct horse battery", Some(&hash)));
        assert!(!verify_secret("correct horse batterY", Some(&hash)));
        assert!(!verify_secret("correct horse battery", None));
        assert!(!verify_secret("x", Some("not a hash")));
        assert_ne!(hash, hash_secret("correct horse battery"), "salts differ");
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, new_token());
        assert_eq!(token_hash(&token).len(), 64);
        assert_ne!(token_hash(&token), token);
    }

    #[test]
    fn activation_codes_are_grouped_and_typing_variants_normalise_to_one_form() {
        let code = new_activation_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert!(code.chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(normalise_activation_code(" 7kq2-m9xd 4tra "), "7KQ2M9XD4TRA");
        assert_eq!(normalise_activation_code("OIL0"), "0110");
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        for (pin, ok) in [
            ("1234", true),
            ("12345678", true),
            ("123", false),
            ("123456789", false),
            ("12a4", false),
            ("", false),
        ] {
            assert_eq!(valid_pin(pin), ok, "{pin:?}");
        }
    }

    #[test]
    fn lockout_starts_after_five_failures_and_doubles_up_to_an_hour() {
        let cases = [
            (0, None),
            (4, None),
            (5, Some(30)),
            (6, Some(60)),
            (7, Some(120)),
            (11, Some(1920)),
            (12, Some(3600)),
            (40, Some(3600)),
        ];
        for (failures, seconds) in cases {
            assert_eq!(lockout_after(failures).map(|d| d.as_secs()), seconds, "{failures} failures");
        }
    }
}
