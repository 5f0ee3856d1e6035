//! Page → worker: [`Request`]s (one reply each) and [`Notice`]s (no reply).

use std::io::SeekFrom;

use fs_core::{
    AccessOptions, CopyOptions, FsError, MakeDirOptions, OpenOptions, ReadDirOptions,
    RemoveOptions, SinkOptions, StreamOptions, SystemTime, TempOptions, VPath, WatchOptions,
};
use js_sys::{Object, Uint8Array};
use wasm_bindgen::JsValue;

use super::{get, id_of, obj, set, wire_enum, Transfer};
use crate::method::FsMethod;

wire_enum! {
    /// A call the page makes: a method of the file system, or of a resource the worker keeps for
    /// the page by id (an open file, a read stream, a write sink). Answered by exactly one reply.
    #[derive(Debug)]
    #[cfg_attr(test, derive(Clone))]
    pub(crate) enum Request (tag "op") {
        /// `access`.
        Access { path: VPath = "path", options: AccessOptions = "options" },
        /// `exists`.
        Exists { path: VPath = "path" },
        /// `stat`.
        Stat { path: VPath = "path" },
        /// `read_dir`.
        ReadDir { path: VPath = "path", options: ReadDirOptions = "options" },
        /// `make_dir`.
        MakeDir { path: VPath = "path", options: MakeDirOptions = "options" },
        /// `remove`.
        Remove { path: VPath = "path", options: RemoveOptions = "options" },
        /// `rename`.
        Rename { from: VPath = "from", to: VPath = "to" },
        /// `copy_file`.
        CopyFile { from: VPath = "from", to: VPath = "to" },
        /// `copy`.
        Copy { from: VPath = "from", to: VPath = "to", options: CopyOptions = "options" },
        /// `read_file`.
        ReadFile { path: VPath = "path" },
        /// `read_file_string`.
        ReadFileString { path: VPath = "path" },
        /// `write_file`: the bytes move to the worker.
        WriteFile { path: VPath = "path", data: Uint8Array = "data", options: OpenOptions = "options" },
        /// `write_file_string`.
        WriteFileString { path: VPath = "path", data: String = "data", options: OpenOptions = "options" },
        /// `truncate`.
        Truncate { path: VPath = "path", len: u64 = "len" },
        /// `open`: the reply is the new file's id.
        Open { path: VPath = "path", options: OpenOptions = "options" },
        /// `read_stream`: the reply is the new stream's id.
        ReadStream { path: VPath = "path", options: StreamOptions = "options" },
        /// `write_sink`: the reply is the new sink's id.
        WriteSink { path: VPath = "path", options: SinkOptions = "options" },
        /// `make_temp_dir`.
        MakeTempDir { options: TempOptions = "options" },
        /// `make_temp_file`.
        MakeTempFile { options: TempOptions = "options" },
        /// `real_path`.
        RealPath { path: VPath = "path" },
        /// `chmod`.
        Chmod { path: VPath = "path", mode: u32 = "mode" },
        /// `chown`.
        Chown { path: VPath = "path", uid: u32 = "uid", gid: u32 = "gid" },
        /// `utimes`.
        Utimes { path: VPath = "path", atime: SystemTime = "atime", mtime: SystemTime = "mtime" },
        /// `link`.
        Link { from: VPath = "from", to: VPath = "to" },
        /// `symlink`.
        Symlink { target: String = "target", link: VPath = "link" },
        /// `read_link`.
        ReadLink { path: VPath = "path" },
        /// `watch`, under the id the page chose (its events are pushed with that id).
        Watch { path: VPath = "path", watch: u32 = "w", options: WatchOptions = "options" },
        /// `File::stat` of an open file.
        FileStat { file: u32 = "h" },
        /// `File::seek`.
        FileSeek { file: u32 = "h", pos: SeekFrom = "pos" },
        /// `File::read` of at most `len` bytes.
        FileRead { file: u32 = "h", len: usize = "len" },
        /// `File::read_alloc`.
        FileReadAlloc { file: u32 = "h", len: usize = "len" },
        /// `File::write`: the bytes move to the worker.
        FileWrite { file: u32 = "h", data: Uint8Array = "data" },
        /// `File::write_all`: the bytes move to the worker.
        FileWriteAll { file: u32 = "h", data: Uint8Array = "data" },
        /// `File::truncate`.
        FileTruncate { file: u32 = "h", len: u64 = "len" },
        /// `File::sync`.
        FileSync { file: u32 = "h" },
        /// `File::close`.
        FileClose { file: u32 = "h" },
        /// The next batch of a read stream.
        StreamNext { stream: u32 = "s" },
        /// `WriteSink::write`: the bytes move to the worker.
        SinkWrite { sink: u32 = "k", data: Uint8Array = "data" },
        /// `WriteSink::close`.
        SinkClose { sink: u32 = "k" },
        /// `WriteSink::abort`.
        SinkAbort { sink: u32 = "k" },
    }
}

