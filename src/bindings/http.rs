//! One HTTP exchange with the tenant over the global `fetch`, with a timeout, no redirects
//! (so nothing can steer a request to another origin) and defensive body handling.

use super::convert::{describe, parse_json_text, stringify};
use super::raw::{abort_signal_timeout, fetch, Response};
use crate::core::json::Json;
use crate::core::mgmt::{check_path, Body, Request};
use crate::error::Error;
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A response, its body already read and parsed.
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

fn is_abort(e: &JsValue) -> bool {
    Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "TimeoutError" || n == "AbortError")
}

/// Sends `req` to `origin`, giving up after `timeout_ms`.
pub async fn send(
    origin: &str,
    req: &Request,
    bearer: Option<&str>,
    timeout_ms: f64,
) -> Result<Reply, Error> {
    let call = req.call;
    check_path(req)?;
    if timeout_ms < 1.0 {
        return Err(Error::Timeout { call });
    }
    let headers = Object::new();
    set(&headers, "accept", &"application/json".into());
    if let Some(t) = bearer {
        let mut v = String::from("Bearer ");
        v.push_str(t);
        set(&headers, "authorization", &v.into());
    }
    let init = Object::new();
    set(&init, "method", &req.method.into());
    set(&init, "redirect", &"error".into());
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
    set(&init, "signal", &abort_signal_timeout(timeout_ms)?);
    let mut url = String::from(origin);
    url.push_str(&req.path);

    let network = |e: JsValue| {
        if is_abort(&e) {
            Error::Timeout { call }
        } else {
            Error::Network {
                call,
                message: describe(&e),
            }
        }
    };
    let resp: Response = JsFuture::from(fetch(&url, &init).map_err(network)?)
        .await
        .map_err(network)?
        .unchecked_into();
    let status = resp.status();
    let headers = resp.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let retry_after = header("retry-after");
    let ratelimit_reset = header("x-ratelimit-reset");
    let ratelimit_remaining = header("x-ratelimit-remaining");
    let ratelimit_limit = header("x-ratelimit-limit");
    let text = JsFuture::from(resp.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    let body = match parse_json_text(&text) {
        Ok(b) => b,
        Err(_) if (200..300).contains(&status) => {
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
        retry_after,
        ratelimit_reset,
        ratelimit_remaining,
        ratelimit_limit,
    })
}
