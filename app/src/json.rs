//! JSON read and written by a small serde data format of the app's own: a `Deserializer` over the
//! text and a `Serializer` into a `String`, with the browser's number conversions for fractions
//! (`parseFloat`, and `JSON.stringify` of a number). No general JSON library in the phone's bundle:
//! serde_json was a tenth of it, and serde-wasm-bindgen through `JSON.parse`/`stringify` (what
//! came before this module) about 5 %, mostly code made once per type (issues 17 and 20's size
//! budget). Each kind of value a type asks for is read the one way JSON writes it, so a type's
//! deserializer keeps only the paths its shape can take.
//!
//! What it reads and writes is JSON as serde_json and the browser read and write it: objects as
//! maps and structs, `null` as `None` and `()`, a unit variant as its name, any other variant as
//! an object of one key (`{"code": 3}`), map keys as text (a number key is written as text, as
//! serde_json writes it). Its errors say what was wrong in English, for the logs and the console.

use std::borrow::Cow;
use std::fmt::Display;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

/// `text` read as a `T`; the error says why, in English, for the console and the logs.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut parser = Parser { text: text.as_bytes(), source: text, at: 0 };
    let value = T::deserialize(&mut parser).map_err(|error| error.0)?;
    parser.blank();
    if parser.at == text.len() { Ok(value) } else { Err(parser.fail("text after the JSON value").0) }
}

/// `value` as JSON text: maps as objects and `None` as `null`, as serde_json writes them.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let mut out = String::new();
    value.serialize(&mut Writer { out: &mut out }).map_err(|error| error.0)?;
    Ok(out)
}

/// Why a value could not be read or written.
#[derive(Debug)]
struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Error {
    fn named(what: &str, name: &str) -> Error {
        Error(format!("{what} `{name}`"))
    }
}

// The messages name what was wrong without the value that was found: serde's description of
// a found value formats numbers with the standard library's float printing, 4 KB of the bundle
// for a message nobody reads on a phone.
impl de::Error for Error {
    fn custom<T: Display>(message: T) -> Error {
        Error(message.to_string())
    }

    fn invalid_type(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Error {
        Error("invalid type".to_owned())
    }

    fn invalid_value(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Error {
        Error("invalid value".to_owned())
    }

    fn invalid_length(_: usize, _: &dyn de::Expected) -> Error {
        Error("invalid length".to_owned())
    }

    fn unknown_variant(variant: &str, _: &'static [&'static str]) -> Error {
        Error::named("unknown variant", variant)
    }

    fn unknown_field(field: &str, _: &'static [&'static str]) -> Error {
        Error::named("unknown field", field)
    }

    fn missing_field(field: &'static str) -> Error {
        Error::named("missing field", field)
    }

    fn duplicate_field(field: &'static str) -> Error {
        Error::named("duplicate field", field)
    }
}

impl ser::Error for Error {
    fn custom<T: Display>(message: T) -> Error {
        Error(message.to_string())
    }
}

/// A number as JSON wrote it.
enum Number {
    Unsigned(u64),
    Negative(i64),
    Fraction(f64),
}

/// A number with a fraction or an exponent, read by the browser (`parseFloat`, which rounds as
/// `JSON.parse` does), so the bundle carries no float parser; on the host (the tests), by Rust's.
fn fraction(token: &str) -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::parse_float(token);
    #[cfg(not(target_arch = "wasm32"))]
    return token.parse().unwrap_or(f64::NAN);
}

