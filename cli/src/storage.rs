//! Where blobs are: the data dir (disk mode) or an S3-compatible bucket (S3 mode). The flags are
//! the same for `serve` and for the admin commands.

use std::path::PathBuf;
use std::time::Duration;

use filesync_server::{
    BlobKey, BlobStore, BlobStream, DiskStore, DiskStoreOptions, ListedBlob, S3Store,
    S3StoreOptions, StoreError, UrlSigner, DEFAULT_MAX_UPLOAD_BYTES,
};

/// Where blobs go in S3 mode: any S3-compatible bucket. Without `--s3-bucket`, blobs stay in the
/// data dir.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "S3 mode (blobs in an S3-compatible bucket instead of the data dir)")]
pub struct S3Args {
    /// Bucket to keep blobs in (it must exist). Setting it turns S3 mode on: clients send and
    /// fetch bytes straight to and from the bucket with URLs this server presigns.
    #[arg(long, env = "FILESYNC_S3_BUCKET")]
    s3_bucket: Option<String>,

    /// S3 endpoint URL (MinIO, Garage, R2, …); default: AWS, https://s3.{region}.amazonaws.com.
    #[arg(long, env = "FILESYNC_S3_ENDPOINT", requires = "s3_bucket")]
    s3_endpoint: Option<String>,

    /// Region signatures name (us-east-1 for most S3-compatible servers, auto for R2).
    #[arg(long, env = "FILESYNC_S3_REGION", default_value = "us-east-1")]
    s3_region: String,

    /// Access key id of the bucket's credentials.
    #[arg(long, env = "FILESYNC_S3_ACCESS_KEY_ID", requires = "s3_bucket")]
    s3_access_key_id: Option<String>,

    /// Secret access key of the bucket's credentials (prefer the environment variable).
    #[arg(
        long,
        env = "FILESYNC_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "s3_bucket"
    )]
    s3_secret_access_key: Option<String>,

    /// Path-style URLs ({endpoint}/{bucket}/{key}), needed by MinIO and Garage; always used when
    /// the endpoint is an IP address or localhost.
    #[arg(long, env = "FILESYNC_S3_PATH_STYLE")]
    s3_path_style: bool,
}

impl S3Args {
    /// The S3 store these flags describe, or `None` without `--s3-bucket`.
    pub fn store(
        &self,
        url_ttl: Duration,
        max_upload_bytes: u64,
    ) -> Result<Option<S3Store>, String> {
        let Some(bucket) = &self.s3_bucket else {
            return Ok(None);
        };
        let (Some(key_id), Some(secret)) = (&self.s3_access_key_id, &self.s3_secret_access_key)
        else {
            return Err("S3 mode needs credentials: set FILESYNC_S3_ACCESS_KEY_ID and FILESYNC_S3_SECRET_ACCESS_KEY (or --s3-access-key-id and --s3-secret-access-key)".into());
        };
        let endpoint = self
            .s3_endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.s3_region));
        let host_is_address = endpoint
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .is_some_and(|host| {
                host == "localhost"
                    || host.starts_with('[')
                    || host.parse::<std::net::IpAddr>().is_ok()
            });
        let mut options = S3StoreOptions::new(endpoint, bucket, &self.s3_region, key_id, secret);
        options.path_style = self.s3_path_style || host_is_address;
        options.url_ttl = url_ttl;
        options.max_upload_bytes = max_upload_bytes;
        S3Store::new(options)
            .map(Some)
            .map_err(|err| format!("{err} (S3 mode)"))
    }
}

/// The storage the admin commands work on: the data dir's blobs, or the bucket.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Storage")]
pub struct StorageArgs {
    /// The data dir of `filesync serve` (disk mode).
    #[arg(long, env = "FILESYNC_DATA_DIR", default_value = "./filesync-data")]
    data_dir: PathBuf,

    #[command(flatten)]
    s3: S3Args,
}

/// A store opened by an admin command.
pub enum Storage {
    /// The data dir.
    Disk(DiskStore),
    /// The bucket.
    S3(Box<S3Store>),
}

impl StorageArgs {
    /// Opens the storage the flags name. The data dir must exist (admin commands never create
    /// one).
    pub async fn open(&self) -> Result<Storage, String> {
        if let Some(s3) = self
            .s3
            .store(filesync_server::DEFAULT_URL_TTL, DEFAULT_MAX_UPLOAD_BYTES)?
        {
            return Ok(Storage::S3(Box::new(s3)));
        }
        if !self.data_dir.join("blobs").is_dir() {
            return Err(format!(
                "{} is not a data dir of `filesync serve` (no blobs/ in it); pass --data-dir, or the --s3-* flags for a bucket",
                self.data_dir.display()
            ));
        }
        // Admin commands sign nothing: any secret will do.
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|err| format!("cannot get random bytes: {err}"))?;
        let signer = UrlSigner::new(secret)?;
        DiskStore::open(DiskStoreOptions::new(&self.data_dir, signer))
            .await
            .map(Storage::Disk)
            .map_err(|err| err.to_string())
    }
}

impl Storage {
    /// Every blob under `prefix`, by key.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ListedBlob>, StoreError> {
        match self {
            Storage::Disk(store) => store.list_blobs(prefix).await,
            Storage::S3(store) => store.list_blobs(prefix).await,
        }
    }

    /// The bytes of the blob at `key`.
    pub async fn read_all(&self, key: &BlobKey) -> Result<BlobStream, StoreError> {
        match self {
            Storage::Disk(store) => store.read_all(key).await,
            Storage::S3(store) => store.read_all(key).await,
        }
    }

    /// The SHA-256 recorded for a blob whose key does not name one (the disk store's sidecar).
    pub async fn recorded_sha256(&self, key: &BlobKey) -> Option<String> {
        match self {
            Storage::Disk(store) => store.stat(key).await.ok().and_then(|info| info.sha256),
            Storage::S3(_) => None,
        }
    }

    /// Deletes the blob at `key`.
    pub async fn delete(&self, key: &BlobKey) -> Result<(), StoreError> {
        match self {
            Storage::Disk(store) => store.delete(key).await,
            Storage::S3(store) => store.delete(key).await,
        }
    }

    /// What it is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Storage::Disk(_) => "the data dir".to_owned(),
            Storage::S3(store) => format!(
                "the bucket {} at {}",
                store.options().bucket,
                store.options().endpoint
            ),
        }
    }
}

/// How long `duration` text such as `90s`, `30m`, `24h` or `7d` is.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 30m, 24h or 7d"))?;
    let secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration such as 90s, 30m, 24h or 7d"
            ))
        }
    };
    Ok(Duration::from_secs(number.saturating_mul(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("").is_err());
    }
}
