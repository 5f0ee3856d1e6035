//! [`FsObject`]: the app's `JsFileSystem` object, checked once (required methods, capabilities and
//! the methods they need), and calls into it and into the handles and writers it returns.

use std::fmt::Display;

use fs_core::{Capabilities, FsError, FsResult};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::{invalid, thrown};
use super::values::{get, kind_of};

/// The methods of `JsFileSystem` (see `ts/file-system.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Js {
    /// `stat(path)`.
    Stat,
    /// `readDir(path)`.
    ReadDir,
    /// `makeDir(path, {mode})`.
    MakeDir,
    /// `remove(path, {recursive})`.
    Remove,
    /// `rename(from, to)`.
    Rename,
    /// `readFile(path, {offset, length}?)`.
    ReadFile,
    /// `writeFile(path, data, {flag, mode})`.
    WriteFile,
    /// `openWriter(path, {mode, permissions})`.
    OpenWriter,
    /// `truncate(path, length)` (optional).
    Truncate,
    /// `copyFile(from, to)` (optional).
    CopyFile,
    /// `open(path, {flag, mode})` (`fileHandles`).
    Open,
    /// `symlink(target, path)` (`symlinks`).
    Symlink,
    /// `readLink(path)` (`symlinks`).
    ReadLink,
    /// `realPath(path)` (`symlinks`).
    RealPath,
    /// `link(from, to)` (`hardLinks`).
    Link,
    /// `chmod(path, mode)` (`permissions`).
    Chmod,
    /// `chown(path, uid, gid)` (`ownership`).
    Chown,
    /// `utimes(path, atimeMs, mtimeMs)` (`setTimes`).
    Utimes,
}

impl Js {
    /// Every method, the required ones first.
    const ALL: [Js; 18] = [
        Js::Stat,
        Js::ReadDir,
        Js::MakeDir,
        Js::Remove,
        Js::Rename,
        Js::ReadFile,
        Js::WriteFile,
        Js::OpenWriter,
        Js::Truncate,
        Js::CopyFile,
        Js::Open,
        Js::Symlink,
        Js::ReadLink,
        Js::RealPath,
        Js::Link,
        Js::Chmod,
        Js::Chown,
        Js::Utimes,
    ];

    /// How many of [`Js::ALL`] every file system must have.
    const REQUIRED: usize = 8;

    /// The method's name in JavaScript.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Js::Stat => "stat",
            Js::ReadDir => "readDir",
            Js::MakeDir => "makeDir",
            Js::Remove => "remove",
            Js::Rename => "rename",
            Js::ReadFile => "readFile",
            Js::WriteFile => "writeFile",
            Js::OpenWriter => "openWriter",
            Js::Truncate => "truncate",
            Js::CopyFile => "copyFile",
            Js::Open => "open",
            Js::Symlink => "symlink",
            Js::ReadLink => "readLink",
            Js::RealPath => "realPath",
            Js::Link => "link",
            Js::Chmod => "chmod",
            Js::Chown => "chown",
            Js::Utimes => "utimes",
        }
    }
}

/// The optional groups of `JsFileSystemCapabilities` with the methods each needs.
const GROUPS: [(&str, &[Js]); 6] = [
    ("fileHandles", &[Js::Open]),
    ("symlinks", &[Js::Symlink, Js::ReadLink, Js::RealPath]),
    ("hardLinks", &[Js::Link]),
    ("permissions", &[Js::Chmod]),
    ("ownership", &[Js::Chown]),
    ("setTimes", &[Js::Utimes]),
];

/// Flags of `JsFileSystemCapabilities` that need no method.
const FLAGS: [&str; 4] = [
    "atomicRename",
    "atomicDirRename",
    "atomicWriteFile",
    "durable",
];

/// The checked file system object.
pub(crate) struct FsObject {
    /// The object itself (`this` of every call).
    this: JsValue,
    /// By [`Js`] index; `None` for an optional method that is absent or whose group is off.
    methods: Vec<Option<Function>>,
    /// What the declared groups and flags amount to.
    capabilities: Capabilities,
}

