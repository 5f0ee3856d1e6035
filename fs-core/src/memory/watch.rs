//! Watchers of [`super::MemoryFs::watch`]: who is interested in which paths, and delivery of events.
//!
//! Watches are by path, like Node's `fs.watch` on a directory: a watcher registered at a path sees
//! changes at that path and at its direct children (or anywhere below it when recursive), whatever
//! inode happens to be there. Events are produced synchronously by the operation that made the change,
//! in the order the changes happened, and carry the path the watcher was registered with (not the
//! canonical one when that differs through a symbolic link).

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};

use crate::error::FsResult;
use crate::info::WatchEvent;
use crate::path::VPath;

/// The kind of change, turned into a [`WatchEvent`] per watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Create,
    Update,
    Remove,
}

struct Watcher {
    /// The canonical path watched (symbolic links resolved when the watch started).
    canonical: VPath,
    /// The path the caller asked for; event paths are rebased onto it.
    shown: VPath,
    recursive: bool,
    sender: UnboundedSender<FsResult<WatchEvent>>,
}

impl Watcher {
    /// The path to report for a change at the canonical path `path`, if this watcher covers it.
    fn rebase(&self, path: &VPath) -> Option<VPath> {
        let relative = path.strip_prefix(&self.canonical)?;
        if relative.is_empty() {
            return Some(self.shown.clone());
        }
        if !self.recursive && relative.contains('/') {
            return None;
        }
        self.shown.join_relative(relative).ok()
    }
}

/// Every live watcher of one file system.
#[derive(Default)]
pub(super) struct Watchers {
    watchers: Vec<Watcher>,
}

impl Watchers {
    /// Registers a watcher of `canonical`, reporting paths below `shown`, and returns its receiving end.
    pub(super) fn add(
        &mut self,
        canonical: VPath,
        shown: VPath,
        recursive: bool,
    ) -> UnboundedReceiver<FsResult<WatchEvent>> {
        self.prune();
        let (sender, receiver) = unbounded();
        self.watchers.push(Watcher {
            canonical,
            shown,
            recursive,
            sender,
        });
        receiver
    }

    /// True when nobody watches (operations then skip building event paths).
    pub(super) fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }

    /// Sends `change` at the canonical `path` to every watcher covering it; watchers whose stream was
    /// dropped are removed.
    pub(super) fn emit(&mut self, change: Change, path: &VPath) {
        self.watchers.retain(|watcher| {
            let Some(shown) = watcher.rebase(path) else {
                return !watcher.sender.is_closed();
            };
            let event = match change {
                Change::Create => WatchEvent::Create(shown),
                Change::Update => WatchEvent::Update(shown),
                Change::Remove => WatchEvent::Remove(shown),
            };
            watcher.sender.unbounded_send(Ok(event)).is_ok()
        });
    }

    /// Forgets watchers whose stream was dropped.
    fn prune(&mut self) {
        self.watchers.retain(|watcher| !watcher.sender.is_closed());
    }

    /// How many watchers are registered (pruned ones excluded only after the next event or watch).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn len(&self) -> usize {
        self.watchers.len()
    }
}
