//! The remote behaviour suite (`filesync::remote_suite`) against `MemoryRemote`, natively and on
//! wasm32 (in Node): the remote the engine's tests and the simulation run on behaves like the real
//! server behind the HTTP clients. Parts of 64 KiB and a 1 MiB upload limit keep it fast.

// On wasm32 the runtime holds JS values (not Send); `Arc` is still what the harness hands out.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

use std::sync::Arc;
use std::time::Duration;

use filesync::remote_suite::{Fetched, Limited, RemoteHarness, SharedRemote, ShortTtl, Skip};
use filesync::{MemoryRemote, SharedRuntime, SignedUrl};

const PART: u64 = 64 * 1024;
const MAX_UPLOAD: u64 = 1024 * 1024;
const LIMITED_PREFIX: &str = "limited/";
const SHORT_TTL: Duration = Duration::from_secs(2);

struct Memory {
    runtime: SharedRuntime,
    remote: MemoryRemote,
    /// A second remote (its own objects and signing secret) whose URLs work for 2 s.
    short: MemoryRemote,
}

fn runtime() -> SharedRuntime {
    #[cfg(not(target_arch = "wasm32"))]
    return Arc::new(filesync::TokioRuntime::current());
    #[cfg(target_arch = "wasm32")]
    return Arc::new(filesync::BrowserRuntime);
}

async fn memory() -> Memory {
    let runtime = runtime();
    let remote = MemoryRemote::new(runtime.clone());
    remote.set_part_size(PART);
    remote.set_max_upload_bytes(MAX_UPLOAD);
    let short = MemoryRemote::new(runtime.clone());
    short.set_url_ttl(SHORT_TTL);
    Memory {
        runtime,
        remote,
        short,
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl RemoteHarness for Memory {
    fn name(&self) -> &str {
        "MemoryRemote"
    }

    fn runtime(&self) -> SharedRuntime {
        self.runtime.clone()
    }

    fn remote(&self) -> SharedRemote {
        Arc::new(self.remote.with_multipart_threshold(PART))
    }

    fn single_request_remote(&self) -> SharedRemote {
        Arc::new(self.remote.with_multipart_threshold(u64::MAX))
    }

    fn part_size(&self) -> u64 {
        PART
    }

    fn url_ttl(&self) -> Duration {
        Duration::from_secs(900)
    }

    fn refused_credentials(&self) -> Result<SharedRemote, Skip> {
        Ok(Arc::new(
            self.remote
                .with_multipart_threshold(PART)
                .with_refused_credentials(),
        ))
    }

    fn limited(&self) -> Result<Limited, Skip> {
        Ok(Limited {
            remote: Arc::new(
                self.remote
                    .with_multipart_threshold(PART)
                    .with_prefixes([LIMITED_PREFIX]),
            ),
            allowed_prefix: LIMITED_PREFIX.to_owned(),
        })
    }

    fn max_upload_bytes(&self) -> Result<u64, Skip> {
        Ok(MAX_UPLOAD)
    }

    fn offline(&self) -> Result<SharedRemote, Skip> {
        let offline = MemoryRemote::new(self.runtime.clone());
        offline.set_offline(true);
        Ok(Arc::new(offline))
    }

    fn short_ttl(&self) -> Result<ShortTtl, Skip> {
        Ok(ShortTtl {
            remote: Arc::new(self.short.clone()),
            ttl: SHORT_TTL,
        })
    }

    fn can_fetch(&self) -> Result<(), Skip> {
        Ok(())
    }

    /// `MemoryRemote::fetch_url` (the URLs are `memory://`): each remote refuses the other's
    /// signatures with 403, so the answer is the first that is not a refusal.
    async fn fetch(&self, url: &SignedUrl) -> Result<Fetched, String> {
        let mut answer = (0, bytes::Bytes::new());
        for remote in [&self.remote, &self.short] {
            answer = remote.fetch_url(&url.url).map_err(|e| e.to_string())?;
            if answer.0 != 403 {
                break;
            }
        }
        Ok(Fetched {
            status: answer.0,
            body: answer.1,
        })
    }
}

filesync::remote_suite!(
    memory,
    skip {
        answers_slower_than_the_timeout_are_offline:
            "MemoryRemote is no client: it has no timeout to exceed (set_delay only slows it down)",
    }
);
