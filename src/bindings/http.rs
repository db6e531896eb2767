//! One HTTP exchange with the tenant over the global `fetch`, with a timeout, no redirects
//! (so nothing can steer a request to another origin) and defensive body handling.

use super::convert::{describe, parse_json_text, stringify};
use super::raw::{abort_signal_any, abort_signal_timeout, fetch, Response, TextDecoder};
use crate::core::error::Error;
use crate::core::json::Json;
use crate::core::mgmt::{check_path, Body, Request};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Largest reply body read: a page of 100 roles is ~10 kB, so anything near this is not the
/// API we talk to, and reading it whole would grow the wasm memory for the container's life.
pub const MAX_BODY: usize = 1 << 20;

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

fn aborted(signal: &JsValue) -> bool {
    Reflect::get(signal, &JsValue::from_str("aborted"))
        .ok()
        .and_then(|a| a.as_bool())
        .unwrap_or(false)
}

/// The request's signal: its timeout joined to the execution's `ended` signal (when the
/// host has `AbortSignal.any`: Node 18.17+/20.3+; else the timeout alone). Returned with the
/// timeout signal itself: the caller must hold both until the exchange is over. Node holds
/// an `AbortSignal.timeout` weakly, and so do fetch (undici) and `AbortSignal.any` for their
/// signals: one that only they refer to can be collected before it fires, and the request
/// then hangs until the watchdog (seen: 7 of 15 hanging token requests, under GC pressure).
fn signal(timeout_ms: f64, ended: &JsValue) -> Result<(JsValue, JsValue), Error> {
    let timeout = abort_signal_timeout(timeout_ms)?;
    if ended.is_undefined() || ended.is_null() {
        return Ok((timeout.clone(), timeout));
    }
    let both: js_sys::Array = [ended.clone(), timeout.clone()].iter().collect();
    let joined = abort_signal_any(&both).unwrap_or_else(|_| timeout.clone());
    Ok((joined, timeout))
}

/// `obj[name]()`. The stream methods are reached through the host's own `Reflect.get` and
/// `Function.prototype.call`, already bound for other uses: typed bindings for them would
/// add a glue function each to the Action file. Throws (→ `Err`) when there is no such method.
fn invoke(obj: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &name.into())?
        .unchecked_into::<Function>()
        .call0(obj)
}

/// The body as text, read chunk by chunk and counted; `None` (the rest left unread, the
/// download cancelled) once it is over [`MAX_BODY`] bytes, or when `content-length` says it
/// will be.
async fn read_body(resp: &JsValue, declared: Option<u32>) -> Result<Option<String>, JsValue> {
    let mut text = String::new();
    let stream = Reflect::get(resp, &"body".into())?;
    if stream.is_null() || stream.is_undefined() {
        return Ok(Some(text));
    }
    let reader = invoke(&stream, "getReader")?;
    let utf8 = TextDecoder::new();
    let streaming = Object::new();
    set(&streaming, "stream", &true.into());
    let (mut read, mut over) = (0, declared.is_some_and(|n| n as usize > MAX_BODY));
    while !over {
        let chunk = JsFuture::from(Promise::from(invoke(&reader, "read")?)).await?;
        if Reflect::get(&chunk, &"done".into())?.as_bool() != Some(false) {
            text.push_str(&utf8.decode(&JsValue::UNDEFINED, &JsValue::UNDEFINED)?);
            return Ok(Some(text));
        }
        let bytes = Reflect::get(&chunk, &"value".into())?;
        read += Reflect::get(&bytes, &"length".into())?
            .as_f64()
            .unwrap_or_default() as usize;
        over = read > MAX_BODY;
        if !over {
            text.push_str(&utf8.decode(&bytes, &streaming)?);
        }
    }
    // Awaited, so that no rejection is left unhandled.
    JsFuture::from(Promise::from(invoke(&reader, "cancel")?)).await?;
    Ok(None)
}

/// Sends `req` to `origin`, giving up after `timeout_ms` or when `ended` aborts.
pub async fn send(
    origin: &str,
    req: &Request,
    bearer: Option<&str>,
    timeout_ms: f64,
    ended: &JsValue,
) -> Result<Reply, Error> {
    let call = req.call;
    check_path(req)?;
    if timeout_ms < 1.0 || aborted(ended) {
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
    // Held (in this future) until the reply is read: see `signal`.
    let (sig, _timeout) = signal(timeout_ms, ended)?;
    set(&init, "signal", &sig);
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
    let declared = header("content-length").and_then(|v| v.trim().parse::<u32>().ok());
    let ok = (200..300).contains(&status);
    let text = match read_body(&resp, declared).await.map_err(network)? {
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
        retry_after,
        ratelimit_reset,
        ratelimit_remaining,
        ratelimit_limit,
    })
}
