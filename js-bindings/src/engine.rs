//! [`Engine`] (`FileSyncEngine` in JavaScript): one [`FileSync`] with a Promise API.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use filesync::model::local_path;
use filesync::{
    BrowserHttpRemote, BrowserHttpRemoteOptions, ContentHash, DownloadPolicy, ExecutorConfig,
    FileSync, FileSyncError, FileSyncEvent, RemoteStorage, Resolved, SaveOptions, TokenGetter,
};
use fs_core::{FileSystem, MemoryFs, StreamOptions};
use futures::StreamExt;
use js_sys::{Function, Object, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::catalog::{CatalogGlue, JsCatalog};
use crate::convert::{self, input_error, js_error, set};
use crate::js;
use crate::jsfs::JsFs;

/// The engine's settings as the package passes them (`ts/engine.ts` builds this object from the
/// app's options; every field but `storeId` is optional).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Config {
    store_id: String,
    /// Read by [`file_system`] before the rest is parsed (it may be an object).
    #[serde(default, rename = "fileSystem")]
    _file_system: Option<serde::de::IgnoredAny>,
    /// Read by [`remote`] before the rest is parsed (it may hold functions).
    #[serde(default, rename = "remote")]
    _remote: Option<serde::de::IgnoredAny>,
    max_concurrent_uploads: Option<usize>,
    max_concurrent_downloads: Option<usize>,
    max_retries: Option<u32>,
    retry_base_delay_ms: Option<u64>,
    retry_max_delay_ms: Option<u64>,
    retry_jitter_ms: Option<u64>,
    health_check_interval_ms: Option<u64>,
    delete_grace_period_ms: Option<u64>,
    max_file_size_bytes: Option<u64>,
    cache_limit_bytes: Option<u64>,
    download_policy: Option<String>,
    auto_prioritize_on_resolve: Option<bool>,
    orphan_sweep: Option<bool>,
}

/// Where the engine keeps bytes: the file system, and in browsers the views of OPFS that large
/// transfers use.
struct Storage {
    fs: Arc<dyn FileSystem>,
    /// OPFS through the package's dedicated worker (sync access handles), for partial downloads.
    transfer_fs: Option<Arc<dyn FileSystem>>,
    /// Stored files as disk-backed Blobs, for uploads.
    blob_opener: Option<filesync::BlobOpener>,
    /// Download bodies written and hashed in the package's worker.
    chunk_saver: Option<filesync::ChunkSaver>,
}

/// The file system of `config.fileSystem`: `"opfs"` (the default), `"memory"`, or an object
/// implementing the package's `JsFileSystem` interface. With OPFS, `config.worker` (a `Worker`
/// started from the package's worker script, or absent) carries partial downloads.
async fn storage(config: &JsValue) -> Result<Storage, JsValue> {
    let value = js::get(config, "fileSystem");
    if value.is_object() {
        return Ok(Storage {
            fs: Arc::new(JsFs::new(value.clone())?),
            transfer_fs: None,
            blob_opener: None,
            chunk_saver: None,
        });
    }
    let name = if value.is_undefined() || value.is_null() {
        "opfs".to_owned()
    } else {
        value.as_string().unwrap_or_default()
    };
    match name.as_str() {
        "opfs" => {
            let fs = fs_opfs::OpfsFs::open(fs_opfs::OpfsOptions::default())
                .await
                .map_err(|e| {
                    input_error(format!(
                        "the browser's origin private file system (OPFS) could not be opened ({e}); where OPFS is unavailable (Node, old browsers) pass fileSystem: nodeFileSystem(dir) from \"filesync-livestore/node\", \"memory\", or your own JsFileSystem"
                    ))
                })?;
            let blobs = fs.clone();
            let blob_opener: filesync::BlobOpener = Arc::new(move |path| {
                let fs = blobs.clone();
                Box::pin(async move { fs.file_blob(&path).await.map(Into::into) })
            });
            let worker = js::get(config, "worker");
            let (transfer_fs, chunk_saver) = match worker.dyn_into::<web_sys::Worker>() {
                Ok(worker) => match transfer_worker(worker).await {
                    Some((fs, saver)) => (Some(fs), saver),
                    None => (None, None),
                },
                Err(_) => (None, None),
            };
            Ok(Storage {
                fs: Arc::new(fs),
                transfer_fs,
                blob_opener: Some(blob_opener),
                chunk_saver,
            })
        }
        "memory" => Ok(Storage {
            fs: Arc::new(MemoryFs::new()),
            transfer_fs: None,
            blob_opener: None,
            chunk_saver: None,
        }),
        other => Err(input_error(format!(
            "unknown fileSystem {other:?}: use \"opfs\", \"memory\" or a JsFileSystem object (nodeFileSystem(dir) in Node)"
        ))),
    }
}

