//! [`Timestamp`]: an instant as the API and storage spell it, RFC 3339 in UTC with microseconds
//! (`2026-03-16T01:30:00.000000Z`), which sorts as text. Any RFC 3339 offset is read and turned
//! into UTC; it is always written the one way, so a value sent back (a card's `updated_at`) is
//! the value received.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Reads RFC 3339 with any offset; the error says what was expected.
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        DateTime::parse_from_rfc3339(text.trim())
            .map(|time| Timestamp(time.with_timezone(&Utc)))
            .map_err(|_| format!("{text:?} is not an RFC 3339 time, e.g. 2026-03-16T09:30:00+08:00"))
    }

    /// The one way it is written: UTC, microseconds, `Z`; what chrono writes for
    /// `%Y-%m-%dT%H:%M:%S%.6fZ` (a test holds them equal), without chrono's format-string
    /// machinery, which is 4 KB brotli of the phone's bundle.
    pub fn text(&self) -> String {
        use chrono::{Datelike, Timelike};
        let time = self.0;
        let year = match time.year() {
            year @ 0..=9999 => format!("{year:04}"),
            year if year > 9999 => format!("+{year}"),
            year => format!("-{:04}", -i64::from(year)),
        };
        // chrono keeps a leap second as a nanosecond count past one second, written as :60.
        let (second, nanos) = match time.nanosecond() {
            nanos if nanos >= 1_000_000_000 => (time.second() + 1, nanos - 1_000_000_000),
            nanos => (time.second(), nanos),
        };
        format!(
            "{year}-{:02}-{:02}T{:02}:{:02}:{second:02}.{:06}Z",
            time.month(),
            time.day(),
            time.hour(),
            time.minute(),
            nanos / 1000
        )
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Timestamp {
        Timestamp(time)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = String;

    fn from_str(text: &str) -> Result<Timestamp, String> {
        Timestamp::parse(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339; qol writes UTC with microseconds, e.g. 2026-03-16T01:30:00.000000Z"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_is_read_and_one_form_written() {
        let read = Timestamp::parse("2026-03-16T09:30:00+08:00").unwrap();
        assert_eq!(read.text(), "2026-03-16T01:30:00.000000Z");
        let json = serde_json::to_string(&read).unwrap();
        assert_eq!(json, "\"2026-03-16T01:30:00.000000Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), read);
        let precise = Timestamp::parse("2026-03-16T01:30:00.123456Z").unwrap();
        assert_eq!(precise.to_string(), "2026-03-16T01:30:00.123456Z");
        let error = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err().to_string();
        assert!(error.contains("not an RFC 3339 time"), "{error}");
    }

    fn chrono_text(time: DateTime<Utc>) -> String {
        time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    #[test]
    fn written_as_chrono_writes_it_at_the_edges() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_999_999_999)
            .unwrap()
            .and_utc();
        let edges = [
            leap,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::from_timestamp(-62_167_219_200, 0).unwrap(), // year 0
            DateTime::from_timestamp(-62_167_219_201, 999_999).unwrap(), // year -1
            DateTime::from_timestamp(253_402_300_800, 1_000).unwrap(), // year 10000
        ];
        for time in edges {
            assert_eq!(Timestamp(time).text(), chrono_text(time));
        }
        assert_eq!(Timestamp(leap).text(), "2016-12-31T23:59:60.999999Z");
    }

    proptest::proptest! {
        #[test]
        fn written_as_chrono_writes_it(seconds in -8_000_000_000_000i64..8_000_000_000_000, nanos in 0u32..2_000_000_000) {
            if let Some(time) = DateTime::from_timestamp(seconds, nanos) {
                proptest::prop_assert_eq!(Timestamp(time).text(), chrono_text(time));
            }
        }
    }
}
