//! Two-level cache: module scope (lives as long as the warm instance) in front of Auth0's
//! `api.cache` (survives cold starts, best effort, 64-byte keys, 4 kB values). Both are
//! shared with other executions, so reads are recorded on the execution's tape and writes
//! made live only (`tape`).

#[allow(unused_imports)]
use crate::prelude::*;

use super::global::Global;
use super::raw::ApiCache;
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

static MODULE: Global<Vec<(String, String, f64)>> = Global::new(Vec::new());

/// Upper bound on module-scope entries (role look-ups for many names stay bounded).
const MODULE_MAX: usize = 256;

/// The cache as seen by one execution.
pub struct Cache {
    api: Option<ApiCache>,
}

fn num(v: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(v, &JsValue::from_str(key)).ok()?.as_f64()
}

impl Cache {
    /// Wraps this execution's `api.cache` (absent in odd hosts: module scope only).
    pub fn new(api: Option<ApiCache>) -> Cache {
        Cache { api }
    }

    /// The value of `key` if it has not expired at `now` (epoch ms).
    pub fn get(&self, key: &str, now: f64) -> Option<String> {
        super::tape::text(|| self.read(key, now))
    }

    fn read(&self, key: &str, now: f64) -> Option<String> {
        let hit = MODULE.with(|m| {
            let mut m = m.borrow_mut();
            m.retain(|(_, _, exp)| *exp > now);
            m.iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, v, _)| v.clone())
        });
        if hit.is_some() {
            return hit;
        }
        let record = self.api.as_ref()?.get(key).ok()?;
        // Auth0 returns `{value, expires_at}`; some local test harnesses the bare value. A
        // value without expires_at is trusted for a minute only.
        let (value, expires_at) = match record.as_string() {
            Some(bare) => (bare, now + 60_000.0),
            None => (
                Reflect::get(&record, &JsValue::from_str("value"))
                    .ok()?
                    .as_string()?,
                num(&record, "expires_at").unwrap_or(now + 60_000.0),
            ),
        };
        if expires_at <= now || value.is_empty() {
            return None;
        }
        remember(key, &value, expires_at);
        Some(value)
    }

    /// Stores `value` for `ttl_ms` in both levels; an `api.cache` refusal (size limits) is
    /// not an error: the module level still holds it.
    pub fn set(&self, key: &str, value: &str, ttl_ms: f64, now: f64) {
        if ttl_ms <= 0.0 || !super::tape::live() {
            return;
        }
        remember(key, value, now + ttl_ms);
        if let Some(api) = &self.api {
            let opts = Object::new();
            let _ = Reflect::set(
                &opts,
                &JsValue::from_str("ttl"),
                &JsValue::from_f64((ttl_ms as u64) as f64),
            );
            let _ = api.set(key, value, &opts);
        }
    }

    /// Drops `key` from both levels.
    pub fn delete(&self, key: &str) {
        if !super::tape::live() {
            return;
        }
        MODULE.with(|m| m.borrow_mut().retain(|(k, _, _)| k != key));
        if let Some(api) = &self.api {
            let _ = api.delete(key);
        }
    }
}

fn remember(key: &str, value: &str, expires_at: f64) {
    MODULE.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|(k, _, _)| k != key);
        if m.len() >= MODULE_MAX {
            m.remove(0);
        }
        m.push((key.to_owned(), value.to_owned(), expires_at));
    });
}