/// OPFS with sync access handles in `worker` (started from the package's worker script), and the
/// worker's chunk saver (download bodies written and hashed there; `None`, with a warning, when
/// it cannot be reached); or `None` with a warning when the worker does not boot: the engine then
/// writes downloads on the page, where an interrupted download starts over.
async fn transfer_worker(
    worker: web_sys::Worker,
) -> Option<(Arc<dyn FileSystem>, Option<filesync::ChunkSaver>)> {
    let connected = async {
        let options = fs_opfs::bridge::SpawnOptions::default();
        let bridge = fs_opfs::bridge::BridgeWorker::attach(worker, options).await?;
        let opfs = crate::worker::transfer_options();
        let fs = bridge
            .connect(&fs_opfs::bridge::Backend::Opfs(opfs))
            .await?;
        let saver = match crate::worker::WorkerSaver::connect(bridge.worker()) {
            Ok(saver) => Some(saver.chunk_saver()),
            Err(e) => {
                let why = crate::js::message_of(&e);
                tracing::warn!(error = %why, "the file sync worker cannot save downloads: the page writes them through it");
                None
            }
        };
        Ok::<_, fs_core::FsError>((fs, saver))
    };
    match connected.await {
        Ok((fs, saver)) => Some((Arc::new(fs) as Arc<dyn FileSystem>, saver)),
        Err(e) => {
            tracing::warn!(error = %e, "the file sync worker did not start: downloads are written on the page, and one interrupted by a reload starts over");
            None
        }
    }
}

/// The remote of `config.remote`: `null`/absent is local-only; else `{signerBaseUrl, authToken?
/// (a string, or a function answering one or a Promise of one), headers?, includeCredentials?}`.
fn remote(config: &JsValue) -> Result<Option<Arc<dyn RemoteStorage>>, JsValue> {
    let remote = js::get(config, "remote");
    if remote.is_null() || remote.is_undefined() {
        return Ok(None);
    }
    let bad = |e: filesync::RemoteError| input_error(format!("remote: {}", e.message));
    let base = js::get_string(&remote, "signerBaseUrl").ok_or_else(|| {
        input_error("remote.signerBaseUrl must be a string (the signer's base URL, e.g. \"/api\")")
    })?;
    let mut options = BrowserHttpRemoteOptions::new(base);
    let token = js::get(&remote, "authToken");
    if let Some(token) = token.as_string() {
        options = options.with_token(token);
    } else if token.is_function() {
        options = options.with_token_getter(TokenGetter::from_js(token).map_err(bad)?);
    } else if !token.is_undefined() && !token.is_null() {
        return Err(input_error(
            "remote.authToken must be a string or a function answering one (or a Promise of one)",
        ));
    }
    options = options
        .with_headers_from_js(&js::get(&remote, "headers"))
        .map_err(bad)?;
    let credentials = js::get(&remote, "includeCredentials");
    if !credentials.is_undefined() {
        let include = credentials
            .as_bool()
            .ok_or_else(|| input_error("remote.includeCredentials must be true or false"))?;
        options = options.with_include_credentials(include);
    }
    let remote = BrowserHttpRemote::new(options).map_err(bad)?;
    Ok(Some(Arc::new(remote)))
}

