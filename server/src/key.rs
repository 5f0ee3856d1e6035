//! [`BlobKey`]: the one validated key type of the signer API and the blob routes.

use std::fmt;

use fs_core::{validate_name, VPath};

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The suffix of the temporary files that `fs-native` sinks stage uploads in; keys may not end a
/// segment with it, so no key can ever name an upload in progress.
pub(crate) const TEMP_SUFFIX: &str = ".fsync-tmp";

/// A validated remote key such as `store-a/3f…9c`: relative, `/`-separated, and every segment a name
/// that [`fs_core::validate_name`] accepts (no empty, `.` or `..` segments, no backslash or NUL, at most
/// 255 bytes), at most [`MAX_KEY_BYTES`] bytes in all.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Validates a key as sent in a JSON body.
    ///
    /// ```
    /// use filesync_server::BlobKey;
    /// assert!(BlobKey::parse("store-a/abc.txt").is_ok());
    /// assert!(BlobKey::parse("store-a/../x").is_err());
    /// assert!(BlobKey::parse("/abs").is_err());
    /// ```
    pub fn parse(key: &str) -> Result<BlobKey, String> {
        if key.is_empty() {
            return Err("the key is empty".into());
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(format!(
                "the key is {} bytes long; the limit is {MAX_KEY_BYTES}",
                key.len()
            ));
        }
        if key.starts_with('/') {
            return Err("the key must be relative (no leading '/')".into());
        }
        for segment in key.split('/') {
            validate_name(segment).map_err(|why| format!("invalid key {key:?}: {why}"))?;
            if segment.ends_with(TEMP_SUFFIX) {
                return Err(format!(
                    "invalid key {key:?}: segments may not end with {TEMP_SUFFIX:?}"
                ));
            }
        }
        Ok(BlobKey(key.to_owned()))
    }

    /// Validates the key part of a blob URL path (after `{filesBase}/`, still percent-encoded): each
    /// segment is percent-decoded on its own, so `%2F` inside a segment, `%2e%2e` and invalid UTF-8
    /// are all refused.
    pub fn from_url_path(encoded: &str) -> Result<BlobKey, String> {
        let mut decoded = Vec::new();
        for segment in encoded.split('/') {
            let segment = percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| "the key is not valid UTF-8 after percent-decoding".to_owned())?;
            if segment.contains('/') {
                return Err("the key contains an encoded '/' (%2F) inside a segment".into());
            }
            decoded.push(segment.into_owned());
        }
        BlobKey::parse(&decoded.join("/"))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key percent-encoded for a URL path: each segment encoded, `/` kept between them.
    pub fn to_url_path(&self) -> String {
        self.0
            .split('/')
            .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The SHA-256 the key names, when its last segment is 64 lowercase hex characters (a
    /// content-addressed key, `{storeId}/{sha256hex}`): uploads must hash to it.
    pub fn content_hash(&self) -> Option<&str> {
        let name = self.file_name();
        (name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then_some(name)
    }

    /// The key below `tree` (`/blobs` + `a/b` = `/blobs/a/b`).
    pub(crate) fn under(&self, tree: &VPath) -> Result<VPath, String> {
        tree.join_relative(&self.0).map_err(|err| err.to_string())
    }
}

/// What is percent-encoded in a key segment: everything but RFC 3986 unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobKey({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_keys() {
        for k in ["a", "store/abc", "s/.hidden", "s/a..b", "ü/x y", "a/b/c/d"] {
            assert_eq!(BlobKey::parse(k).unwrap().as_str(), k);
        }
    }

    #[test]
    fn rejects_hostile_keys() {
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        for k in [
            "",
            "/a",
            "a/",
            "a//b",
            ".",
            "..",
            "a/../b",
            "a/./b",
            "a\\b",
            "a\0b",
            &long,
            "a/.b.0123456789abcdef.fsync-tmp",
        ] {
            assert!(BlobKey::parse(k).is_err(), "{k:?}");
        }
    }

    #[test]
    fn url_paths_are_decoded_per_segment() {
        assert_eq!(BlobKey::from_url_path("a/b%20c").unwrap().as_str(), "a/b c");
        for p in [
            "a/%2e%2e/b",
            "a%2Fb",
            "a/%2E",
            "%2Fa",
            "a/%00",
            "a/%5C",
            "a/%ff",
            "a//b",
        ] {
            assert!(BlobKey::from_url_path(p).is_err(), "{p:?}");
        }
    }

    #[test]
    fn url_path_round_trip() {
        let key = BlobKey::parse("s/a b%2F?#ü").unwrap();
        assert_eq!(BlobKey::from_url_path(&key.to_url_path()).unwrap(), key);
    }

    #[test]
    fn content_hash_needs_64_lowercase_hex() {
        let h = "a".repeat(64);
        assert_eq!(
            BlobKey::parse(&format!("s/{h}")).unwrap().content_hash(),
            Some(&*h)
        );
        assert_eq!(
            BlobKey::parse(&"A".repeat(64)).unwrap().content_hash(),
            None
        );
        assert_eq!(BlobKey::parse("s/abc").unwrap().content_hash(), None);
    }

    proptest::proptest! {
        /// Whatever the URL path, decoding never panics, and an accepted key is a valid path below
        /// any tree, contains no traversal, and survives encoding.
        #[test]
        fn url_paths_never_escape(path in "[a-zA-Z0-9%./\\\\ _~-]{0,40}") {
            if let Ok(key) = BlobKey::from_url_path(&path) {
                let under = key.under(&VPath::new("/blobs").unwrap()).unwrap();
                proptest::prop_assert!(under.as_str().starts_with("/blobs/"));
                proptest::prop_assert!(key.as_str().split('/').all(|s| s != ".." && s != "." && !s.is_empty()));
                proptest::prop_assert_eq!(BlobKey::from_url_path(&key.to_url_path()).unwrap(), key);
            }
        }

        /// Any string: parse never panics, and accepted keys map into the tree.
        #[test]
        fn parse_never_panics(key in ".{0,64}") {
            if let Ok(key) = BlobKey::parse(&key) {
                proptest::prop_assert!(key.under(&VPath::new("/blobs").unwrap()).is_ok());
            }
        }
    }
}
