//! Worker → page: [`Reply`]s to requests and the items of watches.

use fs_core::{Capabilities, DirEntry, FileInfo, FsError, FsResult, VPath, WatchEvent};
use js_sys::{Object, Uint8Array};
use wasm_bindgen::JsValue;

use super::{field, get, id_of, malformed, obj, set, wire_enum, Transfer, Wire};

wire_enum! {
    /// The successful answer to a request.
    #[derive(Debug)]
    #[cfg_attr(test, derive(Clone))]
    pub(crate) enum Reply (tag "t") {
        /// Done, nothing to say.
        Unit {},
        /// `exists`.
        Bool { value: bool = "v" },
        /// `stat`, `File::stat`.
        Info { info: FileInfo = "v" },
        /// `read_dir`.
        Entries { entries: Vec<DirEntry> = "v" },
        /// `read_file`, `File::read`, `File::read_alloc`: the bytes move to the page.
        Bytes { data: Uint8Array = "v" },
        /// `File::read_alloc` at the end of the file; a read stream's end.
        End {},
        /// `read_file_string`, `read_link`.
        Text { text: String = "v" },
        /// `make_temp_dir`, `make_temp_file`, `real_path`.
        Path { path: VPath = "v" },
        /// `File::seek` (the new position), `File::write` (bytes written), `WriteSink::write`
        /// (bytes written so far).
        Number { value: u64 = "v" },
        /// `open`, `read_stream`, `write_sink`: the id of the new resource in the worker.
        Id { id: u32 = "v" },
        /// A read stream's next batch: chunks as the stream gave them, their buffers moved.
        Chunks { chunks: Vec<Uint8Array> = "v" },
        /// The first reply of a connection (id 0): what the page caches.
        Hello { caps: Capabilities = "caps", temp_dir: VPath = "tempDir" },
    }
}

impl Reply {
    fn unexpected(&self, wanted: &str) -> FsError {
        malformed(format!("expected a reply {wanted}, got {}", self.name()))
    }

    /// The reply [`Reply::Unit`].
    pub(crate) fn into_unit(self) -> FsResult<()> {
        match self {
            Reply::Unit {} => Ok(()),
            other => Err(other.unexpected("Unit")),
        }
    }

    /// The value of [`Reply::Bool`].
    pub(crate) fn into_bool(self) -> FsResult<bool> {
        match self {
            Reply::Bool { value } => Ok(value),
            other => Err(other.unexpected("Bool")),
        }
    }

    /// The info of [`Reply::Info`].
    pub(crate) fn into_info(self) -> FsResult<FileInfo> {
        match self {
            Reply::Info { info } => Ok(info),
            other => Err(other.unexpected("Info")),
        }
    }

    /// The entries of [`Reply::Entries`].
    pub(crate) fn into_entries(self) -> FsResult<Vec<DirEntry>> {
        match self {
            Reply::Entries { entries } => Ok(entries),
            other => Err(other.unexpected("Entries")),
        }
    }

    /// The bytes of [`Reply::Bytes`].
    pub(crate) fn into_data(self) -> FsResult<Uint8Array> {
        match self {
            Reply::Bytes { data } => Ok(data),
            other => Err(other.unexpected("Bytes")),
        }
    }

    /// The bytes of [`Reply::Bytes`], `None` for [`Reply::End`].
    pub(crate) fn into_maybe_data(self) -> FsResult<Option<Uint8Array>> {
        match self {
            Reply::Bytes { data } => Ok(Some(data)),
            Reply::End {} => Ok(None),
            other => Err(other.unexpected("Bytes")),
        }
    }

    /// The text of [`Reply::Text`].
    pub(crate) fn into_text(self) -> FsResult<String> {
        match self {
            Reply::Text { text } => Ok(text),
            other => Err(other.unexpected("Text")),
        }
    }

