//! One HTTP exchange with the tenant, as data: the request the shim is asked to `fetch`
//! (with a timeout, no redirects, so nothing can steer it to another origin) and the reply
//! it answers with, checked here. The shim reads at most 1 MB of a body (its `MAX_BODY`): a
//! page of 100 roles is ~10 kB, and a body read whole would grow memory for the container's life.

#[allow(unused_imports)]
use crate::prelude::*;

use super::convert::{describe, parse_json_text, stringify};
use crate::core::error::{Call, Error};
use crate::core::json::Json;
use crate::core::mgmt::{check_path, Body, Request};
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// A response, its body already read and parsed.
#[derive(Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed JSON body; `None` when empty (e.g. 204) or, for errors, not JSON.
    pub body: Option<Json>,
    /// `Retry-After`, when sent.
    pub retry_after: Option<String>,
    /// `x-ratelimit-reset` (UNIX epoch seconds), when sent.
    pub ratelimit_reset: Option<String>,
    /// `x-ratelimit-remaining`, when sent.
    pub ratelimit_remaining: Option<String>,
    /// `x-ratelimit-limit` (the bucket size), when sent.
    pub ratelimit_limit: Option<String>,
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Reflect.set on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The shim's `fetch` order for `req` to `origin`: `{fetch: url, method, headers, body,
/// timeout}`. Fails for a path the core would not send (`check_path`).
pub fn ask_for(
    origin: &str,
    req: &Request,
    bearer: Option<&str>,
    timeout_ms: f64,
) -> Result<JsValue, Error> {
    check_path(req)?;
    let headers = Object::new();
    set(&headers, "accept", &"application/json".into());
    if let Some(t) = bearer {
        let mut v = String::from("Bearer ");
        v.push_str(t);
        set(&headers, "authorization", &v.into());
    }
    let init = Object::new();
    set(&init, "method", &req.method.into());
    match &req.body {
        Some(Body::Form(text)) => {
            set(
                &headers,
                "content-type",
                &"application/x-www-form-urlencoded".into(),
            );
            set(&init, "body", &text.into());
        }
        Some(Body::Json(j)) => {
            set(&headers, "content-type", &"application/json".into());
            set(&init, "body", &stringify(j).into());
        }
        None => {}
    }
    set(&init, "headers", &headers);
    set(&init, "timeout", &timeout_ms.into());
    let mut url = String::from(origin);
    url.push_str(&req.path);
    set(&init, "fetch", &url.into());
    Ok(init.into())
}

/// The shim's answer to a `fetch` order: `{status, headers: [retry-after, x-ratelimit-reset,
/// x-ratelimit-remaining, x-ratelimit-limit], text}` (`text` null when the body was over
/// 1 MB), or `{error: "timeout" | "network", cause}` (`cause`: what `fetch` threw).
pub fn reply_of(call: Call, answer: &JsValue) -> Result<Reply, Error> {
    let error = get(answer, "error");
    if let Some(kind) = error.as_string() {
        return Err(if kind == "timeout" {
            Error::Timeout { call }
        } else {
            Error::Network {
                call,
                message: describe(&get(answer, "cause")),
            }
        });
    }
    let status = get(answer, "status").as_f64().unwrap_or_default() as u16;
    let headers = get(answer, "headers");
    let header = |i: u32| {
        Reflect::get_u32(&headers, i)
            .ok()
            .and_then(|v| v.as_string())
    };
    let ok = (200..300).contains(&status);
    let text = match get(answer, "text").as_string() {
        Some(t) => t,
        None if ok => {
            return Err(Error::BadResponse {
                call,
                message: "body over 1 MB",
            })
        }
        // An error page's status is what matters (a 503 is retried): its body is dropped.
        None => String::new(),
    };
    let body = match parse_json_text(&text) {
        Ok(b) => b,
        Err(_) if ok => {
            return Err(Error::BadResponse {
                call,
                message: "body is not valid JSON",
            })
        }
        // Error pages (HTML from a proxy, truncated JSON) still carry a useful status.
        Err(_) => None,
    };
    Ok(Reply {
        status,
        body,
        retry_after: header(0),
        ratelimit_reset: header(1),
        ratelimit_remaining: header(2),
        ratelimit_limit: header(3),
    })
}
