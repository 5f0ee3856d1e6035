//! [`JsCatalog`]: the [`Catalog`] over the package's glue object, which wraps a LiveStore store.
//!
//! The glue (TypeScript, `ts/catalog.ts`) answers each read with rows as plain objects (dates as
//! epoch milliseconds, the engine's row shapes), commits `{name, args}` events after validating the
//! args against the store's own event schema, and reports changes as
//! `{everything, files, localStates, transferStates}` (ids). Any method may answer with a value or a
//! Promise of it, so the same glue works when the engine and the store live in different threads.
//! A thrown or rejected value becomes a [`CatalogError`]: `{kind: "invalid"}` is
//! [`CatalogErrorKind::Invalid`], anything else `Unavailable`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use filesync::model::{FileEvent, FileRow, LocalFileStateRow, TransferStateRow};
use filesync::{Catalog, CatalogError, CatalogErrorKind, ChangeSet};
use fs_core::MaybeSendBoxStream;
use futures::Stream;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use crate::js;

#[wasm_bindgen]
extern "C" {
    /// The glue object the package hands to the engine.
    pub type CatalogGlue;

    #[wasm_bindgen(method, catch)]
    fn files(this: &CatalogGlue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn file(this: &CatalogGlue, id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = filesWithHash)]
    fn files_with_hash(this: &CatalogGlue, hash: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = localStates)]
    fn local_states(this: &CatalogGlue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = localState)]
    fn local_state(this: &CatalogGlue, file_id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = transferStates)]
    fn transfer_states(this: &CatalogGlue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = transferState)]
    fn transfer_state(this: &CatalogGlue, file_id: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn commit(this: &CatalogGlue, events: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn subscribe(
        this: &CatalogGlue,
        on_change: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;
}

/// The engine's catalog over a [`CatalogGlue`].
pub(crate) struct JsCatalog {
    glue: CatalogGlue,
}

impl JsCatalog {
    pub(crate) fn new(glue: CatalogGlue) -> Self {
        JsCatalog { glue }
    }
}

/// A thrown glue value as a [`CatalogError`].
fn catalog_error(what: &str, error: &JsValue) -> CatalogError {
    let kind = match js::get_string(error, "kind").as_deref() {
        Some("invalid") => CatalogErrorKind::Invalid,
        _ => CatalogErrorKind::Unavailable,
    };
    let mut out = CatalogError::new(kind, format!("{what}: {}", js::message_of(error)));
    if let Some(id) = js::get_string(error, "fileId") {
        out = out.with_file(&id);
    }
    out
}

/// Calls a glue method and awaits its answer.
async fn call(what: &str, answer: Result<JsValue, JsValue>) -> Result<JsValue, CatalogError> {
    let value = answer.map_err(|e| catalog_error(what, &e))?;
    js::settle(value).await.map_err(|e| catalog_error(what, &e))
}

/// A glue answer as rows.
fn rows<T: DeserializeOwned>(what: &str, value: JsValue) -> Result<Vec<T>, CatalogError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        CatalogError::unavailable(format!(
            "{what}: the store answered rows the engine cannot read ({e}); is the app's schema the one createFileSyncSchema() makes?"
        ))
    })
}

/// A glue answer as one row or none (`null`/`undefined`).
fn row<T: DeserializeOwned>(what: &str, value: JsValue) -> Result<Option<T>, CatalogError> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    serde_wasm_bindgen::from_value(value).map(Some).map_err(|e| {
        CatalogError::unavailable(format!(
            "{what}: the store answered a row the engine cannot read ({e}); is the app's schema the one createFileSyncSchema() makes?"
        ))
    })
}

#[async_trait(?Send)]
impl Catalog for JsCatalog {
    async fn files(&self) -> Result<Vec<FileRow>, CatalogError> {
        rows(
            "reading files",
            call("reading files", self.glue.files()).await?,
        )
    }

    async fn file(&self, id: &str) -> Result<Option<FileRow>, CatalogError> {
        row(
            "reading a file",
            call("reading a file", self.glue.file(id)).await?,
        )
    }

    async fn files_with_hash(&self, hash: &str) -> Result<Vec<FileRow>, CatalogError> {
        let what = "reading files by hash";
        rows(what, call(what, self.glue.files_with_hash(hash)).await?)
    }

