//! [`ClientId`]: the id a phone gives a finished questionnaire, so a retry is recognised. Only a
//! random (version 4) UUID is taken: a version 1 UUID carries the device's clock and network
//! address. Written lowercase with hyphens, however it was sent.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(String);

const REFUSAL: &str = "client_id must be a random (version 4) UUID generated on the device";

impl ClientId {
    /// Reads a UUID (hyphenated, plain 32 hex digits, braced or `urn:uuid:`), refusing any but a
    /// random (version 4, RFC 4122 variant) one.
    pub fn parse(text: &str) -> Result<ClientId, String> {
        let text = text.trim();
        let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
        let text = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(text);
        let hyphens_in_place =
            text.len() == 36 && text.char_indices().all(|(i, c)| [8, 13, 18, 23].contains(&i) == (c == '-'));
        let digits: String = if hyphens_in_place { text.replace('-', "") } else { text.to_owned() };
        if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(REFUSAL.into());
        }
        let digits = digits.to_ascii_lowercase();
        let version = digits.as_bytes()[12];
        let variant = digits.as_bytes()[16];
        if version != b'4' || !matches!(variant, b'8' | b'9' | b'a' | b'b') {
            return Err(REFUSAL.into());
        }
        Ok(ClientId::hyphenated(&digits))
    }

    /// 32 lowercase hex digits, written 8-4-4-4-12.
    fn hyphenated(digits: &str) -> ClientId {
        ClientId(format!(
            "{}-{}-{}-{}-{}",
            &digits[..8],
            &digits[8..12],
            &digits[12..16],
            &digits[16..20],
            &digits[20..]
        ))
    }

    /// The id of 16 random bytes (from a cryptographic generator), marked as a version 4 UUID.
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> ClientId {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        ClientId::hyphenated(&hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ClientId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ClientId, D::Error> {
        let text = String::deserialize(deserializer)?;
        ClientId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ClientId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".into())))
            .description(Some("a random (version 4) UUID generated on the device"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ClientId {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_random_uuids_are_taken_and_written_one_way() {
        let id = ClientId::parse(" {0D8F1F43-6C1A-4B0E-9F3A-2B7C8D9E0F11} ").unwrap();
        assert_eq!(id.as_str(), "0d8f1f43-6c1a-4b0e-9f3a-2b7c8d9e0f11");
        assert_eq!(ClientId::parse("0d8f1f436c1a4b0e9f3a2b7c8d9e0f11").unwrap(), id);
        assert_eq!(ClientId::parse("urn:uuid:0d8f1f43-6c1a-4b0e-9f3a-2b7c8d9e0f11").unwrap(), id);
        // Version 1 (clock and MAC address), a wrong variant, wrong lengths and hyphens.
        for refused in [
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "0d8f1f43-6c1a-4b0e-cf3a-2b7c8d9e0f11",
            "0d8f1f43-6c1a-4b0e-9f3a-2b7c8d9e0f1",
            "0d8f1f436-c1a-4b0e-9f3a-2b7c8d9e0f11",
            "",
        ] {
            assert_eq!(ClientId::parse(refused).unwrap_err(), REFUSAL, "{refused}");
        }
        let made = ClientId::from_random_bytes([0xff; 16]);
        assert_eq!(made.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(ClientId::parse(made.as_str()).unwrap(), made);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ClientId>(&json).unwrap(), id);
    }
}
