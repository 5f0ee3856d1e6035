//! [`Wire`] codecs of the values messages carry: numbers, strings, paths, bytes, fs-core's option
//! structs, file infos, directory entries, watch events, capabilities and errors.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::SeekFrom;
use std::time::Duration;

use fs_core::{
    AccessOptions, Capabilities, CopyOptions, DirEntry, ErrorKind, FileInfo, FileType, FsError,
    MakeDirOptions, OpenFlag, OpenOptions, ReadDirOptions, RemoveOptions, SinkMode, SinkOptions,
    StreamOptions, SystemTime, TempOptions, VPath, WatchEvent, WatchOptions,
};
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_time::UNIX_EPOCH;

use super::{get, obj, set, Transfer, Wire};
use crate::method::FsMethod;

/// The largest integer a JS number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// Reads a field of a nested object.
fn part<T: Wire>(source: &JsValue, key: &str) -> Result<T, String> {
    T::from_js(&get(source, key)).map_err(|why| format!("{key:?}: {why}"))
}

/// Sets a field of a nested object (left out when it encodes as `undefined`).
fn put_part<T: Wire>(target: &Object, key: &str, value: &T) {
    let js = value.to_js();
    if !js.is_undefined() {
        set(target, key, js);
    }
}

/// Checks that a nested value is an object.
fn object(value: &JsValue) -> Result<&JsValue, String> {
    if value.is_object() {
        Ok(value)
    } else {
        Err("not an object".to_owned())
    }
}

impl Wire for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_bool(*self)
    }

    /// Absent is `false`.
    fn from_js(value: &JsValue) -> Result<bool, String> {
        if value.is_undefined() {
            return Ok(false);
        }
        value.as_bool().ok_or_else(|| "not a boolean".to_owned())
    }
}

impl Wire for u64 {
    /// A JS number, or a `BigInt` when a number would lose precision.
    fn to_js(&self) -> JsValue {
        if *self <= MAX_SAFE {
            JsValue::from_f64(*self as f64)
        } else {
            JsValue::from(*self)
        }
    }

    fn from_js(value: &JsValue) -> Result<u64, String> {
        match value.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE as f64 => Some(n as u64),
            Some(_) => None,
            None => u64::try_from(value.clone()).ok(),
        }
        .ok_or_else(|| "not a u64".to_owned())
    }
}

impl Wire for i64 {
    /// A JS number, or a `BigInt` when a number would lose precision.
    fn to_js(&self) -> JsValue {
        if self.unsigned_abs() <= MAX_SAFE {
            JsValue::from_f64(*self as f64)
        } else {
            JsValue::from(*self)
        }
    }

    fn from_js(value: &JsValue) -> Result<i64, String> {
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE as f64 => Some(n as i64),
            Some(_) => None,
            None => i64::try_from(value.clone()).ok(),
        }
        .ok_or_else(|| "not an i64".to_owned())
    }
}

impl Wire for u32 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }

    fn from_js(value: &JsValue) -> Result<u32, String> {
        u32::try_from(u64::from_js(value)?).map_err(|_| "larger than a u32".to_owned())
    }
}

impl Wire for usize {
    fn to_js(&self) -> JsValue {
        (*self as u64).to_js()
    }

    fn from_js(value: &JsValue) -> Result<usize, String> {
        usize::try_from(u64::from_js(value)?).map_err(|_| "larger than a usize".to_owned())
    }
}

impl Wire for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }

    fn from_js(value: &JsValue) -> Result<String, String> {
        value.as_string().ok_or_else(|| "not a string".to_owned())
    }
}

impl Wire for VPath {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self.as_str())
    }

    /// Validated again on this side.
    fn from_js(value: &JsValue) -> Result<VPath, String> {
        VPath::new(&String::from_js(value)?).map_err(|e| e.to_string())
    }
}

impl Wire for Uint8Array {
    fn to_js(&self) -> JsValue {
        self.into()
    }

    fn from_js(value: &JsValue) -> Result<Uint8Array, String> {
        value
            .dyn_ref::<Uint8Array>()
            .cloned()
            .ok_or_else(|| "not a Uint8Array".to_owned())
    }

    /// The buffer moves with the message.
    fn transfer(&self, transfer: &mut Transfer) {
        transfer.add(self);
    }
}

impl<T: Wire> Wire for Option<T> {
    /// `None` leaves the field out.
    fn to_js(&self) -> JsValue {
        match self {
            Some(value) => value.to_js(),
            None => JsValue::UNDEFINED,
        }
    }

    /// Absent or `null` is `None`.
    fn from_js(value: &JsValue) -> Result<Option<T>, String> {
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        T::from_js(value).map(Some)
    }

