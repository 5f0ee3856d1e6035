//! The [`Signer`] side of [`BrowserHttpRemote`]: JSON POSTs to `{base}/v1/...` with the Bearer
//! token by `fetch`, with a deadline; signed URLs resolved by the browser's `URL`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, Response};

use super::{errors, js, BrowserHttpRemote, CLIENT};
use crate::services::remote_storage::protocol::transport::{Failure, Signer, SignerCall, Site};
use crate::services::remote_storage::protocol::urls;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

impl BrowserHttpRemote {
    /// The URL of a signer route (`path` starts with `/`).
    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.site.base)
    }

    /// Sends `method url` (with `body` as JSON when given) to the signer within `timeout`; the
    /// status and the text of the answer.
    async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> RemoteResult<(u16, String)> {
        let headers = Headers::new().map_err(|err| errors::unsendable(url, &err))?;
        if let Some(auth) = &self.auth {
            headers
                .set("Authorization", auth)
                .map_err(|err| errors::unsendable(url, &err))?;
        }
        let init = RequestInit::new();
        init.set_method(method);
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
        let exchange = async {
            let promise = js::fetch(&request)
                .map_err(|err| errors::network(method, url, &errors::js_text(&err)))?;
            let response: Response = JsFuture::from(promise)
                .await
                .map_err(|err| errors::network(method, url, &errors::js_text(&err)))?
                .unchecked_into();
            let text = js::text(&response).await.map_err(|err| {
                errors::network(
                    method,
                    url,
                    &format!(
                        "the connection broke during the answer: {}",
                        errors::js_text(&err)
                    ),
                )
            })?;
            Ok((response.status(), text))
        };
        match js::within(timeout, exchange).await {
            Some(answer) => answer,
            None => {
                if let Some(controller) = &controller {
                    controller.abort();
                }
                Err(errors::no_answer_within(method, url, timeout))
            }
        }
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
        let token_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        let name_ok = !name.is_empty() && name.bytes().all(token_char);
        let value_ok = value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if !name_ok || !value_ok {
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
