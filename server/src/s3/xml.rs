//! The S3 answers the store reads (XML), and the body of `CompleteMultipartUpload`.

use serde::Deserialize;

use crate::store::{StoreError, StoreErrorKind};

/// `CreateMultipartUpload`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Initiated {
    pub(super) upload_id: String,
}

/// One page of `ListParts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PartsPage {
    #[serde(rename = "Part", default)]
    pub(super) parts: Vec<ListedPart>,
    #[serde(default)]
    pub(super) is_truncated: bool,
    #[serde(default)]
    pub(super) next_part_number_marker: Option<u32>,
}

/// A part as `ListParts` describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListedPart {
    pub(super) part_number: u32,
    /// Quoted, as S3 answers it; empty when the server answers none (s3s-fs).
    #[serde(rename = "ETag", default)]
    pub(super) etag: String,
    pub(super) size: u64,
    #[serde(rename = "ChecksumSHA256", default)]
    pub(super) checksum_sha256: Option<String>,
}

/// One page of `ListObjectsV2`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ObjectsPage {
    #[serde(default)]
    pub(super) contents: Vec<ListedObject>,
    #[serde(default)]
    pub(super) is_truncated: bool,
    #[serde(default)]
    pub(super) next_continuation_token: Option<String>,
}

/// An object as `ListObjectsV2` describes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListedObject {
    pub(super) key: String,
    #[serde(default)]
    pub(super) size: u64,
    #[serde(default)]
    pub(super) last_modified: Option<String>,
}

