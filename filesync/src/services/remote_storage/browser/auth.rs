//! What a signer call carries besides its body: the token (static, or from the app's
//! [`TokenGetter`] before every call), the app's extra headers and the credentials mode; and the
//! checks of all three (header-safe characters, names a browser would drop, conflicts).

use std::time::Duration;

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{errors, js, BrowserHttpRemoteOptions, CLIENT};
use crate::services::remote_storage::protocol::errors::config as config_error;
use crate::services::remote_storage::protocol::urls;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// The app's token getter: a JavaScript function, called with no arguments before every signer call
/// (nothing is cached between calls), that returns the current token, or a `Promise` of it, or
/// `null`/`undefined` for no token (the call then goes without `Authorization`). Useful when tokens
/// change (refresh, logout and login). Cheap to clone.
///
/// When it throws or its promise rejects, the signer call is not made and fails with
/// [`RemoteErrorKind::Unauthorized`], naming the getter and giving its error's message; when it
/// returns something other than a string, `null` or `undefined`, or a token an HTTP header cannot
/// carry, with [`RemoteErrorKind::Rejected`]; when it gives nothing within the call's
/// `request_timeout`, with [`RemoteErrorKind::Offline`].
#[derive(Clone)]
pub struct TokenGetter {
    function: Function,
}

impl TokenGetter {
    /// The getter `function` (`() => string | null | undefined | Promise<...>`).
    pub fn new(function: Function) -> TokenGetter {
        TokenGetter { function }
    }

    /// `value` as a getter, when it is a function (`Rejected` otherwise): for JS glue that receives
    /// the option as any value.
    pub fn from_js(value: JsValue) -> RemoteResult<TokenGetter> {
        match value.dyn_into::<Function>() {
            Ok(function) => Ok(TokenGetter::new(function)),
            Err(value) => Err(config_error(format!(
                "{}::token_getter must be a function returning the token (a string, a Promise of one, or null), not {}",
                CLIENT.options,
                type_of(&value)
            ))),
        }
    }

    /// The JavaScript function.
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// Calls the getter: `Bearer <token>` for the `Authorization` header, or `None` for no token.
    async fn bearer(&self, timeout: Duration) -> RemoteResult<Option<String>> {
        let getter = format!("the app's token getter ({}::token_getter)", CLIENT.options);
        let returned = self
            .function
            .call0(&JsValue::UNDEFINED)
            .map_err(|err| getter_failed(&getter, "threw", &err))?;
        // A plain value resolves at once; a Promise (or any thenable) when it settles.
        let settled = JsFuture::from(Promise::resolve(&returned));
        let value = match js::within(timeout, settled).await {
            None => {
                return Err(RemoteError::new(
                    RemoteErrorKind::Offline,
                    format!("{getter} gave no token within {timeout:?}; no signer call was made"),
                ))
            }
            Some(Err(err)) => return Err(getter_failed(&getter, "rejected", &err)),
            Some(Ok(value)) => value,
        };
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        let Some(token) = value.as_string() else {
            return Err(config_error(format!(
                "{getter} returned {}; it must return the token as a string (or a Promise of one), or null/undefined for none",
                type_of(&value)
            )));
        };
        let token = token.trim();
        if token.is_empty() {
            return Ok(None);
        }
        if !is_header_value(token) {
            return Err(config_error(format!(
                "{getter} returned a token that holds characters an HTTP header cannot carry (control characters or non-ASCII)"
            )));
        }
        Ok(Some(format!("Bearer {token}")))
    }
}

impl std::fmt::Debug for TokenGetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenGetter(<function>)")
    }
}

impl From<Function> for TokenGetter {
    fn from(function: Function) -> TokenGetter {
        TokenGetter::new(function)
    }
}

/// The error for a getter that threw or rejected (`how`): `Unauthorized`, with its message.
fn getter_failed(getter: &str, how: &str, err: &JsValue) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Unauthorized,
        format!(
            "{getter} {how}: {}; no signer call was made",
            errors::js_text(err)
        ),
    )
}

