//! A minimal JSON value: the host (JS `JSON.parse` + serde-wasm-bindgen, or serde_json in
//! tests) does the parsing, so the wasm ships no JSON parser, only this visitor and a writer.

use crate::core::text::split_byte;
#[allow(unused_imports)]
use crate::prelude::*;

use ::core::fmt;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Builds an object from key/value pairs.
pub fn obj(members: &[(&str, Json)]) -> Json {
    Json::Obj(
        members
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// A JSON value with object keys kept in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null` (also what JS `undefined` becomes).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Any number (JSON numbers are doubles on the JS side).
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, as ordered key/value pairs.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object, or `None` (also for non-objects).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a `.`-separated path of object keys.
    pub fn path(&self, dotted: &str) -> Option<&Json> {
        split_byte(dotted, b'.').try_fold(self, |v, k| v.get(k))
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean value, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// True for `null` (and a missing JS value).
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// A short name of the value's type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "an array",
            Json::Obj(_) => "an object",
        }
    }
}

/// JSON equality: numbers by value, objects regardless of key order.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Arr(x), Json::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Json::Obj(x), Json::Obj(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Appends `s` to `out` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(hex_digit(c as u8 >> 4));
                out.push(hex_digit(c as u8 & 0xf));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `["a","b"]` for a list of strings.
pub fn str_array<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    write_str_array(&mut out, items);
    out
}

/// Appends `["a","b"]` for a list of strings to `out`.
pub fn write_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s.as_ref());
    }
    out.push(']');
}

pub(crate) fn hex_digit(n: u8) -> char {
    char::from(b"0123456789ABCDEF"[(n & 0xf) as usize])
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Json::Arr(items))
    }
    // The defaults of the methods below report serde's `Unexpected`, whose Display pulls
    // float formatting (~15 kB) into the wasm; JS values never take these paths anyway.
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Json, E> {
        Err(E::custom("unsupported value (bytes)"))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Json, E> {
        Ok(Json::Num(v as f64))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Json, E> {
        Ok(Json::Num(v as f64))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, _: A) -> Result<Json, A::Error> {
        Err(serde::de::Error::custom("unsupported value (enum)"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            members.push((k, v));
        }
        Ok(Json::Obj(members))
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Num(n) => s.serialize_f64(*n),
            Json::Str(v) => s.serialize_str(v),
            Json::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Json::Obj(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn reads_nested_values_and_paths() {
        let v = parse(r#"{"a":{"b":[1,true,null,"x"]},"c":2.5}"#);
        assert_eq!(
            v.path("a.b").and_then(Json::as_array).map(|a| a.len()),
            Some(4)
        );
        assert_eq!(v.get("c").and_then(Json::as_f64), Some(2.5));
        assert_eq!(v.path("a.missing"), None);
        assert_eq!(v.path("c.deeper"), None);
    }

    #[test]
    fn writes_escaped_strings_that_round_trip() {
        let nasty = "q\"b\\s\n\t\u{1}é🙂";
        let mut out = String::new();
        write_str(&mut out, nasty);
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, nasty);
        assert_eq!(str_array(&["rol_1", "x\"y"]), r#"["rol_1","x\"y"]"#);
    }
}
