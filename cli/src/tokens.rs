//! The tokens file and `filesync tokens create|list|revoke`; `serve` reloads the file when it
//! changes.
//!
//! Format: `{"tokens": [{"sha256": "<hex>", "prefixes": ["store-a/"], "name": "...", "created":
//! "<ISO time>"}]}`. `tokens create` stores only a token's SHA-256 and prints the token once. An
//! entry may instead hold the token itself (`"token": "..."`), for files written by hand.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use filesync_server::TokenTable;
use sha2::{Digest, Sha256};

use crate::output::{hex, CmdResult, Failure, Out};

/// The file of tokens `serve` accepts.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TokensFile {
    /// The entries.
    pub tokens: Vec<TokenEntry>,
}

/// One token: itself or its SHA-256, and the key prefixes it may touch (`[]`: every key).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// The token itself (files written by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The SHA-256 of the token, lowercase hex (what `tokens create` writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Key prefixes; `[]` grants every key.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// A name to find it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was created (ISO 8601, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl TokenEntry {
    /// The token's SHA-256 (from the entry, or computed from the token).
    fn digest(&self) -> Result<[u8; 32], String> {
        match (&self.token, &self.sha256) {
            (Some(token), None) if !token.trim().is_empty() => {
                Ok(Sha256::digest(token.as_bytes()).into())
            }
            (None, Some(sha)) => {
                let bytes: Result<Vec<u8>, _> = (0..sha.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(sha.get(i..i + 2).unwrap_or("x"), 16))
                    .collect();
                bytes
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| format!("the sha256 {sha:?} is not 64 hex digits"))
            }
            _ => {
                Err("every entry needs either \"token\" (not empty) or \"sha256\", not both".into())
            }
        }
    }

    /// A short id: the first 12 hex digits of its SHA-256.
    fn id(&self) -> String {
        self.digest().map(|d| hex(&d[..6])).unwrap_or_default()
    }
}

impl TokensFile {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<TokensFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read the tokens file {}: {err}", path.display()))?;
        let file: TokensFile = serde_json::from_str(&text).map_err(|err| {
            format!(
                "the tokens file {} is not valid ({err}); expected {{\"tokens\": [{{\"token\": \"...\", \"prefixes\": [\"store-a/\"]}}]}}",
                path.display()
            )
        })?;
        file.table()
            .map_err(|err| format!("the tokens file {}: {err}", path.display()))?;
        Ok(file)
    }

    /// The table a server checks requests against.
    pub fn table(&self) -> Result<TokenTable, String> {
        let mut grants = Vec::new();
        for (index, entry) in self.tokens.iter().enumerate() {
            let digest = entry
                .digest()
                .map_err(|err| format!("entry {}: {err}", index + 1))?;
            grants.push((digest, entry.prefixes.clone()));
        }
        Ok(TokenTable::from_digests(grants))
    }

    /// Writes `path` atomically (a temporary sibling renamed over it), readable by this user only.
    fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|err| err.to_string())?;
        crate::output::write_private(path, &format!("{text}\n"))
            .map_err(|err| format!("cannot write the tokens file {}: {err}", path.display()))
    }
}

/// `filesync tokens`.
#[derive(Debug, clap::Args)]
pub struct TokensArgs {
    /// The tokens file (default: tokens.json in the data dir).
    #[arg(long, env = "FILESYNC_TOKENS_FILE", global = true)]
    tokens_file: Option<PathBuf>,