/// What a JS value is, for messages (`a number`, `an object`, `null`).
fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        return "null".to_owned();
    }
    let kind = value.js_typeof().as_string().unwrap_or_default();
    match kind.as_str() {
        "object" | "undefined" => format!("an {kind}"),
        "" => "something else".to_owned(),
        _ => format!("a {kind}"),
    }
}

/// Where a signer call's `Authorization` comes from.
#[derive(Clone)]
pub(super) enum Token {
    /// No token.
    None,
    /// A static token: the header's value (`Bearer <token>`).
    Bearer(String),
    /// The app's getter, called before every signer call.
    Getter(TokenGetter),
}

impl Token {
    /// The token source of `options`, checked (`Rejected`, with what to fix).
    pub(super) fn of(options: &BrowserHttpRemoteOptions) -> RemoteResult<Token> {
        let token = options.token.as_deref().map(str::trim);
        match (token, &options.token_getter) {
            (Some(token), Some(_)) if !token.is_empty() => Err(config_error(format!(
                "both {0}::token and {0}::token_getter are set; give one of them",
                CLIENT.options
            ))),
            (_, Some(getter)) => Ok(Token::Getter(getter.clone())),
            (None | Some(""), None) => Ok(Token::None),
            (Some(token), None) => {
                if !is_header_value(token) {
                    return Err(urls::bad_token(&CLIENT));
                }
                Ok(Token::Bearer(format!("Bearer {token}")))
            }
        }
    }

    /// Whether any token is configured (a getter may still answer none).
    fn is_some(&self) -> bool {
        !matches!(self, Token::None)
    }

    /// The `Authorization` value for the next signer call (the getter called once), within
    /// `timeout`.
    pub(super) async fn authorization(&self, timeout: Duration) -> RemoteResult<Option<String>> {
        match self {
            Token::None => Ok(None),
            Token::Bearer(value) => Ok(Some(value.clone())),
            Token::Getter(getter) => getter.bearer(timeout).await,
        }
    }
}

/// Whether `name` is a header name (an HTTP token: letters, digits and ``!#$%&'*+-.^_`|~``).
pub(super) fn is_header_name(name: &str) -> bool {
    let token_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty() && name.bytes().all(token_char)
}

/// Whether `value` can be sent as a header value (visible ASCII, spaces and tabs).
pub(super) fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Request headers a browser sets itself and silently drops from scripts (the Fetch standard's
/// forbidden request-header names, lowercase), besides the `proxy-` and `sec-` prefixes.
const FORBIDDEN: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Checks the app's extra signer headers against the token source (`Rejected`, naming the header
/// and what to fix): names and values must be sendable; a name may appear once; `Content-Type`
/// is the client's own (signer calls send JSON); names a browser drops are refused rather than
/// lost silently; `Authorization` only when no token or getter is set (it then goes as given).
pub(super) fn check_headers(headers: &[(String, String)], token: &Token) -> RemoteResult<()> {
    let field = format!("{}::headers", CLIENT.options);
    for (i, (name, value)) in headers.iter().enumerate() {
        if !is_header_name(name) {
            return Err(config_error(format!(
                "{field}: {name:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)"
            )));
        }
        if !is_header_value(value) {
            return Err(config_error(format!(
                "{field}: the value of {name} holds characters an HTTP header cannot carry (control characters or non-ASCII)"
            )));
        }
        if headers[..i]
            .iter()
            .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
        {
            return Err(config_error(format!(
                "{field}: {name} is given twice; give each header once"
            )));
        }
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" && token.is_some() {
            return Err(config_error(format!(
                "{field}: Authorization conflicts with the token; the client sends `Authorization: Bearer <token>` from {0}::token or {0}::token_getter, so either remove that header or the token",
                CLIENT.options
            )));
        }
        if lower == "content-type" {
            return Err(config_error(format!(
                "{field}: Content-Type is set by the client (signer calls send JSON); remove it"
            )));
        }
        if FORBIDDEN.contains(&lower.as_str())
            || lower.starts_with("proxy-")
            || lower.starts_with("sec-")
        {
            return Err(config_error(format!(
                "{field}: {name} is a header browsers set themselves and drop from scripts; remove it"
            )));
        }
    }
    Ok(())
}

