//! Secrets and sign-in rules: argon2id for passwords and PINs, random session tokens stored as
//! SHA-256 hashes, single-use activation codes, and lockout with exponential backoff.

use std::sync::LazyLock;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

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

fn argon2_params() -> Params {
    Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, 1, None).expect("valid argon2 parameters")
}

/// argon2's working memory, kept and reused: a hashing worker owns one while sign-ins keep coming,
/// so a burst of checks allocates its megabytes once per worker, and gives it back after a quiet
/// second ([`KEEP_MEMORY`]). (Allocating them per check on any thread left every thread's malloc
/// arena holding ~57 MiB it never returned: 200 MiB after a burst of sign-ins.)
type Memory = Vec<argon2::Block>;

/// Runs argon2 with `params` over `secret` and the salt, into an output of `output_len` bytes,
/// in `memory` (grown to the parameters' size the first time).
fn argon2_output(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    secret: &[u8],
    salt: argon2::password_hash::Salt<'_>,
    output_len: usize,
    memory: &mut Memory,
) -> argon2::password_hash::Result<argon2::password_hash::Output> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(algorithm, version, params);
    argon2::password_hash::Output::init_with(output_len, |out| {
        Ok(argon2.hash_password_into_with_memory(secret, salt, out, &mut memory[..blocks])?)
    })
}

/// [`hash_secret`] in the given memory.
fn hash_secret_in(secret: &str, memory: &mut Memory) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let params = argon2_params();
    let output = argon2_output(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        secret.as_bytes(),
        salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
        memory,
    )
    .expect("argon2 hashes any input");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: argon2::password_hash::ParamsString::try_from(&params).expect("valid argon2 parameters"),
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string()
}

/// Whether `secret` matches the PHC string `phc`, computed with the hash's own parameters in the
/// given memory; the comparison of the outputs takes constant time.
fn matches_in(secret: &str, phc: &str, memory: &mut Memory) -> bool {
    let mut check = || -> argon2::password_hash::Result<bool> {
        let parsed = PasswordHash::new(phc)?;
        let expected = parsed.hash.ok_or(argon2::password_hash::Error::Password)?;
        let salt = parsed.salt.ok_or(argon2::password_hash::Error::SaltInvalid(
            argon2::password_hash::errors::InvalidValue::Malformed,
        ))?;
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed.version.map(Version::try_from).transpose()?.unwrap_or_default();
        let params = Params::try_from(&parsed)?;
        let computed =
            argon2_output(algorithm, version, params, secret.as_bytes(), salt, expected.len(), memory)?;
        Ok(computed == expected)
    };
    check().unwrap_or(false)
}

/// An argon2id hash (PHC string) of `secret`, with a fresh random salt.
pub fn hash_secret(secret: &str) -> String {
    hash_secret_in(secret, &mut Memory::new())
}

/// The bound on password and PIN hashing: argon2 runs only on a fixed set of worker threads
/// (one per core), each with its own working memory kept for reuse, and at most that many
/// callers hold a turn at once; a caller waits at most `wait` for a turn, then is told the
/// server is busy. Anonymous requests can reach hashing (sign-in, activation), so without the
/// bound a burst of them takes memory without limit.
#[derive(Debug, Clone)]
pub struct Hasher {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    wait: Duration,
    jobs: std::sync::mpsc::Sender<Job>,
}

/// Work for a hashing worker, run with the worker's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// How long a hashing worker keeps its working memory without work.
const KEEP_MEMORY: Duration = Duration::from_secs(1);

