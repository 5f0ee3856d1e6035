//! Content types: what uploads may declare, and which stored types are served as attachments.

/// The type served when an upload declared none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The longest content type accepted, in bytes.
const MAX_CONTENT_TYPE_BYTES: usize = 255;

/// Checks a declared content type: printable ASCII, `type/subtype` with optional parameters, at most
/// 255 bytes. Returns it trimmed.
pub fn validate_content_type(value: &str) -> Result<String, String> {
    let value = value.trim();
    let essence = value.split(';').next().unwrap_or("").trim();
    let well_formed = !value.is_empty()
        && value.len() <= MAX_CONTENT_TYPE_BYTES
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !s.contains('/'));
    if well_formed {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "the content type {value:?} is not a valid media type such as \"image/png\""
        ))
    }
}

/// True for types a browser may run script in (HTML, SVG, XML, JavaScript, …): the blob routes serve
/// them with `Content-Disposition: attachment`, so a stored file never runs on the server's origin.
pub fn is_active_content(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    const ACTIVE: &[&str] = &[
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/wasm",
        "multipart/x-mixed-replace",
        "application/pdf",
    ];
    ACTIVE.contains(&essence.as_str()) || essence.ends_with("+xml") || essence.ends_with("/xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert_eq!(validate_content_type(" image/png ").unwrap(), "image/png");
        assert!(validate_content_type("text/plain; charset=utf-8").is_ok());
        for bad in ["", "png", "a/b/c", "/x", "x/", "text/plain\r\nX: y"] {
            assert!(validate_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn active_types() {
        for t in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/rss+xml",
        ] {
            assert!(is_active_content(t), "{t}");
        }
        for t in [
            "image/png",
            "text/plain",
            "application/octet-stream",
            "video/mp4",
        ] {
            assert!(!is_active_content(t), "{t}");
        }
    }
}
