//! Streaming SHA-256 with bounded memory, as lowercase hex ([`ContentHash`]).
//!
//! Files are hashed through [`FileSystem::read_stream`], one chunk at a time, so memory use does not
//! depend on the file's size.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use fs_core::{ByteStream, FileSystem, FsResult, StreamOptions, VPath};
use futures::StreamExt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

#[cfg(test)]
mod tests;

/// A SHA-256 content hash: exactly 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash([u8; 32]);

/// Why a string is not a [`ContentHash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidContentHash(String);

impl fmt::Display for InvalidContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid content hash {:?}: expected 64 lowercase hex characters",
            self.0
        )
    }
}

impl std::error::Error for InvalidContentHash {}

impl ContentHash {
    /// Wraps a raw 32-byte digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ContentHash(bytes)
    }

    /// The raw 32-byte digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The lowercase hex form (64 characters).
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(DIGITS[usize::from(b >> 4)]));
            s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        s
    }

    /// Parses 64 lowercase hex characters (uppercase is rejected: the wire form is lowercase).
    pub fn parse(s: &str) -> Result<Self, InvalidContentHash> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        let raw = s.as_bytes();
        if raw.len() != 64 {
            return Err(InvalidContentHash(s.to_owned()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in raw.chunks_exact(2).enumerate() {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = (hi << 4) | lo,
                _ => return Err(InvalidContentHash(s.to_owned())),
            }
        }
        Ok(ContentHash(out))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl FromStr for ContentHash {
    type Err = InvalidContentHash;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContentHash::parse(s)
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        ContentHash::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An incremental SHA-256 for callers that already see the chunks (e.g. a download being written).
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Hasher::default()
    }

    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
        self.len += chunk.len() as u64;
    }

    /// How many bytes were fed so far.
    pub fn bytes_hashed(&self) -> u64 {
        self.len
    }

    /// Finishes and returns the hash.
    pub fn finalize(self) -> ContentHash {
        ContentHash(self.inner.finalize().into())
    }
}

/// Hashes a whole in-memory buffer.
pub fn hash_bytes(data: &[u8]) -> ContentHash {
    ContentHash(Sha256::digest(data).into())
}

/// [`hash_bytes`] that hands the work to WebCrypto when `web_crypto` allows it (wasm32, buffers up
/// to 8 MiB, only where the JavaScript event loop drives the caller); the same answer either way.
pub(crate) async fn digest(data: &[u8], web_crypto: bool) -> ContentHash {
    #[cfg(not(target_arch = "wasm32"))]
    let _ = web_crypto;
    #[cfg(target_arch = "wasm32")]
    if web_crypto && data.len() <= webcrypto::MAX_BYTES {
        if let Some(hash) = webcrypto::digest(data).await {
            return hash;
        }
    }
    hash_bytes(data)
}

#[cfg(target_arch = "wasm32")]
mod webcrypto {
    //! `crypto.subtle.digest("SHA-256", bytes)`, looked up at each call (absent outside secure
    //! contexts): `None` when it is missing or fails, and the caller hashes in wasm.
    use js_sys::{Function, Promise, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::ContentHash;

    /// Buffers up to this size are hashed with WebCrypto in browsers and Node (where
    /// `crypto.subtle` exists): several times the speed of SHA-256 compiled to wasm, for one copy
    /// of the buffer into JavaScript. Larger buffers, and every native build, use `hash_bytes`.
    pub(super) const MAX_BYTES: usize = 8 << 20;

    pub(super) async fn digest(data: &[u8]) -> Option<ContentHash> {
        let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok();
        let subtle = get(&get(&js_sys::global().into(), "crypto")?, "subtle")?;
        let call: Function = get(&subtle, "digest")?.dyn_into().ok()?;
        let bytes = Uint8Array::from(data);
        let promise: Promise = call
            .call2(&subtle, &JsValue::from_str("SHA-256"), &bytes)
            .ok()?
            .dyn_into()
            .ok()?;
        let buffer = JsFuture::from(promise).await.ok()?;
        let out = Uint8Array::new(&buffer);
        let mut hash = [0u8; 32];
        if out.length() != 32 {
            return None;
        }
        out.copy_to(&mut hash);
        Some(ContentHash(hash))
    }
}

/// Hashes a stream chunk by chunk (memory bounded by the largest chunk); the first error is returned.
pub async fn hash_stream(mut stream: ByteStream) -> FsResult<ContentHash> {
    let mut hasher = Hasher::new();
    while let Some(chunk) = stream.next().await {
        let chunk: Bytes = chunk?;
        hasher.update(&chunk);
    }
    Ok(hasher.finalize())
}

/// Hashes a file through [`FileSystem::read_stream`] (never reading it whole into memory).
pub async fn hash_file(fs: &dyn FileSystem, path: &VPath) -> FsResult<ContentHash> {
    let stream = fs.read_stream(path, StreamOptions::default()).await?;
    hash_stream(stream).await
}