impl Request {
    /// The method an error about this request names (when it fails on the page: the connection
    /// is broken, the reply never came).
    pub(crate) fn method(&self) -> FsMethod {
        match self {
            Request::Access { .. } => FsMethod::Access,
            Request::Exists { .. } => FsMethod::Exists,
            Request::Stat { .. } => FsMethod::Stat,
            Request::ReadDir { .. } => FsMethod::ReadDirectory,
            Request::MakeDir { .. } => FsMethod::MakeDirectory,
            Request::Remove { .. } => FsMethod::Remove,
            Request::Rename { .. } => FsMethod::Rename,
            Request::CopyFile { .. } => FsMethod::CopyFile,
            Request::Copy { .. } => FsMethod::Copy,
            Request::ReadFile { .. } => FsMethod::ReadFile,
            Request::ReadFileString { .. } => FsMethod::ReadFileString,
            Request::WriteFile { .. } => FsMethod::WriteFile,
            Request::WriteFileString { .. } => FsMethod::WriteFileString,
            Request::Truncate { .. } => FsMethod::Truncate,
            Request::Open { .. } => FsMethod::Open,
            Request::ReadStream { .. } | Request::StreamNext { .. } => FsMethod::Stream,
            Request::WriteSink { .. } => FsMethod::Sink,
            Request::MakeTempDir { .. } => FsMethod::MakeTempDirectory,
            Request::MakeTempFile { .. } => FsMethod::MakeTempFile,
            Request::RealPath { .. } => FsMethod::RealPath,
            Request::Chmod { .. } => FsMethod::Chmod,
            Request::Chown { .. } => FsMethod::Chown,
            Request::Utimes { .. } => FsMethod::Utimes,
            Request::Link { .. } => FsMethod::Link,
            Request::Symlink { .. } => FsMethod::Symlink,
            Request::ReadLink { .. } => FsMethod::ReadLink,
            Request::Watch { .. } => FsMethod::Watch,
            Request::FileStat { .. } => FsMethod::FileStat,
            Request::FileSeek { .. } => FsMethod::FileSeek,
            Request::FileRead { .. } => FsMethod::FileRead,
            Request::FileReadAlloc { .. } => FsMethod::FileReadAlloc,
            Request::FileWrite { .. } => FsMethod::FileWrite,
            Request::FileWriteAll { .. } => FsMethod::FileWriteAll,
            Request::FileTruncate { .. } => FsMethod::FileTruncate,
            Request::FileSync { .. } => FsMethod::FileSync,
            Request::FileClose { .. } => FsMethod::FileClose,
            Request::SinkWrite { .. } => FsMethod::SinkWrite,
            Request::SinkClose { .. } => FsMethod::SinkClose,
            Request::SinkAbort { .. } => FsMethod::SinkAbort,
        }
    }

    /// For a request whose reply is the id of a new resource in the worker: the notice that
    /// releases it there, sent when nobody waits for the reply any more.
    pub(crate) fn release(&self) -> Option<fn(u32) -> Notice> {
        match self {
            Request::Open { .. } => Some(|file| Notice::FileDrop { file }),
            Request::ReadStream { .. } => Some(|stream| Notice::StreamDrop { stream }),
            Request::WriteSink { .. } => Some(|sink| Notice::SinkDrop { sink }),
            _ => None,
        }
    }
}

wire_enum! {
    /// What the page tells the worker without waiting for a reply.
    #[derive(Debug)]
    #[cfg_attr(test, derive(Clone))]
    pub(crate) enum Notice (tag "n") {
        /// The page dropped an open file without closing it.
        FileDrop { file: u32 = "h" },
        /// The page dropped a read stream before its end.
        StreamDrop { stream: u32 = "s" },
        /// The page dropped a sink without closing it: abort it.
        SinkDrop { sink: u32 = "k" },
        /// The page dropped a watch.
        WatchDrop { watch: u32 = "w" },
        /// `remove_detached`: remove the path in the background.
        RemoveDetached { path: VPath = "path" },
        /// The page's connection is gone: drop everything it left open.
        Bye {},
    }
}

/// A message from the page.
#[derive(Debug)]
pub(crate) enum ToWorker {
    /// A request and the id its reply must carry.
    Request {
        /// The id of the reply.
        id: u32,
        /// What to do.
        request: Request,
    },
    /// A notice.
    Notice(Notice),
}

impl ToWorker {
    /// The message as a JS object, and the buffers to transfer with it.
    pub(crate) fn encode(&self) -> (Object, Transfer) {
        let out = obj();
        let mut transfer = Transfer::default();
        match self {
            ToWorker::Request { id, request } => {
                set(&out, "id", *id);
                request.encode_into(&out, &mut transfer);
            }
            ToWorker::Notice(notice) => notice.encode_into(&out, &mut transfer),
        }
        (out, transfer)
    }

    /// Reads a message from the page: a request when it has an `id`, else a notice. A malformed
    /// message fails with the id to reply to, when it has one.
    pub(crate) fn decode(message: &JsValue) -> Result<ToWorker, (Option<u32>, FsError)> {
        if get(message, "id").is_undefined() {
            return Notice::decode(message)
                .map(ToWorker::Notice)
                .map_err(|e| (None, e));
        }
        let id = id_of(message).ok_or_else(|| (None, super::malformed("a request id")))?;
        Request::decode(message)
            .map(|request| ToWorker::Request { id, request })
            .map_err(|e| (Some(id), e))
    }
}