/// The reader: the text, and how far it has been read.
struct Parser<'a> {
    text: &'a [u8],
    source: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn fail(&self, what: &str) -> Error {
        Error(format!("{what} at character {}", self.at))
    }

    /// Skips white space.
    fn blank(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.text.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not white space, not taken.
    fn peek(&mut self) -> Option<u8> {
        self.blank();
        self.text.get(self.at).copied()
    }

    /// Takes `byte` (after white space), or fails.
    fn expect(&mut self, byte: u8) -> Result<(), Error> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail("unexpected character"))
        }
    }

    /// Takes `word` (`null`, `true`, `false`) at the next value.
    fn word(&mut self, word: &str) -> Result<(), Error> {
        self.blank();
        if self.text[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.fail("unexpected value"))
        }
    }

    /// Takes `null` if it is next.
    fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.word("null").is_ok()
    }

    fn boolean(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b't') => self.word("true").map(|()| true),
            Some(b'f') => self.word("false").map(|()| false),
            _ => Err(self.fail("expected true or false")),
        }
    }

    fn number(&mut self) -> Result<Number, Error> {
        self.blank();
        let start = self.at;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.text.get(self.at) {
            self.at += 1;
        }
        let token = &self.source[start..self.at];
        let (negative, digits) = match token.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, token),
        };
        if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
            let mut value: u64 = 0;
            let mut whole = true;
            for byte in digits.bytes() {
                match value.checked_mul(10).and_then(|value| value.checked_add(u64::from(byte - b'0'))) {
                    Some(next) => value = next,
                    None => whole = false,
                }
            }
            if whole && !negative {
                return Ok(Number::Unsigned(value));
            }
            if whole && value <= i64::MAX as u64 + 1 {
                return Ok(Number::Negative((value as i64).wrapping_neg()));
            }
        }
        // A fraction, an exponent, or an integer too large for 64 bits: the browser reads it, as
        // `JSON.parse` would.
        let value = if token.is_empty() { f64::NAN } else { fraction(token) };
        if value.is_nan() {
            self.at = start;
            return Err(self.fail("expected a number"));
        }
        Ok(Number::Fraction(value))
    }

    /// A string value (after its opening quote is next), borrowed from the text when it has no
    /// escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        self.expect(b'"')?;
        let start = self.at;
        let mut owned: Option<String> = None;
        let mut run = start;
        loop {
            let Some(&byte) = self.text.get(self.at) else { return Err(self.fail("unterminated string")) };
            match byte {
                b'"' => {
                    let end = self.at;
                    self.at += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(&self.source[start..end]),
                        Some(mut text) => {
                            text.push_str(&self.source[run..end]);
                            Cow::Owned(text)
                        }
                    });
                }
                b'\\' => {
                    let text = owned.get_or_insert_with(String::new);
                    text.push_str(&self.source[run..self.at]);
                    self.at += 1;
                    let escaped = self.text.get(self.at).copied();
                    self.at += 1;
                    let character = match escaped {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first)
                                && self.text[self.at..].starts_with(b"\\u")
                            {
                                self.at += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(self.fail("invalid surrogate pair"));
                                }
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else {
                                first
                            };
                            // A lone surrogate is no character: replaced, as `JSON.parse` then
                            // a Rust string would.
                            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                        _ => return Err(self.fail("invalid escape")),
                    };
                    text.push(character);
                    run = self.at;
                }
                _ => self.at += 1,
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self.source.get(self.at..self.at + 4).ok_or_else(|| self.fail("invalid escape"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.fail("invalid escape"))?;
        self.at += 4;
        Ok(code)
    }

    /// Reads past the next value, whatever it is.
    fn skip(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'n') => self.word("null"),
            Some(b't' | b'f') => self.boolean().map(drop),
            Some(open @ (b'[' | b'{')) => {
                self.at += 1;
                let close = if open == b'[' { b']' } else { b'}' };
                let mut first = true;
                while !self.close(close, &mut first)? {
                    if open == b'{' {
                        self.string()?;
                        self.expect(b':')?;
                    }
                    self.skip()?;
                }
                Ok(())
            }
            _ => self.number().map(drop),
        }
    }

    /// In a list or object: takes `close` (true: the end) or, after the first member, the comma
    /// before the next.
    fn close(&mut self, close: u8, first: &mut bool) -> Result<bool, Error> {
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(true);
        }
        if !std::mem::take(first) {
            self.expect(b',')?;
        }
        Ok(false)
    }

    fn integer<'de, V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        match self.number()? {
            Number::Unsigned(value) => visitor.visit_u64(value),
            Number::Negative(value) => visitor.visit_i64(value),
            Number::Fraction(_) => Err(self.fail("expected an integer")),
        }
    }

    fn seq<'de, V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.expect(b'[')?;
        let value = visitor.visit_seq(Members { parser: self, first: true })?;
        self.expect(b']')?;
        Ok(value)
    }

    fn map<'de, V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.expect(b'{')?;
        let value = visitor.visit_map(Members { parser: self, first: true })?;
        self.expect(b'}')?;
        Ok(value)
    }
}

