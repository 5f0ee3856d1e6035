//! [`UrlSigner`]: HMAC-SHA256 signatures of blob URLs.
//!
//! `sig = base64url_nopad(HMAC-SHA256(secret, "{METHOD}\n{key}\n{exp}"))`, where `key` is the decoded
//! key and `exp` the expiry in Unix seconds, both also in the URL, so a signature is valid for one
//! method, one key and one expiry.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::BlobKey;

type HmacSha256 = Hmac<Sha256>;

/// The shortest signing secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// Signs and verifies blob URLs with a secret.
#[derive(Clone)]
pub struct UrlSigner {
    secret: Vec<u8>,
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// `exp` or `sig` is missing or malformed.
    Malformed(&'static str),
    /// The signature does not match (tampered, another method or key, another secret).
    Mismatch,
    /// The URL expired at this Unix time.
    Expired(u64),
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::Malformed(what) => write!(f, "the signed URL is malformed: {what}"),
            SignatureError::Mismatch => f.write_str(
                "the URL signature is invalid for this method and key; ask the signer API for a new URL",
            ),
            SignatureError::Expired(at) => write!(
                f,
                "the signed URL expired at {at} (Unix time); ask the signer API for a new URL"
            ),
        }
    }
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner { secret: <hidden> }")
    }
}

impl UrlSigner {
    /// A signer with `secret` (at least [`MIN_SECRET_BYTES`] bytes).
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<UrlSigner, String> {
        let secret = secret.into();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the signing secret is {} bytes long; use at least {MIN_SECRET_BYTES} random bytes",
                secret.len()
            ));
        }
        Ok(UrlSigner { secret })
    }

    fn mac(&self, method: &str, key: &BlobKey, exp: u64) -> HmacSha256 {
        self.mac_of(&format!("{method}\n{}\n{exp}", key.as_str()))
    }

    fn mac_of(&self, message: &str) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac
    }

    /// What a part URL signs: the first line `PUT-PART` can never be a blob URL's method, and the key
    /// comes last, so no blob signature is a part signature and no two parts share one.
    fn part_message(key: &BlobKey, upload_id: &str, part_number: u32, exp: u64) -> String {
        format!(
            "PUT-PART\n{upload_id}\n{part_number}\n{exp}\n{}",
            key.as_str()
        )
    }

    /// The signature of a part upload URL: binds `key`, `upload_id`, `part_number` and `exp`
    /// (`base64url_nopad(HMAC-SHA256(secret, "PUT-PART\n{uploadId}\n{partNumber}\n{exp}\n{key}"))`).
    pub fn sign_part(&self, key: &BlobKey, upload_id: &str, part_number: u32, exp: u64) -> String {
        let message = Self::part_message(key, upload_id, part_number, exp);
        URL_SAFE_NO_PAD.encode(self.mac_of(&message).finalize().into_bytes())
    }

    /// Checks a part URL's `sig` in constant time, then the expiry against `now` (Unix seconds).
    pub fn verify_part(
        &self,
        key: &BlobKey,
        upload_id: &str,
        part_number: u32,
        exp: u64,
        sig: &str,
        now: u64,
    ) -> Result<(), SignatureError> {
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| SignatureError::Malformed("sig is not unpadded base64url"))?;
        self.mac_of(&Self::part_message(key, upload_id, part_number, exp))
            .verify_slice(&sig)
            .map_err(|_| SignatureError::Mismatch)?;
        if now >= exp {
            return Err(SignatureError::Expired(exp));
        }
        Ok(())
    }

    /// The signature of `method` (upper case) on `key` until `exp`.
    pub fn sign(&self, method: &str, key: &BlobKey, exp: u64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(method, key, exp).finalize().into_bytes())
    }

    /// Checks `sig` in constant time, then the expiry against `now` (Unix seconds).
    pub fn verify(
        &self,
        method: &str,
        key: &BlobKey,
        exp: u64,
        sig: &str,
        now: u64,
    ) -> Result<(), SignatureError> {
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| SignatureError::Malformed("sig is not unpadded base64url"))?;
        self.mac(method, key, exp)
            .verify_slice(&sig)
            .map_err(|_| SignatureError::Mismatch)?;
        if now >= exp {
            return Err(SignatureError::Expired(exp));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = UrlSigner::new(*b"0123456789abcdef").unwrap();
        let k = BlobKey::parse("a/b").unwrap();
        let sig = s.sign("PUT", &k, 100);
        assert_eq!(s.verify("PUT", &k, 100, &sig, 99), Ok(()));
        assert_eq!(
            s.verify("PUT", &k, 100, &sig, 100),
            Err(SignatureError::Expired(100))
        );
        assert_eq!(
            s.verify("GET", &k, 100, &sig, 1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            s.verify("PUT", &k, 101, &sig, 1),
            Err(SignatureError::Mismatch)
        );
        let other = BlobKey::parse("a/c").unwrap();
        assert_eq!(
            s.verify("PUT", &other, 100, &sig, 1),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            s.verify("PUT", &k, 100, "!!", 1),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn part_signatures_bind_key_upload_and_part() {
        let s = UrlSigner::new(*b"0123456789abcdef").unwrap();
        let k = BlobKey::parse("a/b").unwrap();
        let sig = s.sign_part(&k, "00ff", 2, 100);
        assert_eq!(s.verify_part(&k, "00ff", 2, 100, &sig, 99), Ok(()));
        let other = BlobKey::parse("a/c").unwrap();
        assert_eq!(
            s.verify_part(&other, "00ff", 2, 100, &sig, 1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            s.verify_part(&k, "00fe", 2, 100, &sig, 1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            s.verify_part(&k, "00ff", 3, 100, &sig, 1),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            s.verify("PUT", &k, 100, &sig, 1),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(UrlSigner::new(*b"short").is_err());
    }
}