/// The name/value pairs of a JS object of header strings (the TypeScript package's
/// `Record<string, string>`); `null` or `undefined` is none. Other values are `Rejected`. The pairs
/// are checked later, by [`check_headers`].
pub(super) fn headers_from_js(value: &JsValue) -> RemoteResult<Vec<(String, String)>> {
    let field = format!("{}::headers", CLIENT.options);
    if value.is_null() || value.is_undefined() {
        return Ok(Vec::new());
    }
    if !value.is_object() || value.is_function() || js_sys::Array::is_array(value) {
        return Err(config_error(format!(
            "{field} must be an object of header names to strings, not {}",
            type_of(value)
        )));
    }
    let mut headers = Vec::new();
    for entry in js_sys::Object::entries(value.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let Some(text) = pair.get(1).as_string() else {
            return Err(config_error(format!(
                "{field}: the value of {name:?} is {}, not a string",
                type_of(&pair.get(1))
            )));
        };
        headers.push((name, text));
    }
    Ok(headers)
}

/// `headers` for `Debug`: the names, never the values (they may be secrets).
pub(super) fn header_names(headers: &[(String, String)]) -> Vec<(&str, &'static str)> {
    headers
        .iter()
        .map(|(name, _)| (name.as_str(), "<redacted>"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn refused(list: &[(&str, &str)], token: &Token) -> RemoteError {
        check_headers(&pairs(list), token).unwrap_err()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn headers_are_checked() {
        let bearer = Token::Bearer("Bearer t".into());
        let ok = [("X-App-Version", "1.2.3"), ("x-tenant", "acme corp\tb")];
        check_headers(&pairs(&ok), &bearer).unwrap();
        check_headers(&pairs(&[("Authorization", "Basic YTpi")]), &Token::None).unwrap();

        for (list, says) in [
            (&[("bad name", "v")][..], "not a header name"),
            (&[("", "v")][..], "not a header name"),
            (&[("X-A", "a\nb")][..], "cannot carry"),
            (&[("X-A", "é")][..], "cannot carry"),
            (&[("X-A", "1"), ("x-a", "2")][..], "given twice"),
            (
                &[("authorization", "Basic x")][..],
                "conflicts with the token",
            ),
            (&[("Content-Type", "text/plain")][..], "set by the client"),
            (&[("Cookie", "a=b")][..], "browsers set themselves"),
            (&[("Sec-Fetch-Mode", "cors")][..], "browsers set themselves"),
            (
                &[("Proxy-Authorization", "x")][..],
                "browsers set themselves",
            ),
        ] {
            let err = refused(list, &bearer);
            assert_eq!(err.kind, RemoteErrorKind::Rejected, "{list:?}: {err}");
            assert!(err.message.contains(says), "{list:?}: {err}");
            assert!(
                err.message.contains("BrowserHttpRemoteOptions::headers"),
                "{err}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn headers_come_from_js_objects() {
        let object = js_sys::Object::new();
        js_sys::Reflect::set(&object, &"X-Tenant".into(), &"acme".into()).unwrap();
        js_sys::Reflect::set(&object, &"X-App".into(), &"1".into()).unwrap();
        assert_eq!(
            headers_from_js(&object).unwrap(),
            pairs(&[("X-Tenant", "acme"), ("X-App", "1")])
        );
        assert!(headers_from_js(&JsValue::UNDEFINED).unwrap().is_empty());
        assert!(headers_from_js(&JsValue::NULL).unwrap().is_empty());
        js_sys::Reflect::set(&object, &"X-Count".into(), &JsValue::from_f64(3.0)).unwrap();
        let err = headers_from_js(&object).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(err.message.contains("\"X-Count\" is a number"), "{err}");
        let err = headers_from_js(&JsValue::from_str("X-A: 1")).unwrap_err();
        assert!(err.message.contains("not a string"), "{err}");
        let err = headers_from_js(&js_sys::Array::new()).unwrap_err();
        assert!(err.message.contains("must be an object"), "{err}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn header_values_stay_out_of_debug() {
        let shown = format!("{:?}", header_names(&pairs(&[("X-Api-Key", "secret")])));
        assert!(
            shown.contains("X-Api-Key") && !shown.contains("secret"),
            "{shown}"
        );
    }
}
