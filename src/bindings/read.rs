//! Reads the parts of Auth0's `event` the core uses, and nothing else, so that no other part
//! (request bodies, identities' profile data) can make the read fail, and a part that cannot
//! be read in full is cut where it is instead of failing the whole event.
//!
//! `secrets` is read first, so the policy's own `on_error` applies whatever comes after.
//! Inside metadata (user-writable through a user-scoped Management API token) a value nested
//! deeper than [`MAX_DEPTH`], past the size budget, or behind a throwing getter or proxy trap
//! reads as `null` and its path is recorded: the core treats conditions on it as unknown
//! (`core::plan::UNKNOWN`), never as true or false.

#[allow(unused_imports)]
use crate::prelude::*;

use super::raw::object_keys;
use crate::core::decimal::decimal;
use crate::core::json::Json;
use js_sys::Reflect;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

// The Action's build finds the function in the shim (build.js copies it there); the
// bindings' tests import the same file as a module.
#[cfg_attr(feature = "bare", wasm_bindgen)]
#[cfg_attr(not(feature = "bare"), wasm_bindgen(module = "/js-shim/value-kind.js"))]
extern "C" {
    /// What kind of value `v` is, in one call (`js-shim/value-kind.js`; never throws): a
    /// string is `-1 - length`, else one of the `KIND_*` numbers.
    #[wasm_bindgen(js_name = provisionValueKind)]
    fn value_kind(v: &JsValue) -> i32;
}

const KIND_UNDEFINED: i32 = 0;
/// A function, symbol or bigint: JSON has no such value.
const KIND_OTHER: i32 = 1;
const KIND_NUMBER: i32 = 2;
const KIND_FALSE: i32 = 3;
const KIND_TRUE: i32 = 4;
const KIND_NULL: i32 = 5;
const KIND_ARRAY: i32 = 6;
const KIND_OBJECT: i32 = 7;
// 8: an object `Array.isArray` throws for (a revoked proxy): cut.

/// Deepest nesting read inside metadata (Auth0's own metadata is shallow; the wasm stack is
/// bounded).
pub const MAX_DEPTH: u32 = 32;
/// Values (nodes) read per metadata object, and outside them: bounds the work a huge or
/// cyclic object can cause.
const MAX_NODES: u32 = 20_000;
/// The same for a parsed policy or reply (a reply of up to 1 MB is accepted, and each of its
/// UTF-16 string units is counted as 3 bytes).
const MAX_VALUE_NODES: u32 = 200_000;
const MAX_VALUE_BYTES: usize = 4 << 20;
/// String bytes read per metadata object, and outside them (Auth0 caps metadata far below
/// this).
const MAX_BYTES: usize = 1 << 20;
/// Paths recorded; past this the whole metadata object is marked unreadable.
const MAX_CUTS: usize = 16;
/// Array items read (identities, roles); a longer list is cut.
const MAX_ITEMS: u32 = 1_000;

/// The shape of what is read.
enum Shape {
    /// A primitive; an object or array reads as an empty one (the core names its type).
    Value,
    /// An object of strings (`secrets`); other members are skipped.
    Strings,
    /// Any JSON value, up to [`MAX_DEPTH`] (metadata).
    Deep,
    /// These members only.
    Obj(&'static [(&'static str, Shape)]),
    /// An array of this shape.
    Items(&'static Shape),
}

use Shape::{Deep, Items, Obj, Strings, Value};

/// What `core::event::parse_event` reads, secrets first.
static EVENT: Shape = Obj(&[
    ("secrets", Strings),
    (
        "user",
        Obj(&[
            ("user_id", Value),
            ("email", Value),
            ("email_verified", Value),
            ("app_metadata", Deep),
            ("user_metadata", Deep),
            (
                "identities",
                Items(&Obj(&[("provider", Value), ("connection", Value)])),
            ),
        ]),
    ),
    ("connection", Obj(&[("name", Value), ("strategy", Value)])),
    ("client", Obj(&[("client_id", Value)])),
    ("authorization", Obj(&[("roles", Items(&Value))])),
    ("stats", Obj(&[("logins_count", Value)])),
    ("transaction", Obj(&[("protocol", Value)])),
    ("organization", Obj(&[("id", Value), ("name", Value)])),
]);

/// The event as far as it could be read, and the dotted paths of what could not.
pub struct ReadEvent {
    /// The members the core uses, unreadable values as `null`.
    pub event: Json,
    /// Paths from the event root, e.g. `user.user_metadata.a.b`.
    pub unreadable: Vec<String>,
    /// The first long string in `event` (the `POLICY` secret): where its copy is, and the
    /// [`BIG`] generation it is the text of.
    first_big: Option<(*const u8, u32)>,
}

