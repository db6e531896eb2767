//! Raw `extern` declarations of the host objects we touch. Anything that can throw is
//! declared with `catch`, so a JS exception becomes an `Err`, never an abort.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Object.keys(v)`: throws for a revoked proxy or a throwing `ownKeys` trap.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    pub fn object_keys(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    /// `Array.isArray(v)`: throws for a revoked proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub fn is_array(v: &JsValue) -> Result<bool, JsValue>;

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
