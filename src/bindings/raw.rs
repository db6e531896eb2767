//! Raw `extern` declarations of the host objects we touch. Anything that can throw is
//! declared with `catch`, so a JS exception becomes an `Err`, never an abort.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (Node 18+).
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn fetch(url: &str, init: &JsValue) -> Result<Promise, JsValue>;

    /// `Object.keys(v)`: throws for a revoked proxy or a throwing `ownKeys` trap.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    pub fn object_keys(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    /// `Array.isArray(v)`: throws for a revoked proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub fn is_array(v: &JsValue) -> Result<bool, JsValue>;

    /// A `fetch` Response.
    pub type Response;
    /// HTTP status code.
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Response) -> u16;
    /// The response headers.
    #[wasm_bindgen(method, getter)]
    pub fn headers(this: &Response) -> Headers;

    /// A `Headers` object.
    pub type Headers;
    /// One header's value, `None` when absent.
    #[wasm_bindgen(method, catch)]
    pub fn get(this: &Headers, name: &str) -> Result<Option<String>, JsValue>;

    /// A UTF-8 `TextDecoder`: what `Response.text()` uses (invalid bytes become U+FFFD, a
    /// leading BOM is dropped).
    pub type TextDecoder;
    /// `new TextDecoder()`.
    #[wasm_bindgen(constructor)]
    pub fn new() -> TextDecoder;
    /// `decode(chunk, {stream: true})`, or `decode()` to flush; throws on a non-buffer chunk.
    #[wasm_bindgen(method, catch)]
    pub fn decode(this: &TextDecoder, chunk: &JsValue, opts: &JsValue) -> Result<String, JsValue>;

    /// `AbortSignal.timeout(ms)`: a signal that aborts the request after `ms`.
    #[wasm_bindgen(catch, js_namespace = AbortSignal, js_name = timeout)]
    pub fn abort_signal_timeout(ms: f64) -> Result<JsValue, JsValue>;

    /// `AbortSignal.any(signals)`: aborts when any of them does.
    #[wasm_bindgen(catch, js_namespace = AbortSignal, js_name = any)]
    pub fn abort_signal_any(signals: &js_sys::Array) -> Result<JsValue, JsValue>;

    /// `setTimeout(callback, ms)`, for backoff waits.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &js_sys::Function, ms: f64) -> JsValue;

    /// `console.log`: Auth0 keeps these lines in the execution's logs.
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(line: &str);

    /// Auth0's `api` object (post-login has all members; post-user-registration only `cache`).
    pub type Api;
    /// `api.cache`.
    #[wasm_bindgen(method, getter)]
    pub fn cache(this: &Api) -> Option<ApiCache>;
    /// `api.access` (post-login).
    #[wasm_bindgen(method, getter)]
    pub fn access(this: &Api) -> Option<ApiAccess>;
    /// `api.idToken` (post-login).
    #[wasm_bindgen(method, getter, js_name = idToken)]
    pub fn id_token(this: &Api) -> Option<ClaimSetter>;
    /// `api.accessToken` (post-login).
    #[wasm_bindgen(method, getter, js_name = accessToken)]
    pub fn access_token(this: &Api) -> Option<ClaimSetter>;
    /// `api.user` (post-login).
    #[wasm_bindgen(method, getter)]
    pub fn user(this: &Api) -> Option<ApiUser>;

    /// `api.cache`: synchronous, best-effort key/value store shared by executions.
    pub type ApiCache;
    /// `get(key)` → `{value, expires_at}` or undefined.
    #[wasm_bindgen(method, catch, js_name = get)]
    pub fn get(this: &ApiCache, key: &str) -> Result<JsValue, JsValue>;
    /// `set(key, value, {ttl})` → `{type: 'success' | 'error', ...}`.
    #[wasm_bindgen(method, catch, js_name = set)]
    pub fn set(this: &ApiCache, key: &str, value: &str, opts: &JsValue)
        -> Result<JsValue, JsValue>;
    /// `delete(key)`.
    #[wasm_bindgen(method, catch, js_name = delete)]
    pub fn delete(this: &ApiCache, key: &str) -> Result<JsValue, JsValue>;

    /// `api.access`.
    pub type ApiAccess;
    /// `api.access.deny(reason)`.
    #[wasm_bindgen(method, catch)]
    pub fn deny(this: &ApiAccess, reason: &str) -> Result<JsValue, JsValue>;

    /// `api.idToken` / `api.accessToken`.
    pub type ClaimSetter;
    /// `setCustomClaim(name, value)`.
    #[wasm_bindgen(method, catch, js_name = setCustomClaim)]
    pub fn set_custom_claim(
        this: &ClaimSetter,
        name: &str,
        value: &JsValue,
    ) -> Result<JsValue, JsValue>;

    /// `api.multifactor` (post-login).
    #[wasm_bindgen(method, getter)]
    pub fn multifactor(this: &Api) -> Option<ApiMultifactor>;

    /// `api.multifactor`.
    pub type ApiMultifactor;
    /// `enable(provider, {allowRememberBrowser})`.
    #[wasm_bindgen(method, catch)]
    pub fn enable(
        this: &ApiMultifactor,
        provider: &str,
        opts: &JsValue,
    ) -> Result<JsValue, JsValue>;

    /// `api.user`.
    pub type ApiUser;
    /// `setAppMetadata(key, value)`; `null` deletes the key.
    #[wasm_bindgen(method, catch, js_name = setAppMetadata)]
    pub fn set_app_metadata(this: &ApiUser, key: &str, value: &JsValue)
        -> Result<JsValue, JsValue>;
    /// `setUserMetadata(key, value)`; `null` deletes the key.
    #[wasm_bindgen(method, catch, js_name = setUserMetadata)]
    pub fn set_user_metadata(
        this: &ApiUser,
        key: &str,
        value: &JsValue,
    ) -> Result<JsValue, JsValue>;
}