fn ms(value: Option<u64>) -> Option<Duration> {
    value.map(Duration::from_millis)
}

/// One file sync engine for the package: built by [`Engine::create`], stopped by
/// [`Engine::stop`]. Every method that waits returns a Promise; every error is an `Error` with a
/// `code` (see `ts/errors.ts`).
#[wasm_bindgen(js_name = FileSyncEngine)]
pub struct Engine {
    sync: FileSync,
    /// The app's event callback, kept alive with the engine.
    _on_event: Rc<Function>,
}

#[wasm_bindgen(js_class = FileSyncEngine)]
impl Engine {
    /// Builds an engine: `config` (see `ts/engine.ts`), the catalog glue over the store, and a
    /// callback for events (the package's event objects). The engine is not started.
    pub async fn create(
        config: JsValue,
        catalog: CatalogGlue,
        on_event: Function,
    ) -> Result<Engine, JsValue> {
        crate::logging::install();
        let remote = remote(&config)?;
        let raw = config.clone();
        let config: Config = serde_wasm_bindgen::from_value(config)
            .map_err(|e| input_error(format!("invalid file sync options: {e}")))?;
        let storage = storage(&raw).await?;
        let mut executor = ExecutorConfig::default();
        if let Some(n) = config.max_concurrent_uploads {
            executor.max_concurrent_uploads = n.max(1);
        }
        if let Some(n) = config.max_concurrent_downloads {
            executor.max_concurrent_downloads = n.max(1);
        }
        if let Some(n) = config.max_retries {
            executor.max_retries = n;
        }
        if let Some(d) = ms(config.retry_base_delay_ms) {
            executor.base_delay = d;
        }
        if let Some(d) = ms(config.retry_max_delay_ms) {
            executor.max_delay = d;
        }
        if let Some(d) = ms(config.retry_jitter_ms) {
            executor.jitter = d;
        }
        let mut builder = FileSync::builder(config.store_id.clone())
            .fs(storage.fs)
            .catalog(Arc::new(JsCatalog::new(catalog)))
            .executor(executor);
        if let Some(remote) = remote {
            builder = builder.remote(remote);
        }
        if let Some(transfer_fs) = storage.transfer_fs {
            builder = builder.transfer_fs(transfer_fs);
        }
        if let Some(saver) = storage.chunk_saver {
            builder = builder.chunk_saver(saver);
        }
        if let Some(opener) = storage.blob_opener {
            builder = builder.blob_opener(opener);
        }
        if let Some(d) = ms(config.health_check_interval_ms) {
            builder = builder.health_check_interval(d);
        }
        if let Some(d) = ms(config.delete_grace_period_ms) {
            builder = builder.delete_grace_period(d);
        }
        if let Some(n) = config.max_file_size_bytes {
            builder = builder.max_file_size(n);
        }
        if let Some(n) = config.cache_limit_bytes {
            builder = builder.cache_limit(n);
        }
        if let Some(policy) = config.download_policy.as_deref() {
            builder = builder.download_policy(match policy {
                "eager" => DownloadPolicy::Eager,
                "onDemand" => DownloadPolicy::OnDemand,
                other => {
                    return Err(input_error(format!(
                        "unknown downloadPolicy {other:?}: use \"eager\" or \"onDemand\""
                    )))
                }
            });
        }
        if let Some(on) = config.auto_prioritize_on_resolve {
            builder = builder.auto_prioritize_on_resolve(on);
        }
        if let Some(on) = config.orphan_sweep {
            builder = builder.orphan_sweep(on);
        }
        let sync = builder.build().map_err(|e| js_error(&e))?;
        let on_event = Rc::new(on_event);
        let callback = on_event.clone();
        sync.on_event(Arc::new(move |event: &FileSyncEvent| {
            if let Some(value) = convert::js_event(event) {
                if let Err(error) = callback.call1(&JsValue::UNDEFINED, &value) {
                    tracing::warn!(error = %js::message_of(&error), "a file sync event listener threw");
                }
            }
        }));
        Ok(Engine {
            sync,
            _on_event: on_event,
        })
    }