impl<'de> de::Deserializer<'de> for &mut Parser<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => visitor.visit_str(&self.string()?),
            Some(b'[') => self.seq(visitor),
            Some(b'{') => self.map(visitor),
            Some(b't' | b'f') => visitor.visit_bool(self.boolean()?),
            Some(b'n') => {
                self.word("null")?;
                visitor.visit_unit()
            }
            _ => match self.number()? {
                Number::Unsigned(value) => visitor.visit_u64(value),
                Number::Negative(value) => visitor.visit_i64(value),
                Number::Fraction(value) => visitor.visit_f64(value),
            },
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(self.boolean()?)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        #[allow(clippy::cast_precision_loss)]
        let value = match self.number()? {
            Number::Unsigned(value) => value as f64,
            Number::Negative(value) => value as f64,
            Number::Fraction(value) => value,
        };
        visitor.visit_f64(value)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(&self.string()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.null() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.word("null")?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.peek() == Some(b'"') {
            // A unit variant: its name.
            let name = self.string()?;
            return visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(&*name));
        }
        // Any other variant: an object of one key, the variant's name.
        self.expect(b'{')?;
        let value = visitor.visit_enum(Variant { parser: self })?;
        self.expect(b'}')?;
        Ok(value)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip()?;
        visitor.visit_unit()
    }
}

/// The members of a list, or the entries of an object.
struct Members<'p, 'a> {
    parser: &'p mut Parser<'a>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Members<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if self.parser.peek() == Some(b']') {
            return Ok(None);
        }
        if !std::mem::take(&mut self.first) {
            self.parser.expect(b',')?;
        }
        seed.deserialize(&mut *self.parser).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Members<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.parser.peek() == Some(b'}') {
            return Ok(None);
        }
        if !std::mem::take(&mut self.first) {
            self.parser.expect(b',')?;
        }
        // Keys are text: a key of a number type is read from its text.
        let key = self.parser.string()?;
        seed.deserialize(Key(&key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.parser.expect(b':')?;
        seed.deserialize(&mut *self.parser)
    }
}

/// An object's key: text, or a number written as text (`{"7": 3}`).
struct Key<'k>(&'k str);

impl Key<'_> {
    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut parser = Parser { text: self.0.as_bytes(), source: self.0, at: 0 };
        let value = parser.integer(visitor)?;
        if parser.at == self.0.len() { Ok(value) } else { Err(Error::named("not a number:", self.0)) }
    }
}

impl<'de> de::Deserializer<'de> for Key<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.0)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(self.0))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i128 u128 f32 f64 char str string bytes byte_buf option unit unit_struct seq
        tuple tuple_struct map struct identifier ignored_any
    }
}

/// A variant written as an object of one key: `{"name": content}`.
struct Variant<'p, 'a> {
    parser: &'p mut Parser<'a>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, '_> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let name = self.parser.string()?;
        let variant = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(&*name))?;
        self.parser.expect(b':')?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        self.parser.word("null")
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(&mut *self.parser)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.parser.seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.parser.map(visitor)
    }
}

/// The writer: JSON text into `out`.
struct Writer<'o> {
    out: &'o mut String,
}

impl Writer<'_> {
    fn unsigned(&mut self, value: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = value;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for &digit in &digits[at..] {
            self.out.push(char::from(digit));
        }
    }

    fn signed(&mut self, value: i64) {
        if value < 0 {
            self.out.push('-');
        }
        self.unsigned(value.unsigned_abs());
    }

    /// `text` as a JSON string, escaped as `JSON.stringify` escapes it.
    fn string(&mut self, text: &str) {
        self.out.push('"');
        for character in text.chars() {
            match character {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                control if u32::from(control) < 0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let code = u32::from(control) as usize;
                    self.out.push_str("\\u00");
                    self.out.push(char::from(HEX[code >> 4]));
                    self.out.push(char::from(HEX[code & 0xf]));
                }
                other => self.out.push(other),
            }
        }
        self.out.push('"');
    }

    /// Opens `{"variant":` for a variant with content.
    fn variant(&mut self, variant: &str) {
        self.out.push('{');
        self.string(variant);
        self.out.push(':');
    }
}