    async fn local_states(&self) -> Result<Vec<LocalFileStateRow>, CatalogError> {
        let what = "reading localFileState";
        rows(what, call(what, self.glue.local_states()).await?)
    }

    async fn local_state(&self, file_id: &str) -> Result<Option<LocalFileStateRow>, CatalogError> {
        let what = "reading a localFileState row";
        row(what, call(what, self.glue.local_state(file_id)).await?)
    }

    async fn transfer_state(
        &self,
        file_id: &str,
    ) -> Result<Option<TransferStateRow>, CatalogError> {
        let what = "reading a fileTransferState row";
        row(what, call(what, self.glue.transfer_state(file_id)).await?)
    }

    async fn transfer_states(&self) -> Result<Vec<TransferStateRow>, CatalogError> {
        let what = "reading fileTransferState";
        rows(what, call(what, self.glue.transfer_states()).await?)
    }

    async fn commit(&self, events: Vec<FileEvent>) -> Result<(), CatalogError> {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let value = serde::Serialize::serialize(&events, &serializer).map_err(|e| {
            CatalogError::invalid(format!("the engine could not encode its events: {e}"))
        })?;
        call("committing", self.glue.commit(value)).await?;
        Ok(())
    }

    fn changes(&self) -> MaybeSendBoxStream<ChangeSet> {
        Box::pin(Changes::subscribe(&self.glue))
    }
}

/// What a subscription has gathered and not yet handed out.
#[derive(Default)]
struct Pending {
    set: ChangeSet,
    waker: Option<Waker>,
    /// The glue refused the subscription: the stream ends.
    closed: bool,
}

/// A subscription to the glue's changes: merges what arrives between polls into one
/// [`ChangeSet`]. The first item is "everything". Dropping it unsubscribes.
struct Changes {
    pending: Rc<RefCell<Pending>>,
    _callback: Closure<dyn FnMut(JsValue)>,
    unsubscribe: Option<js_sys::Function>,
}

impl Changes {
    fn subscribe(glue: &CatalogGlue) -> Self {
        let pending = Rc::new(RefCell::new(Pending {
            set: ChangeSet::everything(),
            ..Pending::default()
        }));
        let sink = pending.clone();
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |change: JsValue| {
            let mut p = sink.borrow_mut();
            p.set.merge(change_set(&change));
            if let Some(waker) = p.waker.take() {
                waker.wake();
            }
        });
        let unsubscribe = match glue.subscribe(&callback) {
            Ok(f) => f.dyn_into::<js_sys::Function>().ok(),
            Err(error) => {
                tracing::error!(error = %js::message_of(&error), "the catalog refused a change subscription");
                pending.borrow_mut().closed = true;
                None
            }
        };
        Changes {
            pending,
            _callback: callback,
            unsubscribe,
        }
    }
}

/// A glue change report as a [`ChangeSet`]; anything unreadable means "everything".
fn change_set(change: &JsValue) -> ChangeSet {
    let ids = |key: &str| -> Option<BTreeSet<String>> {
        let list = js::get(change, key);
        if list.is_undefined() {
            return Some(BTreeSet::new());
        }
        let array = list.dyn_into::<js_sys::Array>().ok()?;
        array.iter().map(|v| v.as_string()).collect()
    };
    let everything = js::get(change, "everything").as_bool().unwrap_or(false);
    match (ids("files"), ids("localStates"), ids("transferStates")) {
        (Some(files), Some(local_states), Some(transfer_states)) if !everything => {
            let mut set = ChangeSet::default();
            set.files = files;
            set.local_states = local_states;
            set.transfer_states = transfer_states;
            set
        }
        _ => ChangeSet::everything(),
    }
}

impl Stream for Changes {
    type Item = ChangeSet;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ChangeSet>> {
        let mut p = self.pending.borrow_mut();
        if !p.set.is_empty() {
            return Poll::Ready(Some(std::mem::take(&mut p.set)));
        }
        if p.closed {
            return Poll::Ready(None);
        }
        p.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        if let Some(unsubscribe) = self.unsubscribe.take() {
            if let Err(error) = unsubscribe.call0(&JsValue::UNDEFINED) {
                tracing::warn!(error = %js::message_of(&error), "unsubscribing from the catalog failed");
            }
        }
    }
}