    /// Starts the engine: the first reconcile, the change subscription and the loops.
    pub async fn start(&self) -> Result<(), JsValue> {
        self.sync.start().await.map_err(|e| js_error(&e))
    }

    /// Stops the engine; transfers in flight are dropped and resume on the next start.
    pub async fn stop(&self) {
        self.sync.stop().await;
    }

    /// Saves new content (`Blob`, `File`, `Uint8Array` or `ArrayBuffer`); answers
    /// `{fileId, path, contentHash, size}`.
    pub async fn save(&self, content: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
        let options = save_options(&options)?;
        let content = convert::content(content).await?;
        let saved = self
            .sync
            .save(content, options)
            .await
            .map_err(|e| js_error(&e))?;
        Ok(saved_file(&saved))
    }

    /// Replaces a file's content; answers `{fileId, path, contentHash, size, changed}`.
    pub async fn update(
        &self,
        file_id: String,
        content: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let options = save_options(&options)?;
        let content = convert::content(content).await?;
        let saved = self
            .sync
            .update(&file_id, content, options)
            .await
            .map_err(|e| js_error(&e))?;
        Ok(saved_file(&saved))
    }

    /// Deletes a file (soft delete of its row).
    pub async fn delete(&self, file_id: String) -> Result<(), JsValue> {
        self.sync.delete(&file_id).await.map_err(|e| js_error(&e))
    }

    /// The verified local bytes of a file.
    pub async fn read(&self, file_id: String) -> Result<Uint8Array, JsValue> {
        let bytes = self.sync.read(&file_id).await.map_err(|e| js_error(&e))?;
        Ok(Uint8Array::from(bytes.as_ref()))
    }

