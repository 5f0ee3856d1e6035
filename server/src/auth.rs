//! [`TokenTable`]: Bearer tokens and the key prefixes each may touch.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::BlobKey;

/// One token and the key prefixes it may sign and delete (empty: every key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TokenGrant {
    /// The Bearer token as clients send it.
    pub token: String,
    /// Key prefixes (plain string prefixes such as `"store-a/"`); `[]` grants every key.
    #[serde(default)]
    pub prefixes: Vec<String>,
}

/// A token's SHA-256 and the key prefixes it may touch.
type Grant = ([u8; 32], Vec<String>);

/// The tokens a server accepts. Tokens are kept as SHA-256 digests and compared in constant time.
///
/// Clones share their grants: [`TokenTable::replace`] on one changes what every clone accepts, so
/// a running server picks up new or revoked tokens without a restart.
#[derive(Clone, Default)]
pub struct TokenTable {
    grants: std::sync::Arc<std::sync::RwLock<Vec<Grant>>>,
}

/// Why a request was refused by [`TokenTable::authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header, or an unknown token (HTTP 401).
    Unauthenticated,
    /// A valid token whose prefixes do not cover the key (HTTP 403).
    Forbidden,
}

impl std::fmt::Debug for TokenTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenTable {{ {} token(s) }}", self.len())
    }
}

impl TokenTable {
    /// A table of `grants`. Empty tokens are refused (they would match a bare `Bearer `).
    pub fn new(grants: impl IntoIterator<Item = TokenGrant>) -> Result<TokenTable, String> {
        let mut digests = Vec::new();
        for grant in grants {
            if grant.token.trim().is_empty() {
                return Err("a token is empty; every token needs a value".into());
            }
            digests.push((
                Sha256::digest(grant.token.as_bytes()).into(),
                grant.prefixes,
            ));
        }
        Ok(TokenTable::from_digests(digests))
    }

    /// A table of tokens known only by their SHA-256 (as a tokens file may keep them) and their
    /// prefixes.
    pub fn from_digests(grants: impl IntoIterator<Item = ([u8; 32], Vec<String>)>) -> TokenTable {
        TokenTable {
            grants: std::sync::Arc::new(std::sync::RwLock::new(grants.into_iter().collect())),
        }
    }

    /// Makes this table, and every clone of it, accept exactly the tokens of `other` from now on.
    pub fn replace(&self, other: &TokenTable) {
        let new = other.read().clone();
        *self
            .grants
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new;
    }

    /// How many tokens it holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether it holds no token (then every signer call is refused).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Grant>> {
        self.grants
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The prefixes of `token`, if it is known.
    fn prefixes(&self, token: &str) -> Option<Vec<String>> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        // Every entry is compared, so the time does not tell which one matched.
        for (known, prefixes) in self.read().iter() {
            if bool::from(known.ct_eq(&digest)) {
                found = Some(prefixes.clone());
            }
        }
        found
    }

    /// Checks an `Authorization` header value; with a key, also that the token may touch it.
    pub fn authorize(&self, header: Option<&str>, key: Option<&BlobKey>) -> Result<(), AuthError> {
        let token = header
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(AuthError::Unauthenticated)?;
        let prefixes = self.prefixes(token).ok_or(AuthError::Unauthenticated)?;
        match key {
            Some(key)
                if !prefixes.is_empty()
                    && !prefixes
                        .iter()
                        .any(|p| key.as_str().starts_with(p.as_str())) =>
            {
                Err(AuthError::Forbidden)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TokenTable {
        TokenTable::new([
            TokenGrant {
                token: "all".into(),
                prefixes: vec![],
            },
            TokenGrant {
                token: "a".into(),
                prefixes: vec!["store-a/".into()],
            },
        ])
        .unwrap()
    }

    #[test]
    fn tokens_and_prefixes() {
        let t = table();
        let ka = BlobKey::parse("store-a/x").unwrap();
        let kb = BlobKey::parse("store-b/x").unwrap();
        assert_eq!(t.authorize(Some("Bearer all"), Some(&kb)), Ok(()));
        assert_eq!(t.authorize(Some("bearer a"), Some(&ka)), Ok(()));
        assert_eq!(
            t.authorize(Some("Bearer a"), Some(&kb)),
            Err(AuthError::Forbidden)
        );
        assert_eq!(
            t.authorize(Some("Bearer nope"), Some(&ka)),
            Err(AuthError::Unauthenticated)
        );
        assert_eq!(
            t.authorize(Some("Basic all"), None),
            Err(AuthError::Unauthenticated)
        );
        assert_eq!(
            t.authorize(Some("Bearer "), None),
            Err(AuthError::Unauthenticated)
        );
        assert_eq!(t.authorize(None, None), Err(AuthError::Unauthenticated));
    }

    #[test]
    fn a_replaced_table_changes_every_clone() {
        let t = table();
        let served = t.clone();
        let digest: [u8; 32] = Sha256::digest(b"new").into();
        t.replace(&TokenTable::from_digests([(digest, vec![])]));
        assert_eq!(served.len(), 1);
        assert_eq!(served.authorize(Some("Bearer new"), None), Ok(()));
        assert_eq!(
            served.authorize(Some("Bearer all"), None),
            Err(AuthError::Unauthenticated)
        );
    }

    #[test]
    fn empty_tokens_are_refused() {
        assert!(TokenTable::new([TokenGrant {
            token: " ".into(),
            prefixes: vec![]
        }])
        .is_err());
    }
}