/// A list or object being written: whether a member came before (a comma goes first), and what
/// closes it (with the object around a variant's content).
struct Compound<'w, 'o> {
    writer: &'w mut Writer<'o>,
    first: bool,
    close: &'static str,
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.comma();
        self.writer.string(key);
        self.writer.out.push(':');
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.writer.out.push_str(self.close);
        Ok(())
    }
}

impl<'w, 'o> ser::Serializer for &'w mut Writer<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'o>;
    type SerializeTuple = Compound<'w, 'o>;
    type SerializeTupleStruct = Compound<'w, 'o>;
    type SerializeTupleVariant = Compound<'w, 'o>;
    type SerializeMap = Compound<'w, 'o>;
    type SerializeStruct = Compound<'w, 'o>;
    type SerializeStructVariant = Compound<'w, 'o>;

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.out.push_str(if value { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(value))
    }

    fn serialize_i16(self, value: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(value))
    }

    fn serialize_i32(self, value: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(value))
    }

    fn serialize_i64(self, value: i64) -> Result<(), Error> {
        self.signed(value);
        Ok(())
    }

    fn serialize_u8(self, value: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(value))
    }

    fn serialize_u16(self, value: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(value))
    }

    fn serialize_u32(self, value: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(value))
    }

    fn serialize_u64(self, value: u64) -> Result<(), Error> {
        self.unsigned(value);
        Ok(())
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(value))
    }

    /// Written by the browser, as `JSON.stringify` writes a number (`null` for one that is not
    /// finite).
    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        let text = js_sys::JSON::stringify(&wasm_bindgen::JsValue::from_f64(value))
            .map_err(|_| Error("not a number".to_owned()))?;
        self.out.push_str(&String::from(text));
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.string(value.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.string(value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        let mut list = self.serialize_seq(Some(value.len()))?;
        for byte in value {
            list.element(byte)?;
        }
        list.end()
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push_str("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.string(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(variant);
        value.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w, 'o>, Error> {
        self.out.push('[');
        Ok(Compound { writer: self, first: true, close: "]" })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'o>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'w, 'o>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'o>, Error> {
        self.variant(variant);
        self.out.push('[');
        Ok(Compound { writer: self, first: true, close: "]}" })
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w, 'o>, Error> {
        self.out.push('{');
        Ok(Compound { writer: self, first: true, close: "}" })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'w, 'o>, Error> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'o>, Error> {
        self.variant(variant);
        self.out.push('{');
        Ok(Compound { writer: self, first: true, close: "}}" })
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    /// A key is written as text: a key that is not text (a number) is quoted, as serde_json
    /// writes it.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        let start = self.writer.out.len();
        key.serialize(&mut *self.writer)?;
        if !self.writer.out[start..].starts_with('"') {
            self.writer.out.insert(start, '"');
            self.writer.out.push('"');
        }
        self.writer.out.push(':');
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use qol_shared::answers::{RawAnswer, Response};
    use qol_shared::api::{ErrorCode, SubmissionRequest};
    use qol_shared::instrument::InstrumentId;
    use qol_shared::{ClientId, Language, Timestamp};

    use super::{from_str, to_string};
    use crate::local::{Delivery, Draft, OutboxEntry};

    fn draft() -> Draft {
        Draft {
            key: "weekly-03".to_owned(),
            assessment_id: Some(-7),
            label: "Week \"3\"\n\u{1}é😀".to_owned(),
            labels: BTreeMap::from([
                ("en".to_owned(), "Week 3".to_owned()),
                ("zh-Hans".to_owned(), "第3周".to_owned()),
            ]),
            instruments: vec![InstrumentId::QlqC30, InstrumentId::QlqCx24],
            client_id: ClientId::from_random_bytes([7; 16]),
            answers: BTreeMap::from([
                (7, Response::Code(3)),
                (10, Response::Code(1)),
                (50, Response::NotApplicable),
            ]),
            position: 12,
            call_me: None,
            only_items: vec![1, 2],
            help_requested: true,
            editing: false,
        }
    }

    fn entry(delivery: Delivery) -> OutboxEntry {
        OutboxEntry {
            key: "baseline".to_owned(),
            label: "Baseline".to_owned(),
            labels: BTreeMap::new(),
            request: SubmissionRequest {
                client_id: ClientId::from_random_bytes([1; 16]),
                assessment_id: None,
                completed_at: Timestamp::parse("2026-03-16T09:30:00.123456+08:00").unwrap(),
                language: Language::Chinese,
                answers: vec![RawAnswer::code(1, 4), RawAnswer::not_applicable(50)],
                call_me: true,
            },
            delivery,
            attempts: 3,
        }
    }

    /// Writes what serde_json writes (which wrote the phone's drafts before), and reads it back.
    #[test]
    fn writes_as_serde_json_does_and_reads_it_back() {
        let draft = draft();
        let text = to_string(&draft).unwrap();
        assert_eq!(text, serde_json::to_string(&draft).unwrap());
        assert!(
            text.contains(r#""answers":{"7":{"code":3},"10":{"code":1},"50":"not_applicable"}"#),
            "{text}"
        );
        assert_eq!(from_str::<Draft>(&text).unwrap(), draft);
        let deliveries = [
            Delivery::Saved,
            Delivery::Sending,
            Delivery::Sent { received_at: "2026-03-16T01:30:00.000000Z".to_owned() },
            Delivery::Refused { status: 409, code: ErrorCode::WindowClosed, message: "closed".to_owned() },
        ];
        for delivery in deliveries {
            let entry = entry(delivery);
            let text = to_string(&entry).unwrap();
            assert_eq!(text, serde_json::to_string(&entry).unwrap());
            assert_eq!(from_str::<OutboxEntry>(&text).unwrap(), entry);
        }
    }

    #[test]
    fn reads_any_json_layout_and_escape() {
        let text = " { \"editing\" : false , \"key\":\"k\\u00e9\\ud83d\\ude00\\/\\t\", \"unknown\": [1, {\"a\": null}, -2e3, true],\n\
                    \"assessment_id\": null, \"label\": \"\", \"instruments\": [\"qlq-c30\"], \"client_id\": \"07070707-0707-4707-8707-070707070707\",\n\
                    \"answers\": {}, \"position\": 0, \"call_me\": true } ";
        let draft = from_str::<Draft>(text).unwrap();
        assert_eq!(draft.key, "ké😀/\t");
        assert_eq!(draft.call_me, Some(true));
        assert!(draft.labels.is_empty() && draft.only_items.is_empty());
        let kept = r#"{"state":"refused","message":"no","code":"not_a_code_this_version_knows"}"#;
        assert_eq!(
            from_str::<Delivery>(kept).unwrap(),
            Delivery::Refused { status: 0, code: ErrorCode::Other, message: "no".to_owned() }
        );
        assert_eq!(from_str::<i64>("-9223372036854775808").unwrap(), i64::MIN);
        assert_eq!(from_str::<u64>("18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(from_str::<Option<bool>>("null").unwrap(), None);
        assert_eq!(
            to_string(&Language::Chinese).unwrap(),
            serde_json::to_string(&Language::Chinese).unwrap()
        );
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(from_str::<Delivery>(r#"{"state":"sent"}"#).unwrap_err(), "missing field `received_at`");
        assert_eq!(from_str::<Delivery>(r#"{"state":"lost"}"#).unwrap_err(), "unknown variant `lost`");
        assert_eq!(from_str::<Vec<u8>>("[1, 2] x").unwrap_err(), "text after the JSON value at character 7");
        assert_eq!(from_str::<u8>("300").unwrap_err(), "invalid value");
        assert_eq!(from_str::<String>("\"open").unwrap_err(), "unterminated string at character 5");
        assert!(from_str::<Vec<u8>>("[1,]").is_err());
        assert!(from_str::<bool>("").is_err());
    }
}
