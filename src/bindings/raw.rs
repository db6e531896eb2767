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

    /// `Reflect.get(target, key)` without `catch`: see `Api::member`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn member_of(target: &Api, key: &JsValue) -> JsValue;

    /// Auth0's `api` object (post-login has all members; post-user-registration only `cache`).
    pub type Api;
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

impl Api {
    /// `api[name]`, `None` when absent. One import for every member, not a getter each; a
    /// member whose getter throws throws through, as a getter import would (the shim then
    /// fails the execution under `on_error`: an `api` that cannot be read is not guessed at).
    fn member(&self, name: &str) -> Option<JsValue> {
        Some(member_of(self, &JsValue::from_str(name)))
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// `api.cache`.
    pub fn cache(&self) -> Option<ApiCache> {
        self.member("cache").map(JsCast::unchecked_into)
    }

    /// `api.access` (post-login).
    pub fn access(&self) -> Option<ApiAccess> {
        self.member("access").map(JsCast::unchecked_into)
    }

    /// `api.idToken` (post-login).
    pub fn id_token(&self) -> Option<ClaimSetter> {
        self.member("idToken").map(JsCast::unchecked_into)
    }

    /// `api.accessToken` (post-login).
    pub fn access_token(&self) -> Option<ClaimSetter> {
        self.member("accessToken").map(JsCast::unchecked_into)
    }

    /// `api.user` (post-login).
    pub fn user(&self) -> Option<ApiUser> {
        self.member("user").map(JsCast::unchecked_into)
    }

    /// `api.multifactor` (post-login).
    pub fn multifactor(&self) -> Option<ApiMultifactor> {
        self.member("multifactor").map(JsCast::unchecked_into)
    }
}