    fn transfer(&self, transfer: &mut Transfer) {
        if let Some(value) = self {
            value.transfer(transfer);
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn to_js(&self) -> JsValue {
        let out = Array::new_with_length(self.len() as u32);
        for (i, item) in self.iter().enumerate() {
            out.set(i as u32, item.to_js());
        }
        out.into()
    }

    fn from_js(value: &JsValue) -> Result<Vec<T>, String> {
        let array = value
            .dyn_ref::<Array>()
            .ok_or_else(|| "not an array".to_owned())?;
        array
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_js(&item).map_err(|why| format!("[{i}]: {why}")))
            .collect()
    }

    fn transfer(&self, transfer: &mut Transfer) {
        for item in self {
            item.transfer(transfer);
        }
    }
}

impl Wire for SystemTime {
    /// `{ s, n }`: whole seconds from the Unix epoch (negative before it) plus nanoseconds.
    fn to_js(&self) -> JsValue {
        let (secs, nanos) = match self.duration_since(UNIX_EPOCH) {
            Ok(after) => (after.as_secs() as i64, after.subsec_nanos()),
            Err(before) => {
                let d = before.duration();
                if d.subsec_nanos() == 0 {
                    (-(d.as_secs() as i64), 0)
                } else {
                    (-(d.as_secs() as i64) - 1, 1_000_000_000 - d.subsec_nanos())
                }
            }
        };
        let out = obj();
        put_part(&out, "s", &secs);
        put_part(&out, "n", &nanos);
        out.into()
    }

    fn from_js(value: &JsValue) -> Result<SystemTime, String> {
        let secs: i64 = part(object(value)?, "s")?;
        let nanos: u32 = part(value, "n")?;
        let whole = if secs >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(secs as u64))
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
        };
        whole
            .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
            .ok_or_else(|| "time out of range".to_owned())
    }
}

impl Wire for SeekFrom {
    /// `{ whence: "start" | "end" | "current", o }`.
    fn to_js(&self) -> JsValue {
        let out = obj();
        let (whence, offset) = match *self {
            SeekFrom::Start(at) => ("start", at.to_js()),
            SeekFrom::End(by) => ("end", by.to_js()),
            SeekFrom::Current(by) => ("current", by.to_js()),
        };
        set(&out, "whence", whence);
        set(&out, "o", offset);
        out.into()
    }

    fn from_js(value: &JsValue) -> Result<SeekFrom, String> {
        let whence: String = part(object(value)?, "whence")?;
        match whence.as_str() {
            "start" => part(value, "o").map(SeekFrom::Start),
            "end" => part(value, "o").map(SeekFrom::End),
            "current" => part(value, "o").map(SeekFrom::Current),
            other => Err(format!("unknown whence {other:?}")),
        }
    }
}

/// Effect's names of the file types.
fn file_type_name(kind: FileType) -> &'static str {
    match kind {
        FileType::File => "File",
        FileType::Directory => "Directory",
        FileType::SymbolicLink => "SymbolicLink",
        FileType::BlockDevice => "BlockDevice",
        FileType::CharacterDevice => "CharacterDevice",
        FileType::Fifo => "FIFO",
        FileType::Socket => "Socket",
        FileType::Unknown => "Unknown",
    }
}

impl Wire for FileType {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(file_type_name(*self))
    }

    /// An unknown name is [`FileType::Unknown`].
    fn from_js(value: &JsValue) -> Result<FileType, String> {
        Ok(match String::from_js(value)?.as_str() {
            "File" => FileType::File,
            "Directory" => FileType::Directory,
            "SymbolicLink" => FileType::SymbolicLink,
            "BlockDevice" => FileType::BlockDevice,
            "CharacterDevice" => FileType::CharacterDevice,
            "FIFO" => FileType::Fifo,
            "Socket" => FileType::Socket,
            _ => FileType::Unknown,
        })
    }
}

impl Wire for FileInfo {
    /// An object; unknown fields are left out.
    fn to_js(&self) -> JsValue {
        let out = obj();
        put_part(&out, "type", &self.file_type);
        put_part(&out, "size", &self.size);
        put_part(&out, "mtime", &self.mtime);
        put_part(&out, "atime", &self.atime);
        put_part(&out, "birthtime", &self.birthtime);
        put_part(&out, "dev", &self.dev);
        put_part(&out, "ino", &self.ino);
        put_part(&out, "mode", &self.mode);
        put_part(&out, "nlink", &self.nlink);
        put_part(&out, "uid", &self.uid);
        put_part(&out, "gid", &self.gid);
        put_part(&out, "rdev", &self.rdev);
        put_part(&out, "blksize", &self.blksize);
        put_part(&out, "blocks", &self.blocks);
        out.into()
    }

