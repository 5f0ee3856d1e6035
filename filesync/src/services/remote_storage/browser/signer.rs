//! The [`Signer`] side of [`BrowserHttpRemote`]: JSON POSTs to `{base}/v1/...` by `fetch`, with
//! the Bearer token (static, or the app's getter called first), the app's extra headers and its
//! credentials mode, within a deadline; signed URLs resolved by the `URL` of the JavaScript scope.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use web_sys::{AbortController, Headers, Request, RequestCredentials, RequestInit};

use super::{auth, errors, js, BrowserHttpRemote, CLIENT};
use crate::services::remote_storage::protocol::transport::{Failure, Signer, SignerCall, Site};
use crate::services::remote_storage::protocol::urls;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

impl BrowserHttpRemote {
    /// The URL of a signer route (`path` starts with `/`).
    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.site.base)
    }

    /// Sends `method url` (with `body` as JSON when given) to the signer within `timeout` (the
    /// token getter's wait included); the status and the text of the answer. The token getter, when
    /// there is one, is called once, first.
    async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> RemoteResult<(u16, String)> {
        let started = js_sys::Date::now();
        let authorization = self.token.authorization(timeout).await?;
        let waited = Duration::from_millis((js_sys::Date::now() - started).max(0.0) as u64);
        let headers = Headers::new().map_err(|err| errors::unsendable(url, &err))?;
        for (name, value) in &self.options.headers {
            headers
                .set(name, value)
                .map_err(|err| errors::unsendable(url, &err))?;
        }
        if let Some(authorization) = &authorization {
            headers
                .set("Authorization", authorization)
                .map_err(|err| errors::unsendable(url, &err))?;
        }
        let init = RequestInit::new();
        init.set_method(method);
        if self.options.include_credentials {
            init.set_credentials(RequestCredentials::Include);
        }
        if let Some(body) = body {
            headers
                .set("Content-Type", "application/json")
                .map_err(|err| errors::unsendable(url, &err))?;
            init.set_body(&wasm_bindgen::JsValue::from_str(&body.to_string()));
        }
        init.set_headers(&headers);
        let controller = AbortController::new().ok();
        if let Some(controller) = &controller {
            init.set_signal(Some(&controller.signal()));
        }
        let request = Request::new_with_str_and_init(url, &init)
            .map_err(|err| errors::unsendable(&format!("{method} {}", errors::shown(url)), &err))?;
        let no_answer = |err: &wasm_bindgen::JsValue| {
            let mut detail = errors::js_text(err);
            detail.push_str(&self.cors_note());
            errors::network(method, url, &detail)
        };
        let exchange = async {
            let (response, text) = js::fetch_text(&request, method, url, no_answer).await?;
            Ok((response.status(), text))
        };
        match js::within(timeout.saturating_sub(waited), exchange).await {
            Some(answer) => answer,
            None => {
                if let Some(controller) = &controller {
                    controller.abort();
                }
                Err(errors::no_answer_within(method, url, timeout))
            }
        }
    }

    /// What a signer on another origin must allow for this client's options (for the message of a
    /// call that got no answer), or nothing.
    fn cors_note(&self) -> String {
        let mut note = String::new();
        if self.options.include_credentials {
            note.push_str("; with include_credentials the signer must answer Access-Control-Allow-Credentials: true and name this origin (not *) in Access-Control-Allow-Origin");
        }
        if !self.options.headers.is_empty() {
            let names: Vec<&str> = self
                .options
                .headers
                .iter()
                .map(|(name, _)| name.as_str())
                .collect();
            note.push_str(&format!(
                "; its Access-Control-Allow-Headers must allow {}",
                names.join(", ")
            ));
        }
        note
    }
}

#[async_trait(?Send)]
impl Signer for BrowserHttpRemote {
    type Url = String;
    type Headers = Vec<(String, String)>;

    fn site(&self) -> &Site {
        &self.site
    }

    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    async fn health(&self) -> RemoteResult<()> {
        let url = self.endpoint("/health");
        let (status, text) = self
            .call("GET", &url, None, self.options.request_timeout)
            .await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(errors::from_status("GET", &url, status, &text))
        }
    }

    async fn signer_post(&self, call: SignerCall<'_>) -> Result<(String, Bytes), Failure> {
        let url = self.endpoint(call.path);
        let (status, text) = self
            .call("POST", &url, Some(call.body), call.timeout)
            .await
            .map_err(|err| (None, err))?;
        if !(200..300).contains(&status) {
            return Err((
                Some(status),
                errors::from_status("POST", &url, status, &text),
            ));
        }
        Ok((url, Bytes::from(text)))
    }

    /// A signed URL made absolute (resolved against the base URL) and checked.
    fn resolve(&self, url: &str) -> RemoteResult<String> {
        let url = urls::signed_text(url)?;
        let resolved = web_sys::Url::new_with_base(url, &self.site.base)
            .map_err(|err| urls::unusable(errors::js_text(&err)))?;
        let href = resolved.href();
        urls::check_signed_scheme(&CLIENT, resolved.protocol().trim_end_matches(':'), &href)?;
        Ok(href)
    }

    fn headers(&self, headers: Option<&BTreeMap<String, String>>) -> RemoteResult<Self::Headers> {
        header_list(headers)
    }

    fn header_pairs(&self, headers: Self::Headers) -> Vec<(String, String)> {
        headers
    }
}

/// The signed headers as a list (`Server` when the signer sent something no request can carry).
fn header_list(headers: Option<&BTreeMap<String, String>>) -> RemoteResult<Vec<(String, String)>> {
    let mut list = Vec::new();
    for (name, value) in headers.into_iter().flatten() {
        if !auth::is_header_name(name) || !auth::is_header_value(value) {
            return Err(RemoteError::new(
                RemoteErrorKind::Server,
                format!("the signer answered a header that cannot be sent: {name:?}"),
            ));
        }
        list.push((name.clone(), value.clone()));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn unsendable_headers_are_server_errors() {
        let err = header_list(Some(&BTreeMap::from([("bad name".into(), "v".into())])));
        assert_eq!(err.unwrap_err().kind, RemoteErrorKind::Server);
        let ok = header_list(Some(&BTreeMap::from([(
            "x-amz-checksum-sha256".into(),
            "abc=".into(),
        )])));
        assert_eq!(ok.unwrap().len(), 1);
    }
}
