//! What a (ranged) download's answer means.

use super::{errors, Client};
use crate::services::remote_storage::RemoteResult;

/// What the answer to a download GET from `offset` says, before its body is read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answered {
    /// Asked from the very end of a complete object (416 with `bytes */total`): nothing to read.
    AtEnd {
        /// The object's size.
        total: u64,
    },
    /// A non-2xx: read the body for the message, then [`errors::from_status`].
    Failed,
    /// The body, starting at `start`.
    Body {
        /// Where the body starts in the object.
        start: u64,
        /// The object's size, when the answer said.
        total_size: Option<u64>,
    },
}

/// Reads the status and the `Content-Range` and `Content-Length` headers of the answer to a GET of
/// `url` from `offset` (`Server` when a 206 does not start where it was asked to).
pub(crate) fn download_answer(
    client: &Client,
    url: &str,
    offset: u64,
    status: u16,
    content_range_header: Option<&str>,
    content_length_header: Option<&str>,
) -> RemoteResult<Answered> {
    let range = content_range_header.and_then(content_range);
    if status == 416 {
        if let Some((None, Some(total))) = range {
            if total == offset {
                return Ok(Answered::AtEnd { total });
            }
        }
    }
    if !errors::is_success(status) {
        return Ok(Answered::Failed);
    }
    if status != 206 {
        let length = content_length_header.and_then(|v| v.trim().parse::<u64>().ok());
        return Ok(Answered::Body {
            start: 0,
            total_size: length,
        });
    }
    let Some((Some(start), total_size)) = range else {
        return Err(errors::missing_header(
            client,
            "GET",
            url,
            "a 206 answer without a usable Content-Range",
            "Content-Range",
        ));
    };
    if start != offset {
        return Err(errors::malformed(
            "GET",
            url,
            format!("asked for bytes from {offset}, got bytes from {start}"),
        ));
    }
    Ok(Answered::Body { start, total_size })
}

/// `bytes a-b/total` → (a, total); `bytes */total` → (None, total).
pub(crate) fn content_range(value: &str) -> Option<(Option<u64>, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok();
    let start = if range.trim() == "*" {
        None
    } else {
        Some(range.split_once('-')?.0.trim().parse().ok()?)
    };
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::remote_storage::protocol::BROWSER;
    use crate::services::remote_storage::RemoteErrorKind;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn content_ranges_parse() {
        assert_eq!(content_range("bytes 5-9/10"), Some((Some(5), Some(10))));
        assert_eq!(content_range("bytes */10"), Some((None, Some(10))));
        assert_eq!(content_range("bytes 0-9/*"), Some((Some(0), None)));
        assert_eq!(content_range("items 1-2/3"), None);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn download_answers() {
        let answer = |offset, status, range, length| {
            download_answer(&BROWSER, "http://h/f?sig=x", offset, status, range, length)
        };
        assert_eq!(
            answer(10, 416, Some("bytes */10"), None).unwrap(),
            Answered::AtEnd { total: 10 }
        );
        assert_eq!(
            answer(5, 416, Some("bytes */10"), None).unwrap(),
            Answered::Failed
        );
        assert_eq!(answer(0, 404, None, None).unwrap(), Answered::Failed);
        assert_eq!(
            answer(0, 200, None, Some(" 12 ")).unwrap(),
            Answered::Body {
                start: 0,
                total_size: Some(12)
            }
        );
        assert_eq!(
            answer(5, 206, Some("bytes 5-9/10"), Some("5")).unwrap(),
            Answered::Body {
                start: 5,
                total_size: Some(10)
            }
        );
        let err = answer(5, 206, Some("bytes 0-9/10"), None).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Server);
        let err = answer(5, 206, None, None).unwrap_err();
        assert!(err.message.contains("CORS exposed"), "{}", err.message);
        assert!(!err.message.contains("sig=x"));
    }
}
