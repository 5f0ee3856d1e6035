//! The internal directory of an instance ([`crate::names::INTERNAL_DIR`] below its root): sinks'
//! temporary files, and the files of open handles whose paths were removed or replaced. Hidden
//! from listings; created when first needed; what a crash leaves there is swept a day later.

use std::cell::RefCell;
use std::time::Duration;

use fs_core::{random_name, FsResult, VPath};
use wasm_bindgen::JsCast;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions,
    FileSystemGetFileOptions, FileSystemHandle,
};

use crate::error::{js_name, JsResultExt};
use crate::js::{resolve, settle, sleep};
use crate::method::FsMethod;
use crate::names::INTERNAL_DIR;

/// How long a removal is retried while the browser still holds the file (a writable stream that
/// was just aborted releases its lock a moment after `abort()` settles).
const REMOVE_RETRY: Duration = Duration::from_secs(5);

/// Entries older than this are leftovers of a crash (or of a tab that was closed mid-write).
const SWEEP_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The internal directory of one instance.
pub(crate) struct Internal {
    root: FileSystemDirectoryHandle,
    dir: RefCell<Option<FileSystemDirectoryHandle>>,
}

impl Internal {
    pub(crate) fn new(root: FileSystemDirectoryHandle) -> Internal {
        Internal {
            root,
            dir: RefCell::new(None),
        }
    }

    /// The directory, created on first use.
    pub(crate) async fn dir(
        &self,
        method: FsMethod,
        path: &VPath,
    ) -> FsResult<FileSystemDirectoryHandle> {
        if let Some(dir) = self.dir.borrow().clone() {
            return Ok(dir);
        }
        let options = FileSystemGetDirectoryOptions::new();
        options.set_create(true);
        let dir: FileSystemDirectoryHandle = resolve(
            self.root
                .get_directory_handle_with_options(INTERNAL_DIR, &options),
        )
        .await
        .fs(method, path)?;
        *self.dir.borrow_mut() = Some(dir.clone());
        Ok(dir)
    }

    /// Creates a new empty file named `{kind}-{16 hex}` in the directory (re-creating the
    /// directory once if it went away behind this instance's back).
    pub(crate) async fn new_file(
        &self,
        kind: &str,
        method: FsMethod,
        path: &VPath,
    ) -> FsResult<(String, FileSystemFileHandle)> {
        let name = random_name(Some(&format!("{kind}-")));
        let options = FileSystemGetFileOptions::new();
        options.set_create(true);
        let dir = self.dir(method, path).await?;
        match resolve::<FileSystemFileHandle>(dir.get_file_handle_with_options(&name, &options))
            .await
        {
            Ok(file) => Ok((name, file)),
            Err(e) if js_name(&e) == "NotFoundError" => {
                *self.dir.borrow_mut() = None;
                let dir = self.dir(method, path).await?;
                let file = resolve(dir.get_file_handle_with_options(&name, &options))
                    .await
                    .fs(method, path)?;
                Ok((name, file))
            }
            Err(e) => Err(e).fs(method, path),
        }
    }

    /// Removes the entry `name` of the directory, retrying while the browser still holds it; a
    /// missing entry counts as removed.
    pub(crate) async fn remove(&self, name: &str, method: FsMethod, path: &VPath) -> FsResult<()> {
        let Some(dir) = self.dir.borrow().clone() else {
            return Ok(());
        };
        remove_with_retry(&dir, name, REMOVE_RETRY)
            .await
            .fs(method, path)
    }

    /// [`Internal::remove`] in the background (from `Drop`, where nothing can be awaited).
    pub(crate) fn remove_later(&self, name: String) {
        let Some(dir) = self.dir.borrow().clone() else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            // Best effort: what stays behind is swept a day later.
            let _ = remove_with_retry(&dir, &name, REMOVE_RETRY).await;
        });
    }

    /// Removes, in the background, the entries of the directory older than a day (what crashes and
    /// closed tabs left behind); entries another tab still holds stay.
    pub(crate) fn sweep_later(&self) {
        let root = self.root.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(dir) =
                resolve::<FileSystemDirectoryHandle>(root.get_directory_handle(INTERNAL_DIR)).await
            else {
                return;
            };
            let cutoff = js_sys::Date::now() - SWEEP_AGE.as_millis() as f64;
            let Ok(entries) = list(&dir).await else {
                return;
            };
            for entry in entries {
                let Some(file) = entry.dyn_ref::<FileSystemFileHandle>() else {
                    continue;
                };
                let old = match resolve::<web_sys::File>(file.get_file()).await {
                    Ok(snapshot) => snapshot.last_modified() < cutoff,
                    Err(_) => false,
                };
                if old {
                    let _ = settle(dir.remove_entry(&entry.name())).await;
                }
            }
        });
    }
}

/// Every entry of `dir`.
async fn list(
    dir: &FileSystemDirectoryHandle,
) -> Result<Vec<FileSystemHandle>, wasm_bindgen::JsValue> {
    let iter = dir.values();
    let mut out = Vec::new();
    loop {
        let step: js_sys::IteratorNext = resolve::<wasm_bindgen::JsValue>(iter.next()?)
            .await?
            .unchecked_into();
        if step.done() {
            return Ok(out);
        }
        out.push(step.value().unchecked_into());
    }
}

/// `removeEntry(name)`, retried for up to `limit` while it fails with `NoModificationAllowedError`;
/// `NotFoundError` counts as removed.
pub(crate) async fn remove_with_retry(
    dir: &FileSystemDirectoryHandle,
    name: &str,
    limit: Duration,
) -> Result<(), wasm_bindgen::JsValue> {
    let start = web_time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match settle(dir.remove_entry(name)).await {
            Ok(()) => return Ok(()),
            Err(e) if js_name(&e) == "NotFoundError" => return Ok(()),
            Err(e) if js_name(&e) == "NoModificationAllowedError" && start.elapsed() < limit => {
                sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}
