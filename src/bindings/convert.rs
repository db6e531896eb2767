//! Conversions across the JS boundary: errors both ways, and JS values into the core's `Json`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::core::error::Error;
use crate::core::json::Json;
use wasm_bindgen::{JsCast, JsValue};

impl From<JsValue> for Error {
    fn from(v: JsValue) -> Self {
        Error::Js(describe(&v))
    }
}

impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        js_sys::Error::new(&e.message()).into()
    }
}

/// A short description of a thrown JS value (`Error.message`, or the string itself).
pub fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        let mut s: String = e.name().into();
        s.push_str(": ");
        s.push_str(&String::from(e.message()));
        // fetch failures put the useful part (ECONNREFUSED...) in `cause`.
        if let Ok(cause) = js_sys::Reflect::get(v, &"cause".into()) {
            if let Some(c) = cause.dyn_ref::<js_sys::Error>() {
                s.push_str(" (");
                s.push_str(&String::from(c.message()));
                s.push(')');
            }
        }
        s
    } else {
        v.as_string()
            .unwrap_or_else(|| "a non-Error value was thrown".into())
    }
}

pub use super::read::MAX_DEPTH;

/// Reads a plain JS value (a parsed policy or response) into `Json`, refusing one that
/// cannot be read in full (nested deeper than [`MAX_DEPTH`], too large, a throwing getter).
///
/// Measured choice: `serde_wasm_bindgen::from_value` does the same walk, but its
/// `deserialize_any` error path links serde's `Unexpected` and with it float formatting
/// (~19 kB of wasm); the event reader's walk is shared instead. Functions, symbols and
/// bigints, which JSON cannot hold, read as `null`.
pub fn to_json(v: &JsValue) -> Result<Json, String> {
    let (j, cuts) = super::read::read_value(v);
    match cuts.first() {
        None => Ok(j),
        Some(at) => {
            let mut m = String::from("value nested too deeply or too large at $");
            if !at.is_empty() {
                m.push('.');
                m.push_str(at);
            }
            Err(m)
        }
    }
}

/// `JSON.parse(text)` into `Json`; `None` for an empty body, `Err` for anything unparsable.
pub fn parse_json_text(text: &str) -> Result<Option<Json>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let v = js_sys::JSON::parse(text).map_err(|e| describe(&e))?;
    to_json(&v).map(Some)
}

/// Builds the JS value of a `Json` (for claims, metadata and request bodies).
pub fn from_json(j: &Json) -> JsValue {
    match j {
        Json::Null => JsValue::NULL,
        Json::Bool(b) => JsValue::from_bool(*b),
        Json::Num(n) => JsValue::from_f64(*n),
        Json::Str(s) => JsValue::from_str(s),
        Json::Arr(items) => items
            .iter()
            .map(from_json)
            .collect::<js_sys::Array>()
            .into(),
        Json::Obj(members) => {
            let o = js_sys::Object::new();
            for (k, v) in members {
                let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &from_json(v));
            }
            o.into()
        }
    }
}

/// `JSON.stringify` of a `Json` (the host serialises numbers, so the wasm needs no float
/// formatting).
pub fn stringify(j: &Json) -> String {
    js_sys::JSON::stringify(&from_json(j))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// Builds a JS array of strings.
pub fn str_array(items: &[String]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<js_sys::Array>()
        .into()
}
