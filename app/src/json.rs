//! JSON through the browser: `JSON.parse` and `JSON.stringify`, with serde-wasm-bindgen between
//! the JavaScript values and our types. The phone's bundle carries no JSON parser of its own
//! (serde_json was a tenth of it; issue 17's size budget).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `text` read as a `T`; the error says why, in English, for the console and the logs.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|error| error.to_string())
}

/// `value` as JSON text: maps as objects and `None` as `null`, as serde_json writes them.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = value.serialize(&serializer).map_err(|error| error.to_string())?;
    js_sys::JSON::stringify(&value).map(String::from).map_err(|_| "not serialisable".to_owned())
}