/// A turn to hash, from [`Hasher::turn`].
#[derive(Debug)]
pub struct HashTurn(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

/// No turn to hash came within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherBusy;

impl Hasher {
    /// One worker per core (at least one), callers waiting at most `wait` for a turn. The workers
    /// end when the last clone of the `Hasher` is dropped.
    pub fn new(wait: Duration) -> Hasher {
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..workers {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("qol-hash-{n}"))
                .spawn(move || {
                    let mut memory = Memory::new();
                    loop {
                        let next = queue.lock().map_err(|_| None).and_then(|queue| {
                            queue.recv_timeout(KEEP_MEMORY).map_err(|error| match error {
                                std::sync::mpsc::RecvTimeoutError::Timeout => Some(()),
                                std::sync::mpsc::RecvTimeoutError::Disconnected => None,
                            })
                        });
                        match next {
                            Ok(job) => job(&mut memory),
                            // Quiet for a while: give the megabytes back (a quiet server holds
                            // no hashing memory; the next sign-in allocates it again).
                            Err(Some(())) => memory = Memory::new(),
                            Err(None) => return,
                        }
                    }
                })
                .expect("a hashing worker thread starts");
        }
        Hasher { permits: std::sync::Arc::new(tokio::sync::Semaphore::new(workers)), wait, jobs }
    }

    /// Waits for a turn to hash.
    pub async fn turn(&self) -> Result<HashTurn, HasherBusy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashTurn(permit)),
            _ => Err(HasherBusy),
        }
    }

    /// Runs `work` on a worker in the given turn (held until the work is done, even if the
    /// caller gives up waiting), and returns its result.
    async fn run<T: Send + 'static>(
        &self,
        turn: HashTurn,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(work(memory));
            drop(turn);
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }

    /// [`verify_secret`] on a hashing worker, in the given turn.
    pub async fn verify(&self, turn: HashTurn, secret: String, stored: Option<String>) -> bool {
        self.run(turn, move |memory| verify_secret_in(&secret, stored.as_deref(), memory))
            .await
            .unwrap_or(false)
    }

    /// [`hash_secret`] on a hashing worker, in the given turn.
    pub async fn hash(&self, turn: HashTurn, secret: String) -> Option<String> {
        self.run(turn, move |memory| hash_secret_in(&secret, memory)).await
    }
}

/// Whether `secret` matches the stored hash. Runs in the same time for unknown accounts (pass
/// `None`), so response times do not tell which accounts exist.
pub fn verify_secret(secret: &str, stored: Option<&str>) -> bool {
    verify_secret_in(secret, stored, &mut Memory::new())
}

fn verify_secret_in(secret: &str, stored: Option<&str>, memory: &mut Memory) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash_secret("no account has this secret"));
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (DUMMY.as_str(), false),
    };
    matches_in(secret, phc, memory) && real
}

/// A new session token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored for a token or an activation code: its SHA-256. These are long random values,
/// so a fast hash is enough, and it lets the server look them up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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

/// What is wrong with a (normal) username, if anything.
pub fn username_problem(username: &str) -> Option<String> {
    // It starts with a letter or digit: "." and ".." would be path segments a browser removes
    // from `/api/v1/staff/{username}/…`.
    let starts_well = username.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let allowed = username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    (!starts_well || !allowed || username.len() > 64).then(|| {
        format!(
            "username {username:?}: up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    })
}

/// The password hash of an account that has none yet (made in the console, waiting for its
/// holder to set one with a code): no secret matches it, and sign-in treats it as an unknown
/// account's, in the same time.
pub const NO_PASSWORD: &str = "!no-password";

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
    fn hashes_interoperate_with_the_argon2_crate_in_reused_memory() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let ours = hash_secret("a secret");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"a secret", &parsed).is_ok());
        // A hash made with other parameters (the crate's default, 19 MiB) verifies too, in the
        // same memory, which grows once to the largest size it has needed.
        let older =
            Argon2::default().hash_password(b"older", &SaltString::generate(&mut OsRng)).unwrap().to_string();
        let mut memory = Memory::new();
        assert!(matches_in("a secret", &ours, &mut memory));
        assert_eq!(memory.len(), 7 * 1024);
        assert!(matches_in("older", &older, &mut memory));
        assert!(!matches_in("Older", &older, &mut memory));
        assert!(matches_in("a secret", &ours, &mut memory));
        assert_eq!(memory.len(), Params::DEFAULT_M_COST as usize);
    }

    #[tokio::test]
    async fn the_hasher_checks_and_hashes_on_its_workers() {
        let hasher = Hasher::new(Duration::from_secs(5));
        let stored = hasher.hash(hasher.turn().await.unwrap(), "2468".into()).await.unwrap();
        assert!(hasher.verify(hasher.turn().await.unwrap(), "2468".into(), Some(stored.clone())).await);
        assert!(!hasher.verify(hasher.turn().await.unwrap(), "2469".into(), Some(stored)).await);
        assert!(!hasher.verify(hasher.turn().await.unwrap(), "2468".into(), None).await);
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
