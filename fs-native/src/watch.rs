//! `watch`: change notifications through the `notify` crate (inotify on Linux).

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use fs_core::{ErrorKind, FsError, FsResult, VPath, WatchEvent, WatchOptions, WatchStream};
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::stream::{Stream, StreamExt};
use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::blocking::{run, IoContext};
use crate::durable::is_temp_name;
use crate::NativeFs;

const METHOD: &str = "watch";

/// Watches `path` (a file or a directory; with `recursive`, the whole tree below it) and returns the
/// changes as a stream, until the stream is dropped (which stops the watcher).
///
/// Mapping: created names and names renamed into the watched area are `Create`; changed content or
/// metadata is `Update`; removed names, names renamed away and a watched path moved away are
/// `Remove`. Reads and opens are not reported. Paths outside the root or not valid as [`VPath`]s
/// are skipped, and so are the temporary siblings of atomic writes (an atomic write shows up as
/// `Create` of its target when the new file is renamed into place). A failure of the watcher (e.g. the inotify watch limit) is an `Err` item.
///
/// Watching a single file watches its inode (inotify's rule): after an atomic replace (`write_file`
/// with `w`, a sink's close) the stream reports `Remove` of the path and then nothing more about it.
/// Watch the directory to follow a file that is replaced.
///
/// Errors: `NotFound` when `path` is missing; the watcher's own errors otherwise.
pub(crate) async fn watch(
    fs: &NativeFs,
    path: &VPath,
    options: WatchOptions,
) -> FsResult<WatchStream> {
    let os = fs.os_path(path);
    let root = fs.root.clone();
    let vp = path.clone();
    let mode = if options.recursive {
        RecursiveMode::Recursive
    } else {
        RecursiveMode::NonRecursive
    };
    let (events, watcher) = run(METHOD, path, move || {
        std::fs::metadata(&os).ctx(METHOD, &vp)?;
        let (sender, events) = mpsc::unbounded();
        let mut watcher = notify::recommended_watcher(move |event| forward(&root, &sender, event))
            .map_err(|err| watcher_error(err, &vp))?;
        watcher
            .watch(&os, mode)
            .map_err(|err| watcher_error(err, &vp))?;
        Ok((events, watcher))
    })
    .await?;
    Ok(WatchEvents {
        events,
        _watcher: watcher,
    }
    .boxed())
}

/// The stream returned by [`watch`]: owns the watcher, so dropping the stream stops watching.
struct WatchEvents {
    events: UnboundedReceiver<FsResult<WatchEvent>>,
    _watcher: RecommendedWatcher,
}

impl Stream for WatchEvents {
    type Item = FsResult<WatchEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next_unpin(cx)
    }
}

/// Runs on the watcher's thread: maps one notification and sends what it yields. A closed channel
/// (the stream was dropped while the watcher winds down) is not an error.
fn forward(
    root: &Arc<Path>,
    sender: &UnboundedSender<FsResult<WatchEvent>>,
    event: notify::Result<notify::Event>,
) {
    match event {
        Ok(event) => {
            for mapped in map_event(root, &event) {
                let _ = sender.unbounded_send(Ok(mapped));
            }
        }
        Err(err) => {
            let path = err
                .paths
                .first()
                .and_then(|p| NativeFs::vpath_below(root, p))
                .unwrap_or_else(VPath::root);
            let _ = sender.unbounded_send(Err(watcher_error(err, &path)));
        }
    }
}

/// The [`WatchEvent`]s of one notification, one per path inside the namespace.
fn map_event(root: &Path, event: &notify::Event) -> Vec<WatchEvent> {
    let make: fn(VPath) -> WatchEvent = match event.kind {
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
            WatchEvent::Create
        }
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
            WatchEvent::Remove
        }
        // The From and To halves of a rename inside the watched area are reported on their own.
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => return Vec::new(),
        EventKind::Modify(_) | EventKind::Any => WatchEvent::Update,
        EventKind::Access(_) | EventKind::Other => return Vec::new(),
    };
    event
        .paths
        .iter()
        .filter(|path| !path.file_name().is_some_and(is_temp_name))
        .filter_map(|path| NativeFs::vpath_below(root, path))
        .map(make)
        .collect()
}

/// Converts an error of the `notify` crate.
fn watcher_error(err: notify::Error, path: &VPath) -> FsError {
    match err.kind {
        notify::ErrorKind::Io(io) => FsError::from_io(io, METHOD, path),
        notify::ErrorKind::PathNotFound | notify::ErrorKind::WatchNotFound => FsError::new(
            ErrorKind::NotFound,
            METHOD,
            "the watched path does not exist",
        )
        .with_path(path),
        other => FsError::new(ErrorKind::Unknown, METHOD, format!("{other:?}")).with_path(path),
    }
}