impl FsObject {
    /// Checks `value`: an object with the eight required methods, a `capabilities` object (when
    /// present) of booleans, and the methods of each group it turns on. The error lists everything
    /// that is wrong at once.
    pub(crate) fn new(value: JsValue) -> Result<FsObject, String> {
        if !value.is_object() && !value.is_function() {
            return Err(format!(
                "the file system must be an object implementing JsFileSystem (stat, readDir, makeDir, remove, rename, readFile, writeFile, openWriter), not {}",
                kind_of(&value)
            ));
        }
        let found: Vec<Option<Function>> = Js::ALL
            .iter()
            .map(|m| get(&value, m.name()).dyn_into::<Function>().ok())
            .collect();
        let mut problems = Vec::new();
        let missing: Vec<&str> = Js::ALL[..Js::REQUIRED]
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(m, _)| m.name())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "it lacks the required method{} {} (a JsFileSystem has stat, readDir, makeDir, remove, rename, readFile, writeFile and openWriter)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ));
        }
        let declared = get(&value, "capabilities");
        if !declared.is_undefined() && !declared.is_null() && !declared.is_object() {
            problems.push(format!(
                "its capabilities must be an object, not {}",
                kind_of(&declared)
            ));
        }
        let mut flag = |name: &str| -> bool {
            let set = get(&declared, name);
            match set.as_bool() {
                Some(on) => on,
                None if set.is_undefined() || set.is_null() => false,
                None => {
                    problems.push(format!(
                        "capabilities.{name} must be a boolean, not {}",
                        kind_of(&set)
                    ));
                    false
                }
            }
        };
        let mut on = [false; GROUPS.len()];
        for (i, (group, _)) in GROUPS.iter().enumerate() {
            on[i] = flag(group);
        }
        let [atomic_rename, atomic_dir_rename, atomic_write_file, durable] = FLAGS.map(&mut flag);
        for (i, (group, needs)) in GROUPS.iter().enumerate() {
            let lacking: Vec<&str> = needs
                .iter()
                .filter(|m| found[**m as usize].is_none())
                .map(|m| m.name())
                .collect();
            if on[i] && !lacking.is_empty() {
                problems.push(format!(
                    "capabilities.{group} is true but it lacks {}",
                    lacking.join(", ")
                ));
            }
        }
        if !problems.is_empty() {
            return Err(format!(
                "the file system object is not a usable JsFileSystem: {}",
                problems.join("; ")
            ));
        }
        let [file_handles, symlinks, hard_links, permissions, ownership, set_times] = on;
        let mut methods = found;
        // Methods of groups that are off are never called, even when present.
        for (i, (_, needs)) in GROUPS.iter().enumerate() {
            if !on[i] {
                for m in needs.iter() {
                    methods[*m as usize] = None;
                }
            }
        }
        Ok(FsObject {
            this: value,
            methods,
            capabilities: Capabilities {
                symlinks,
                hard_links,
                permissions,
                ownership,
                set_times,
                watch: false,
                atomic_rename,
                atomic_dir_rename,
                atomic_write_file,
                random_access_write: file_handles,
                durable_sync: durable,
                real_path: true,
            },
        })
    }

    /// What the object can do, as fs-core's [`Capabilities`].
    pub(crate) fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// Whether the (optional) method is there and may be called.
    pub(crate) fn has(&self, method: Js) -> bool {
        self.methods[method as usize].is_some()
    }

    /// Calls `method` with `args` and waits for its answer; a throw or a rejection becomes an
    /// [`FsError`] of `fs_method` about `path`. An absent optional method is `Unsupported`.
    pub(crate) async fn call(
        &self,
        method: Js,
        args: &[JsValue],
        fs_method: &'static str,
        path: impl Display,
    ) -> FsResult<JsValue> {
        let Some(function) = &self.methods[method as usize] else {
            return Err(FsError::unsupported(fs_method, "JavaScript"));
        };
        apply(function, &self.this, args)
            .await
            .map_err(|e| thrown(&e, fs_method, path))
    }
}

/// Calls `function` with `this` and `args`, then awaits what it returns when it is a Promise (or
/// any thenable); a synchronous throw and a rejection are both `Err`.
pub(crate) async fn apply(
    function: &Function,
    this: &JsValue,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let list: Array = args.iter().collect();
    let value = Reflect::apply(function, this, &list)?;
    let thenable =
        value.has_type::<Promise>() || (value.is_object() && get(&value, "then").is_function());
    if thenable {
        JsFuture::from(Promise::resolve(&value)).await
    } else {
        Ok(value)
    }
}

/// An object returned by the file system (a handle or a writer), with the methods it must have.
pub(crate) struct Returned {
    /// The object (`this` of every call).
    this: JsValue,
    /// Its methods, in the order of the names it was checked with.
    methods: Vec<Function>,
}

impl Returned {
    /// Checks that `value` has `names` as methods; `InvalidData` of `fs_method` otherwise.
    pub(crate) fn new(
        value: JsValue,
        names: &[&str],
        what: &str,
        fs_method: &'static str,
        path: impl Display,
    ) -> FsResult<Returned> {
        let mut methods = Vec::with_capacity(names.len());
        let mut lacking = Vec::new();
        for name in names {
            match get(&value, name).dyn_into::<Function>() {
                Ok(f) => methods.push(f),
                Err(_) => lacking.push(*name),
            }
        }
        if !lacking.is_empty() {
            return Err(invalid(
                fs_method,
                path,
                format!(
                    "{} as {what}, which lacks {}",
                    kind_of(&value),
                    lacking.join(", ")
                ),
            ));
        }
        Ok(Returned {
            this: value,
            methods,
        })
    }

    /// Calls the method at `index` (of the names given to [`Returned::new`]).
    pub(crate) async fn call(
        &self,
        index: usize,
        args: &[JsValue],
        fs_method: &'static str,
        path: impl Display,
    ) -> FsResult<JsValue> {
        apply(&self.methods[index], &self.this, args)
            .await
            .map_err(|e| thrown(&e, fs_method, path))
    }

    /// Calls the method at `index` without waiting (for `Drop`); its outcome is ignored.
    pub(crate) fn call_detached(&self, index: usize) {
        let function = self.methods[index].clone();
        let this = self.this.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = apply(&function, &this, &[]).await;
        });
    }
}