/// `2026-12-07T11:26:45.000Z` as seconds since the epoch (`None` when it is not such a time).
pub(super) fn parse_time(text: &str) -> Option<u64> {
    let (date, time) = text.trim().split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (date.next()??, date.next()??, date.next()??);
    let time = time.trim_end_matches('Z');
    let time = time.split('.').next()?;
    let mut time = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (time.next()??, time.next()??, time.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// An S3 error answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

/// Parses `text`, the answer of `what` (`Server` error when it is not the expected XML, or an S3
/// error inside a 200, as `CompleteMultipartUpload` may answer).
pub(super) fn parse<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    if quick_xml::de::from_str::<ErrorBody>(text).is_ok() {
        return Err(s3_error(what, 200, text));
    }
    quick_xml::de::from_str(text).map_err(|err| {
        StoreError::new(
            StoreErrorKind::Internal,
            format!("S3 answered {what} with XML this server cannot read ({err})"),
        )
    })
}

/// The store error for an S3 error answer of `what` with `status` and body `text`.
pub(crate) fn s3_error(what: &str, status: u16, text: &str) -> StoreError {
    let (code, message) = match quick_xml::de::from_str::<ErrorBody>(text) {
        Ok(body) => (body.code, body.message),
        Err(_) => (String::new(), text.chars().take(200).collect()),
    };
    let kind = match code.as_str() {
        "NoSuchUpload" | "NoSuchKey" => StoreErrorKind::NotFound,
        "EntityTooSmall" | "EntityTooLarge" | "InvalidPart" | "InvalidPartOrder" | "BadDigest"
        | "InvalidDigest" | "InvalidRequest" | "InvalidArgument" | "IncompleteBody" => {
            StoreErrorKind::BadRequest
        }
        "AccessDenied"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "NoSuchBucket"
        | "AuthorizationHeaderMalformed" => StoreErrorKind::Internal,
        "SlowDown" | "ServiceUnavailable" | "InternalError" => StoreErrorKind::Unavailable,
        _ if status >= 500 => StoreErrorKind::Unavailable,
        _ if status == 404 => StoreErrorKind::NotFound,
        _ if status == 400 => StoreErrorKind::BadRequest,
        _ => StoreErrorKind::Internal,
    };
    let hint = match kind {
        StoreErrorKind::Internal => {
            "; check the server's S3 settings (bucket, region, credentials)"
        }
        StoreErrorKind::NotFound => "; start a new upload",
        _ => "",
    };
    let code = if code.is_empty() {
        "no error code".to_owned()
    } else {
        code
    };
    StoreError::new(
        kind,
        format!("S3 refused {what} ({status}, {code}: {message}){hint}"),
    )
}

/// Escapes `text` for an XML element's content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The body of `CompleteMultipartUpload` for `parts` (ascending), each with its ETag and, when
/// the bucket listed one, its SHA-256 checksum.
pub(super) fn complete_body(parts: &[ListedPart]) -> String {
    let mut body =
        String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for part in parts {
        body.push_str("<Part><PartNumber>");
        body.push_str(&part.part_number.to_string());
        body.push_str("</PartNumber>");
        if !part.etag.is_empty() {
            body.push_str("<ETag>");
            body.push_str(&escape(&part.etag));
            body.push_str("</ETag>");
        }
        if let Some(checksum) = &part.checksum_sha256 {
            body.push_str("<ChecksumSHA256>");
            body.push_str(&escape(checksum));
            body.push_str("</ChecksumSHA256>");
        }
        body.push_str("</Part>");
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parts_is_read_with_or_without_etags_and_checksums() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key>
<UploadId>u</UploadId><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>
<Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag><Size>5242880</Size>
<ChecksumSHA256>c1==</ChecksumSHA256></Part>
<Part><PartNumber>2</PartNumber><Size>7</Size><LastModified>2026-01-01T00:00:00Z</LastModified></Part>
</ListPartsResult>"#;
        let page: PartsPage = parse("ListParts", text).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_part_number_marker, Some(2));
        assert_eq!(page.parts.len(), 2);
        assert_eq!(page.parts[0].etag, "\"aa\"");
        assert_eq!(page.parts[0].checksum_sha256.as_deref(), Some("c1=="));
        assert_eq!(page.parts[1].etag, "");
        assert_eq!(page.parts[1].size, 7);
        let empty: PartsPage = parse("ListParts", "<ListPartsResult></ListPartsResult>").unwrap();
        assert!(empty.parts.is_empty() && !empty.is_truncated);
    }

    #[test]
    fn errors_map_to_kinds_and_say_what_happened() {
        let text = "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>";
        let err = s3_error("ListParts", 404, text);
        assert_eq!(err.kind, StoreErrorKind::NotFound);
        assert!(err.message.contains("NoSuchUpload: gone"), "{err}");
        let denied = s3_error("PutObject", 403, "<Error><Code>AccessDenied</Code></Error>");
        assert_eq!(denied.kind, StoreErrorKind::Internal);
        assert!(denied.message.contains("credentials"), "{denied}");
        assert_eq!(s3_error("x", 503, "").kind, StoreErrorKind::Unavailable);
        // An error inside a 200, as CompleteMultipartUpload may answer.
        let inside = parse::<Initiated>("CompleteMultipartUpload", text).unwrap_err();
        assert_eq!(inside.kind, StoreErrorKind::NotFound);
        let garbage = parse::<Initiated>("CreateMultipartUpload", "not xml").unwrap_err();
        assert_eq!(garbage.kind, StoreErrorKind::Internal);
    }

    #[test]
    fn listings_and_their_times_are_read() {
        let text = r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken>
<Contents><Key>s/a&amp;b</Key><Size>5</Size><LastModified>2026-12-07T11:26:45.000Z</LastModified></Contents>
<Contents><Key>s/c</Key><Size>0</Size></Contents></ListBucketResult>"#;
        let page: ObjectsPage = parse("ListObjectsV2", text).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_continuation_token.as_deref(), Some("t1"));
        assert_eq!(page.contents[0].key, "s/a&b");
        assert_eq!(page.contents[0].size, 5);
        assert_eq!(page.contents[1].last_modified, None);
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-12-07T11:26:45.000Z"), Some(1_796_642_805));
        assert_eq!(parse_time("2000-02-29T12:00:00Z"), Some(951_825_600));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn the_complete_body_escapes_etags() {
        let part = |n, etag: &str, checksum: Option<&str>| ListedPart {
            part_number: n,
            etag: etag.into(),
            size: 1,
            checksum_sha256: checksum.map(Into::into),
        };
        let body = complete_body(&[part(1, "\"a&b\"", Some("c=")), part(2, "", None)]);
        assert!(body.contains(
            "<Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;b&quot;</ETag><ChecksumSHA256>c=</ChecksumSHA256></Part>"
        ));
        assert!(body.contains("<Part><PartNumber>2</PartNumber></Part>"));
    }
}