    fn from_js(value: &JsValue) -> Result<FileInfo, String> {
        let mut info = FileInfo::basic(part(object(value)?, "type")?, part(value, "size")?);
        info.mtime = part(value, "mtime")?;
        info.atime = part(value, "atime")?;
        info.birthtime = part(value, "birthtime")?;
        info.dev = part::<Option<u64>>(value, "dev")?.unwrap_or(0);
        info.ino = part(value, "ino")?;
        info.mode = part::<Option<u32>>(value, "mode")?.unwrap_or(0);
        info.nlink = part(value, "nlink")?;
        info.uid = part(value, "uid")?;
        info.gid = part(value, "gid")?;
        info.rdev = part(value, "rdev")?;
        info.blksize = part(value, "blksize")?;
        info.blocks = part(value, "blocks")?;
        Ok(info)
    }
}

impl Wire for DirEntry {
    /// `{ relative, path, type }`.
    fn to_js(&self) -> JsValue {
        let out = obj();
        set(&out, "relative", self.relative.as_str());
        put_part(&out, "path", &self.path);
        put_part(&out, "type", &self.file_type);
        out.into()
    }

    fn from_js(value: &JsValue) -> Result<DirEntry, String> {
        Ok(DirEntry {
            relative: part(object(value)?, "relative")?,
            path: part(value, "path")?,
            file_type: part(value, "type")?,
        })
    }
}

impl Wire for WatchEvent {
    /// `{ tag, path }` with Effect's tags.
    fn to_js(&self) -> JsValue {
        let out = obj();
        let tag = match self {
            WatchEvent::Create(_) => "Create",
            WatchEvent::Update(_) => "Update",
            WatchEvent::Remove(_) => "Remove",
        };
        set(&out, "tag", tag);
        put_part(&out, "path", self.path());
        out.into()
    }

    fn from_js(value: &JsValue) -> Result<WatchEvent, String> {
        let path = part(object(value)?, "path")?;
        match part::<String>(value, "tag")?.as_str() {
            "Create" => Ok(WatchEvent::Create(path)),
            "Update" => Ok(WatchEvent::Update(path)),
            "Remove" => Ok(WatchEvent::Remove(path)),
            other => Err(format!("unknown watch event tag {other:?}")),
        }
    }
}

/// The capabilities' fields and their names on the wire.
fn capability_fields(caps: &mut Capabilities) -> [(&'static str, &mut bool); 12] {
    [
        ("symlinks", &mut caps.symlinks),
        ("hardLinks", &mut caps.hard_links),
        ("permissions", &mut caps.permissions),
        ("ownership", &mut caps.ownership),
        ("setTimes", &mut caps.set_times),
        ("watch", &mut caps.watch),
        ("atomicRename", &mut caps.atomic_rename),
        ("atomicDirRename", &mut caps.atomic_dir_rename),
        ("atomicWriteFile", &mut caps.atomic_write_file),
        ("randomAccessWrite", &mut caps.random_access_write),
        ("durableSync", &mut caps.durable_sync),
        ("realPath", &mut caps.real_path),
    ]
}

/// No capability at all.
pub(crate) fn no_capabilities() -> Capabilities {
    Capabilities {
        symlinks: false,
        hard_links: false,
        permissions: false,
        ownership: false,
        set_times: false,
        watch: false,
        atomic_rename: false,
        atomic_dir_rename: false,
        atomic_write_file: false,
        random_access_write: false,
        durable_sync: false,
        real_path: false,
    }
}

impl Wire for Capabilities {
    /// An object of booleans.
    fn to_js(&self) -> JsValue {
        let out = obj();
        let mut caps = *self;
        for (key, value) in capability_fields(&mut caps) {
            set(&out, key, *value);
        }
        out.into()
    }

    /// Absent fields are `false`.
    fn from_js(value: &JsValue) -> Result<Capabilities, String> {
        let mut caps = no_capabilities();
        for (key, slot) in capability_fields(&mut caps) {
            *slot = part(object(value)?, key)?;
        }
        Ok(caps)
    }
}

impl Wire for OpenFlag {
    /// Effect's spelling (`"r+"`, `"wx"`, …).
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self.as_str())
    }

    fn from_js(value: &JsValue) -> Result<OpenFlag, String> {
        String::from_js(value)?
            .parse()
            .map_err(|e: FsError| e.to_string())
    }
}