    /// The path of [`Reply::Path`].
    pub(crate) fn into_path(self) -> FsResult<VPath> {
        match self {
            Reply::Path { path } => Ok(path),
            other => Err(other.unexpected("Path")),
        }
    }

    /// The value of [`Reply::Number`].
    pub(crate) fn into_number(self) -> FsResult<u64> {
        match self {
            Reply::Number { value } => Ok(value),
            other => Err(other.unexpected("Number")),
        }
    }

    /// The id of [`Reply::Id`].
    pub(crate) fn into_id(self) -> FsResult<u32> {
        match self {
            Reply::Id { id } => Ok(id),
            other => Err(other.unexpected("Id")),
        }
    }

    /// The chunks of [`Reply::Chunks`], `None` for [`Reply::End`].
    pub(crate) fn into_chunks(self) -> FsResult<Option<Vec<Uint8Array>>> {
        match self {
            Reply::Chunks { chunks } => Ok(Some(chunks)),
            Reply::End {} => Ok(None),
            other => Err(other.unexpected("Chunks")),
        }
    }

    /// The capabilities and temporary directory of [`Reply::Hello`].
    pub(crate) fn into_hello(self) -> FsResult<(Capabilities, VPath)> {
        match self {
            Reply::Hello { caps, temp_dir } => Ok((caps, temp_dir)),
            other => Err(other.unexpected("Hello")),
        }
    }
}

/// What a watch pushes to the page.
#[derive(Debug)]
pub(crate) enum WatchItem {
    /// An event.
    Event(WatchEvent),
    /// An error (the watch goes on).
    Error(FsError),
    /// The watch ended.
    End,
}

/// A message from the worker.
#[derive(Debug)]
pub(crate) enum FromWorker {
    /// The answer to the request `id`.
    Reply {
        /// The request's id.
        id: u32,
        /// Its outcome.
        result: FsResult<Reply>,
    },
    /// An item of the watch the page named `watch`.
    Watch {
        /// The watch's id.
        watch: u32,
        /// What happened.
        item: WatchItem,
    },
}

impl FromWorker {
    /// The message as a JS object, and the buffers to transfer with it.
    pub(crate) fn encode(&self) -> (Object, Transfer) {
        let out = obj();
        let mut transfer = Transfer::default();
        match self {
            FromWorker::Reply { id, result } => {
                set(&out, "id", *id);
                match result {
                    Ok(reply) => {
                        set(&out, "ok", true);
                        reply.encode_into(&out, &mut transfer);
                    }
                    Err(error) => {
                        set(&out, "ok", false);
                        set(&out, "e", error.to_js());
                    }
                }
            }
            FromWorker::Watch { watch, item } => {
                set(&out, "w", *watch);
                match item {
                    WatchItem::Event(event) => set(&out, "ev", event.to_js()),
                    WatchItem::Error(error) => set(&out, "e", error.to_js()),
                    WatchItem::End => set(&out, "end", true),
                }
            }
        }
        (out, transfer)
    }

    /// Reads a message from the worker; `None` when it is neither a reply nor a watch item. A
    /// reply that cannot be read fails its request.
    pub(crate) fn decode(message: &JsValue) -> Option<FromWorker> {
        if !get(message, "w").is_undefined() {
            let watch = field::<u32>(message, "w").ok()?;
            let item = if field::<bool>(message, "end").unwrap_or(false) {
                WatchItem::End
            } else if !get(message, "e").is_undefined() {
                WatchItem::Error(field(message, "e").ok()?)
            } else {
                match field(message, "ev") {
                    Ok(event) => WatchItem::Event(event),
                    Err(error) => WatchItem::Error(error),
                }
            };
            return Some(FromWorker::Watch { watch, item });
        }
        let id = id_of(message)?;
        let result = if field::<bool>(message, "ok").unwrap_or(false) {
            Reply::decode(message)
        } else {
            Err(field(message, "e").unwrap_or_else(|e| e))
        };
        Some(FromWorker::Reply { id, result })
    }
}