    /// The data dir whose tokens.json is used when no tokens file is given.
    #[arg(
        long,
        env = "FILESYNC_DATA_DIR",
        default_value = "./filesync-data",
        global = true
    )]
    data_dir: PathBuf,

    #[command(subcommand)]
    command: TokensCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokensCommand {
    /// Create a token, print it once, and keep only its SHA-256 in the file.
    Create {
        /// A key prefix the token may touch (repeat for more); none: every key.
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// A name to find it by later.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the tokens: id, name, prefixes, creation time (never the tokens themselves).
    List,
    /// Revoke every token whose id (or a start of it, at least 6 digits) or name is given.
    Revoke {
        /// Ids or names.
        #[arg(required = true)]
        which: Vec<String>,
    },
}

/// The tokens file `serve` and `tokens` use: the flag or variable, else `{data_dir}/tokens.json`.
pub fn tokens_path(flag: Option<&Path>, data_dir: &Path) -> PathBuf {
    flag.map_or_else(|| data_dir.join("tokens.json"), Path::to_owned)
}

/// Runs `filesync tokens …`.
pub fn run(args: TokensArgs, out: Out) -> CmdResult {
    let path = tokens_path(args.tokens_file.as_deref(), &args.data_dir);
    let mut file = if path.exists() {
        TokensFile::load(&path)?
    } else {
        TokensFile::default()
    };
    match args.command {
        TokensCommand::Create { prefixes, name } => {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|err| format!("cannot get random bytes: {err}"))?;
            let token = format!("fst_{}", hex(&raw));
            let entry = TokenEntry {
                token: None,
                sha256: Some(hex(&Sha256::digest(token.as_bytes()))),
                prefixes: prefixes.clone(),
                name: name.clone(),
                created: Some(iso_now()),
            };
            let id = entry.id();
            file.tokens.push(entry);
            file.save(&path)?;
            out.result(
                || {
                    format!(
                        "{token}\n(id {id}; shown once: only its SHA-256 is kept in {}; a running server accepts it within seconds)",
                        path.display()
                    )
                },
                || serde_json::json!({"token": token, "id": id, "name": name, "prefixes": prefixes, "file": path}),
            );
        }
        TokensCommand::List => {
            for entry in &file.tokens {
                let id = entry.id();
                out.result(
                    || {
                        format!(
                            "{id}  {:<16}  {:<24}  {}",
                            entry.name.as_deref().unwrap_or("-"),
                            if entry.prefixes.is_empty() {
                                "(every key)".to_owned()
                            } else {
                                entry.prefixes.join(",")
                            },
                            entry.created.as_deref().unwrap_or("-")
                        )
                    },
                    || serde_json::json!({"id": id, "name": entry.name, "prefixes": entry.prefixes, "created": entry.created}),
                );
            }
        }
        TokensCommand::Revoke { which } => {
            for w in &which {
                if w.len() < 6 && !file.tokens.iter().any(|e| e.name.as_deref() == Some(w)) {
                    return Err(Failure::failed(format!(
                        "{w:?} is neither a name nor at least 6 digits of an id; see `filesync tokens list`"
                    )));
                }
            }
            let before = file.tokens.len();
            let matches = |e: &TokenEntry| {
                which.iter().any(|w| {
                    e.name.as_deref() == Some(w.as_str())
                        || (w.len() >= 6 && e.id().starts_with(w.as_str()))
                })
            };
            let revoked: Vec<String> = file
                .tokens
                .iter()
                .filter(|e| matches(e))
                .map(TokenEntry::id)
                .collect();
            file.tokens.retain(|e| !matches(e));
            if revoked.is_empty() {
                return Err(Failure::new(
                    crate::output::Exit::NotFound,
                    format!("no token matches {which:?}; see `filesync tokens list`"),
                ));
            }
            file.save(&path)?;
            out.result(
                || {
                    format!(
                        "revoked {} of {before} token(s): {}",
                        revoked.len(),
                        revoked.join(", ")
                    )
                },
                || serde_json::json!({"revoked": revoked}),
            );
        }
    }
    Ok(())
}

/// Now as ISO 8601 UTC, to the second.
fn iso_now() -> String {
    iso_at(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// `secs` after the epoch as ISO 8601 UTC.
fn iso_at(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Reloads `path` into `table` whenever the file changes (checked every `period`), until the
/// process ends. A file that cannot be read or is not valid keeps the tokens in force, and says so.
pub fn watch(path: PathBuf, table: TokenTable, period: Duration) {
    tokio::spawn(async move {
        let stamp = |path: &Path| {
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.modified().ok(), m.len()))
        };
        let mut seen = stamp(&path);
        loop {
            tokio::time::sleep(period).await;
            let now = stamp(&path);
            if now == seen {
                continue;
            }
            seen = now;
            match TokensFile::load(&path).and_then(|f| f.table()) {
                Ok(new) => {
                    table.replace(&new);
                    tracing::info!(file = %path.display(), tokens = new.len(), "reloaded the tokens file");
                }
                Err(err) => {
                    tracing::error!(error = %err, "the tokens file changed but cannot be used; the tokens in force stay");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_hold_a_token_or_its_digest() {
        let by_token = TokenEntry {
            token: Some("t".into()),
            sha256: None,
            prefixes: vec![],
            name: None,
            created: None,
        };
        let by_digest = TokenEntry {
            token: None,
            sha256: Some(hex(&Sha256::digest(b"t"))),
            ..by_token.clone()
        };
        assert_eq!(by_token.digest().unwrap(), by_digest.digest().unwrap());
        assert_eq!(by_token.id().len(), 12);
        let both = TokenEntry {
            token: Some("t".into()),
            ..by_digest.clone()
        };
        assert!(both.digest().is_err());
        let bad = TokenEntry {
            sha256: Some("zz".into()),
            ..by_digest
        };
        assert!(bad.digest().unwrap_err().contains("64 hex"));
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_at(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_at(951_825_600), "2000-02-29T12:00:00Z");
        assert_eq!(iso_at(1_796_642_805), "2026-12-07T11:26:45Z");
        assert_eq!(iso_now().len(), 20);
    }
}