    /// The bytes stored at a file's local `path` (`livestore-filesync-files/{storeId}/{hash}`, as in
    /// its row); answers the verified bytes of that content whichever row holds it. A path that is
    /// not one of this store's content paths is refused.
    #[wasm_bindgen(js_name = readPath)]
    pub async fn read_path(&self, path: String) -> Result<Uint8Array, JsValue> {
        let hash = self.hash_of_path(&path)?;
        let mut stream = self
            .sync
            .storage()
            .read_stream(&hash, StreamOptions::default())
            .await
            .map_err(|e| js_error(&FileSyncError::from(e)))?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(|e| js_error(&FileSyncError::from(e)))?);
        }
        Ok(Uint8Array::from(out.as_slice()))
    }

    /// The MIME type stored beside the content at `path` (what a download answered, or what
    /// `@livestore-filesync/core` 0.8.0 recorded), `null` when none; the row's metadata is the
    /// first place to look, this is the fallback.
    #[wasm_bindgen(js_name = mimeOfPath)]
    pub async fn mime_of_path(&self, path: String) -> Result<Option<String>, JsValue> {
        let hash = self.hash_of_path(&path)?;
        self.sync
            .storage()
            .mime_of(&hash)
            .await
            .map_err(|e| js_error(&FileSyncError::from(e)))
    }

    /// Where the bytes are: `{kind: "local", path, mimeType}`, `{kind: "remote", url, headers,
    /// expiresAt}`, or `null` when no copy exists anywhere yet.
    pub async fn resolve(&self, file_id: String) -> Result<JsValue, JsValue> {
        let resolved = self
            .sync
            .resolve(&file_id)
            .await
            .map_err(|e| js_error(&e))?;
        let Some(resolved) = resolved else {
            return Ok(JsValue::NULL);
        };
        let out = Object::new();
        match resolved {
            Resolved::Local { path, mime_type } => {
                set(&out, "kind", "local");
                set(&out, "path", path.as_str());
                set(
                    &out,
                    "mimeType",
                    mime_type.map(JsValue::from).unwrap_or(JsValue::NULL),
                );
            }
            Resolved::Remote(url) => {
                set(&out, "kind", "remote");
                set(&out, "url", url.url.as_str());
                let headers = Object::new();
                for (name, value) in &url.headers {
                    set(&headers, name, value.as_str());
                }
                set(&out, "headers", headers);
                set(&out, "expiresAt", url.expires_at_ms as f64);
            }
        }
        Ok(out.into())
    }

    /// Moves a file's download to the front of the queue.
    #[wasm_bindgen(js_name = prioritizeDownload)]
    pub fn prioritize_download(&self, file_id: String) {
        self.sync.prioritize_download(&file_id);
    }

    /// Whether the remote is reachable (always false in local-only mode).
    #[wasm_bindgen(js_name = isOnline)]
    pub fn is_online(&self) -> bool {
        self.sync.is_online()
    }

    /// Checks the remote's health now; answers whether it is online.
    #[wasm_bindgen(js_name = checkHealth)]
    pub async fn check_health(&self) -> bool {
        self.sync.check_health().await
    }

    /// Reconciles now, re-reading the local store's listing.
    #[wasm_bindgen(js_name = syncNow)]
    pub async fn sync_now(&self) -> Result<(), JsValue> {
        self.sync.sync_now().await.map_err(|e| js_error(&e))
    }

    /// Re-queues every file in `error`; answers their ids.
    #[wasm_bindgen(js_name = retryErrors)]
    pub async fn retry_errors(&self) -> Result<Vec<String>, JsValue> {
        self.sync.retry_errors().await.map_err(|e| js_error(&e))
    }

    /// True when nothing is queued, running or waiting.
    #[wasm_bindgen(js_name = isIdle)]
    pub fn is_idle(&self) -> bool {
        self.sync.is_idle()
    }
}

impl Engine {
    /// The content hash a row's local `path` names; a path that is not one of this store's
    /// content paths is refused.
    fn hash_of_path(&self, path: &str) -> Result<ContentHash, JsValue> {
        let store_id = &self.sync.options().store_id;
        path.rsplit('/')
            .next()
            .and_then(|name| ContentHash::parse(name).ok())
            .filter(|hash| local_path(store_id, hash) == path.trim_start_matches('/'))
            .ok_or_else(|| {
                input_error(format!(
                    "{path:?} is not a file path of this store; pass the `path` of a file row (livestore-filesync-files/<store>/<hash>)"
                ))
            })
    }
}

/// `{mimeType?, name?, metadata?}` as [`SaveOptions`].
fn save_options(value: &JsValue) -> Result<SaveOptions, JsValue> {
    let mut options = SaveOptions::default();
    if value.is_undefined() || value.is_null() {
        return Ok(options);
    }
    options.mime_type = js::get_string(value, "mimeType").filter(|m| !m.is_empty());
    options.name = js::get_string(value, "name").filter(|n| !n.is_empty());
    let metadata = js::get(value, "metadata");
    if !metadata.is_undefined() && !metadata.is_null() {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_wasm_bindgen::from_value(metadata).map_err(|e| {
                input_error(format!(
                    "metadata must be a plain object of JSON values ({e})"
                ))
            })?;
        options.metadata = Some(map);
    }
    Ok(options)
}

fn saved_file(saved: &filesync::SavedFile) -> JsValue {
    let out = Object::new();
    set(&out, "fileId", saved.file_id.as_str());
    set(&out, "path", saved.path.as_str());
    set(&out, "contentHash", saved.content_hash.as_str());
    set(&out, "size", saved.size as f64);
    set(&out, "changed", saved.changed);
    out.into()
}