impl ReadEvent {
    /// A number that is the same for two reads only when `s` (a string of this event) is a
    /// long string `===` to the one read before: a cache keyed by it needs no text
    /// comparison. A different number does not mean a different text.
    pub fn generation(&self, s: &str) -> Option<u32> {
        self.first_big
            .filter(|(at, _)| *at == s.as_ptr())
            .map(|(_, g)| g)
    }
}

/// Reads `event` (never throws).
pub fn read_event(event: &JsValue) -> ReadEvent {
    let mut r = Reader::new(MAX_NODES, MAX_BYTES);
    let event = r.shaped(event, &EVENT);
    ReadEvent {
        event,
        unreadable: r.cuts,
        first_big: r.first_big,
    }
}

/// Reads any JSON-like value (a parsed policy or reply) within the same bounds, with the
/// paths (from the value's root) of what could not be read.
pub fn read_value(v: &JsValue) -> (Json, Vec<String>) {
    let mut r = Reader::new(MAX_VALUE_NODES, MAX_VALUE_BYTES);
    let j = r.shaped(v, &Deep);
    (j, r.cuts)
}

struct Reader {
    max_nodes: u32,
    max_bytes: usize,
    nodes: u32,
    bytes: usize,
    cuts: Vec<String>,
    path: String,
    /// Length of `path` at the start of the current `Deep` read (its root).
    root: usize,
    /// See [`ReadEvent::generation`].
    first_big: Option<(*const u8, u32)>,
}

fn get(obj: &JsValue, key: &JsValue) -> Result<JsValue, JsValue> {
    Reflect::get(obj, key)
}

/// The shapes' field names as JS strings, made once per instance: decoding a key from wasm
/// memory at every read was a fifth of a warm no-network login. By address: the names are
/// the `'static` strings of the shape tables.
static KEYS: super::global::Global<Vec<(usize, JsValue)>> = super::global::Global::new(Vec::new());

/// The last long string read (the `POLICY` secret, read at every login), by JS equality:
/// `===` in JS is far cheaper than copying kilobytes into wasm memory again. Numbered: each
/// string not `===` to the one before gets the next generation.
static BIG: super::global::Global<(u32, Option<(JsValue, String)>)> =
    super::global::Global::new((0, None));

/// `js` as a `String`, and the generation of a long one.
fn big_string(v: &JsValue, len: usize) -> (String, Option<u32>) {
    if len < 256 {
        return (v.as_string().unwrap_or_default(), None);
    }
    BIG.with(|b| {
        let mut b = b.borrow_mut();
        if let Some((_, s)) = b.1.as_ref().filter(|(k, _)| k == v) {
            return (s.clone(), Some(b.0));
        }
        let s = v.as_string().unwrap_or_default();
        b.0 = b.0.wrapping_add(1);
        b.1 = Some((v.clone(), s.clone()));
        (s, Some(b.0))
    })
}

/// `obj[key]` for a shape's field name.
fn get_field(obj: &JsValue, key: &'static str) -> Result<JsValue, JsValue> {
    let at = key.as_ptr() as usize;
    // Cloned out: a getter on the event runs no code of ours while the cell is borrowed.
    let k = KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some((_, k)) = keys.iter().find(|(p, _)| *p == at) {
            return k.clone();
        }
        let k = JsValue::from_str(key);
        keys.push((at, k.clone()));
        k
    });
    get(obj, &k)
}

impl Reader {
    fn new(max_nodes: u32, max_bytes: usize) -> Self {
        Reader {
            max_nodes,
            max_bytes,
            nodes: 0,
            bytes: 0,
            cuts: Vec::new(),
            path: String::new(),
            root: 0,
            first_big: None,
        }
    }

    /// Records the current path as unreadable (or, past [`MAX_CUTS`], the whole `Deep` root).
    fn cut(&mut self) -> Json {
        let path = if self.cuts.len() < MAX_CUTS {
            &self.path[..]
        } else {
            self.path.get(..self.root).unwrap_or_default()
        };
        if !self.cuts.iter().any(|c| c == path) {
            self.cuts.push(path.to_owned());
        }
        Json::Null
    }

    fn push(&mut self, key: &str) -> usize {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(key);
        len
    }

    /// A primitive, or the kind of a non-primitive (an empty array/object).
    fn value(&mut self, v: &JsValue) -> Json {
        let kind = value_kind(v);
        self.value_of(v, kind)
    }