impl Wire for SinkMode {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(match self {
            SinkMode::Replace => "replace",
            SinkMode::CreateNew => "createNew",
            SinkMode::Append => "append",
        })
    }

    fn from_js(value: &JsValue) -> Result<SinkMode, String> {
        match String::from_js(value)?.as_str() {
            "replace" => Ok(SinkMode::Replace),
            "createNew" => Ok(SinkMode::CreateNew),
            "append" => Ok(SinkMode::Append),
            other => Err(format!("unknown sink mode {other:?}")),
        }
    }
}

/// [`Wire`] for an option struct: an object with one field per struct field, each encoded by its
/// own [`Wire`].
macro_rules! wire_struct {
    ($name:ident { $($field:ident = $key:literal),* $(,)? }) => {
        impl Wire for $name {
            fn to_js(&self) -> JsValue {
                let out = obj();
                $( put_part(&out, $key, &self.$field); )*
                out.into()
            }

            fn from_js(value: &JsValue) -> Result<$name, String> {
                let value = object(value)?;
                Ok($name { $( $field: part(value, $key)?, )* })
            }
        }
    };
}

wire_struct!(AccessOptions {
    readable = "readable",
    writable = "writable"
});
wire_struct!(ReadDirOptions {
    recursive = "recursive"
});
wire_struct!(MakeDirOptions {
    recursive = "recursive",
    mode = "mode"
});
wire_struct!(RemoveOptions {
    recursive = "recursive",
    force = "force"
});
wire_struct!(CopyOptions {
    overwrite = "overwrite",
    preserve_timestamps = "preserveTimestamps"
});
wire_struct!(OpenOptions {
    flag = "flag",
    mode = "mode"
});
wire_struct!(StreamOptions {
    chunk_size = "chunkSize",
    offset = "offset",
    length = "length"
});
wire_struct!(SinkOptions {
    mode = "mode",
    permissions = "permissions"
});
wire_struct!(TempOptions {
    directory = "directory",
    prefix = "prefix"
});
wire_struct!(WatchOptions {
    recursive = "recursive"
});

thread_local! {
    /// Method names from other backends (a served file system may name methods this crate does
    /// not), each leaked once: `FsError` keeps a `&'static str`, and the set of names a backend
    /// uses is small and fixed, so this stays bounded.
    static OTHER_METHODS: RefCell<HashMap<String, &'static str>> = RefCell::new(HashMap::new());
}

/// A `&'static str` equal to `name`: the [`FsMethod`] of that name, or a name leaked once.
fn method_named(name: &str) -> &'static str {
    if let Some(method) = FsMethod::named(name) {
        return method.as_str();
    }
    OTHER_METHODS.with(|methods| {
        let mut methods = methods.borrow_mut();
        if let Some(known) = methods.get(name) {
            return *known;
        }
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        methods.insert(name.to_owned(), leaked);
        leaked
    })
}

/// Every error kind, to decode them by name.
const KINDS: [ErrorKind; 15] = [
    ErrorKind::AlreadyExists,
    ErrorKind::BadResource,
    ErrorKind::Busy,
    ErrorKind::InvalidData,
    ErrorKind::NotFound,
    ErrorKind::PermissionDenied,
    ErrorKind::TimedOut,
    ErrorKind::UnexpectedEof,
    ErrorKind::Unknown,
    ErrorKind::WouldBlock,
    ErrorKind::WriteZero,
    ErrorKind::BadArgument,
    ErrorKind::Unsupported,
    ErrorKind::DirectoryNotEmpty,
    ErrorKind::StorageFull,
];

impl Wire for FsError {
    /// `{ kind, method, path?, description }` (the source cannot cross; its text is in the
    /// description already).
    fn to_js(&self) -> JsValue {
        let out = obj();
        set(&out, "kind", self.kind().as_str());
        set(&out, "method", self.method());
        if let Some(path) = self.path() {
            set(&out, "path", path);
        }
        set(&out, "description", self.description());
        out.into()
    }

    /// Never fails: a malformed error becomes an `Unknown` error saying so.
    fn from_js(value: &JsValue) -> Result<FsError, String> {
        let kind_name = get(value, "kind").as_string().unwrap_or_default();
        let kind = KINDS
            .into_iter()
            .find(|k| k.as_str() == kind_name)
            .unwrap_or(ErrorKind::Unknown);
        let method = get(value, "method")
            .as_string()
            .map_or(FsMethod::Bridge.as_str(), |m| method_named(&m));
        let description = get(value, "description").as_string().unwrap_or_else(|| {
            format!("an error without a description crossed the bridge (kind {kind_name:?})")
        });
        let error = FsError::new(kind, method, description);
        Ok(match get(value, "path").as_string() {
            Some(path) => error.with_path(path),
            None => error,
        })
    }
}
