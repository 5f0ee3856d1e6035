//! `watch`: create, update and remove events arrive (bounded in time and count), or `Unsupported`.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;

use super::support::{expect_kind, mkdir, p, within, write, Must, Waited, WAIT_LIMIT};
use crate::{
    ErrorKind, FileSystem, OpenFlag, OpenOptions, RemoveOptions, VPath, WatchEvent, WatchOptions,
    WatchStream,
};

/// The most events a case reads before it gives up on the ones it waits for.
const MAX_EVENTS: usize = 256;

/// Reads events until `done` says the ones seen so far are enough; panics on an error item, on the
/// stream ending, after [`MAX_EVENTS`] events, or when no event arrives for [`WAIT_LIMIT`].
async fn events_until(
    stream: &mut WatchStream,
    what: &str,
    done: impl Fn(&[WatchEvent]) -> bool,
) -> Vec<WatchEvent> {
    let mut seen = Vec::new();
    while !done(&seen) {
        assert!(
            seen.len() < MAX_EVENTS,
            "{what}: {MAX_EVENTS} events without the expected ones: {seen:?}"
        );
        match within(WAIT_LIMIT, stream.next()).await {
            Waited::Done(Some(event)) => seen.push(event.must(format!("{what}: watch event"))),
            Waited::Done(None) => panic!("{what}: the watch stream ended; seen {seen:?}"),
            Waited::TimedOut => {
                panic!("{what}: no event for {WAIT_LIMIT:?}; seen so far {seen:?}")
            }
        }
    }
    seen
}

fn has(seen: &[WatchEvent], wanted: &WatchEvent) -> bool {
    seen.contains(wanted)
}

/// Watching a directory reports a file's creation, an update of its content and its removal.
pub async fn watch_reports_create_update_remove(fs: Arc<dyn FileSystem>) {
    let dir = p("/watched");
    mkdir(&*fs, &dir).await;
    if !fs.capabilities().watch {
        expect_kind(
            fs.watch(&dir, WatchOptions::default()).await,
            ErrorKind::Unsupported,
            "watch without the watch capability",
        );
        return;
    }
    let mut stream = fs.watch(&dir, WatchOptions::default()).await.must("watch");
    let file = p("/watched/file.txt");
    write(&*fs, &file, b"created").await;
    let seen = events_until(&mut stream, "after creating a file", |seen| {
        has(seen, &WatchEvent::Create(file.clone()))
    })
    .await;
    assert_only_below(&seen, &dir);
    fs.write_file(
        &file,
        Bytes::from_static(b" and appended"),
        OpenOptions::flag(OpenFlag::Append),
    )
    .await
    .must("append");
    let seen = events_until(&mut stream, "after appending to the file", |seen| {
        has(seen, &WatchEvent::Update(file.clone()))
    })
    .await;
    assert_only_below(&seen, &dir);
    fs.remove(&file, RemoveOptions::default())
        .await
        .must("remove");
    let seen = events_until(&mut stream, "after removing the file", |seen| {
        has(seen, &WatchEvent::Remove(file.clone()))
    })
    .await;
    assert_only_below(&seen, &dir);
}

/// A recursive watch reports changes in subdirectories that existed when it started.
pub async fn watch_recursive_sees_nested_changes(fs: Arc<dyn FileSystem>) {
    let dir = p("/tree");
    mkdir(&*fs, &p("/tree/a/b")).await;
    let recursive = WatchOptions { recursive: true };
    if !fs.capabilities().watch {
        expect_kind(
            fs.watch(&dir, recursive).await,
            ErrorKind::Unsupported,
            "watch without the watch capability",
        );
        return;
    }
    let mut stream = fs.watch(&dir, recursive).await.must("watch recursive");
    let nested = p("/tree/a/b/nested.txt");
    write(&*fs, &nested, b"deep").await;
    let seen = events_until(&mut stream, "after creating a nested file", |seen| {
        has(seen, &WatchEvent::Create(nested.clone()))
    })
    .await;
    assert_only_below(&seen, &dir);
}

/// Watching a missing path is `NotFound` (or `Unsupported` without the capability).
pub async fn watch_missing_path_is_not_found(fs: Arc<dyn FileSystem>) {
    let expected = if fs.capabilities().watch {
        ErrorKind::NotFound
    } else {
        ErrorKind::Unsupported
    };
    expect_kind(
        fs.watch(&p("/missing"), WatchOptions::default()).await,
        expected,
        "watch of a missing path",
    );
}

fn assert_only_below(seen: &[WatchEvent], dir: &VPath) {
    for event in seen {
        assert!(
            event.path().starts_with(dir),
            "an event outside the watched directory {dir}: {event:?}"
        );
    }
}