    /// [`Self::value`] of a `kind` already asked for.
    fn value_of(&mut self, v: &JsValue, kind: i32) -> Json {
        match kind {
            KIND_FALSE | KIND_TRUE => Json::Bool(kind == KIND_TRUE),
            KIND_NUMBER => Json::Num(v.as_f64().unwrap_or_default()),
            ..=-1 => {
                // Counted before copying into wasm memory (UTF-16 units, ≤ 3 UTF-8 bytes each).
                let len = (-1 - kind) as usize;
                self.bytes += len * 3;
                if self.bytes > self.max_bytes {
                    return self.cut();
                }
                let (s, generation) = big_string(v, len);
                if let (None, Some(g)) = (self.first_big, generation) {
                    self.first_big = Some((s.as_ptr(), g));
                }
                Json::Str(s)
            }
            KIND_UNDEFINED | KIND_OTHER | KIND_NULL => Json::Null,
            KIND_ARRAY => Json::Arr(Vec::new()),
            KIND_OBJECT => Json::Obj(Vec::new()),
            _ => self.cut(),
        }
    }

    fn shaped(&mut self, v: &JsValue, shape: &'static Shape) -> Json {
        let kind = value_kind(v);
        self.shaped_of(v, kind, shape)
    }

    /// [`Self::shaped`] of a `kind` already asked for.
    fn shaped_of(&mut self, v: &JsValue, kind: i32, shape: &'static Shape) -> Json {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return self.cut();
        }
        match shape {
            Value => self.value_of(v, kind),
            Deep => {
                // Each metadata object has its own budget: a huge one cannot starve the
                // fields read after it.
                let saved = (
                    ::core::mem::replace(&mut self.root, self.path.len()),
                    ::core::mem::take(&mut self.nodes),
                    ::core::mem::take(&mut self.bytes),
                );
                let j = self.deep(v, kind, 0);
                (self.root, self.nodes, self.bytes) = saved;
                j
            }
            Strings | Obj(_) => match self.value_of(v, kind) {
                Json::Obj(_) => {
                    let mut members = Vec::new();
                    if let Obj(fields) = shape {
                        for (k, s) in fields.iter() {
                            let len = self.push(k);
                            match get_field(v, k).map(|x| (value_kind(&x), x)) {
                                Ok((KIND_UNDEFINED, _)) => {}
                                Ok((kind, x)) => {
                                    let j = self.shaped_of(&x, kind, s);
                                    members.push(((*k).to_owned(), j))
                                }
                                Err(_) => members.push(((*k).to_owned(), self.cut())),
                            }
                            self.path.truncate(len);
                        }
                    } else {
                        self.members(v, &mut members, |r, x| match r.value(x) {
                            s @ Json::Str(_) => Some(s),
                            _ => None,
                        });
                    }
                    Json::Obj(members)
                }
                other => other,
            },
            Items(item) => match self.value_of(v, kind) {
                Json::Arr(_) => {
                    let mut items = Vec::new();
                    let n = get(v, &"length".into())
                        .ok()
                        .and_then(|n| n.as_f64())
                        .unwrap_or(0.0);
                    if n > MAX_ITEMS as f64 {
                        return self.cut();
                    }
                    for i in 0..n as u32 {
                        let len = self.push(&decimal(i));
                        let j = match get(v, &JsValue::from(i)) {
                            Ok(x) => self.shaped(&x, item),
                            Err(_) => self.cut(),
                        };
                        items.push(j);
                        self.path.truncate(len);
                    }
                    Json::Arr(items)
                }
                other => other,
            },
        }
    }

    /// Reads every own enumerable member of `v` through `each` (skipping `None`s).
    fn members(
        &mut self,
        v: &JsValue,
        out: &mut Vec<(String, Json)>,
        mut each: impl FnMut(&mut Self, &JsValue) -> Option<Json>,
    ) {
        let keys = match object_keys(v) {
            Ok(k) => k,
            Err(_) => {
                self.cut();
                return;
            }
        };
        for key in keys.iter() {
            if self.nodes > self.max_nodes {
                // Past the budget the rest of this object is not read at all.
                self.cut();
                return;
            }
            let k = key.as_string().unwrap_or_default();
            let len = self.push(&k);
            let j = match get(v, &key) {
                Ok(x) => each(self, &x),
                Err(_) => Some(self.cut()),
            };
            if let Some(j) = j {
                out.push((k, j));
            }
            self.path.truncate(len);
        }
    }

    fn deep(&mut self, v: &JsValue, kind: i32, depth: u32) -> Json {
        if depth > MAX_DEPTH {
            return self.cut();
        }
        let container = self.value_of(v, kind);
        if !matches!(container, Json::Arr(_) | Json::Obj(_)) {
            return container;
        }
        let mut members = Vec::new();
        self.members(v, &mut members, |r, x| {
            r.nodes += 1;
            Some(r.deep(x, value_kind(x), depth + 1))
        });
        match container {
            // An array's own enumerable keys are its indices, in order.
            Json::Arr(_) => Json::Arr(members.into_iter().map(|(_, j)| j).collect()),
            _ => Json::Obj(members),
        }
    }
}
