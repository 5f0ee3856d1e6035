//! The bridge's wire format: plain JS objects built and read field by field.
//!
//! Requests (page → worker) are `{ id, op, ...arguments }`; fire-and-forget notices have no `id`.
//! Replies (worker → page) are `{ id, ok: true, v }` or `{ id, ok: false, e: error }`. Watch events
//! are pushed as `{ w: watchId, ev }`, `{ w, e: error }` or `{ w, end: true }`. Bytes are `Uint8Array`s
//! whose buffers are transferred; integers above 2^53 travel as `BigInt`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use fs_core::{
    Capabilities, DirEntry, ErrorKind, FileInfo, FileType, FsError, FsResult, OpenFlag, SinkMode,
    SystemTime, VPath, WatchEvent,
};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_time::UNIX_EPOCH;

/// The method name of errors about the bridge itself (a malformed message, a dead worker).
pub(crate) const BRIDGE_METHOD: &str = "bridge";

/// A new empty JS object.
pub(crate) fn obj() -> Object {
    Object::new()
}

/// Sets `key` on a plain object (which cannot fail for plain objects; a failure is ignored).
pub(crate) fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}

/// Reads `key` from an object; `undefined` when absent or not an object.
pub(crate) fn get(source: &JsValue, key: &str) -> JsValue {
    Reflect::get(source, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A protocol error: a message that does not have the expected shape.
pub(crate) fn malformed(what: impl std::fmt::Display) -> FsError {
    FsError::new(
        ErrorKind::Unknown,
        BRIDGE_METHOD,
        format!("malformed bridge message: {what}"),
    )
}

/// A required string field.
pub(crate) fn get_str(source: &JsValue, key: &str) -> FsResult<String> {
    get(source, key)
        .as_string()
        .ok_or_else(|| malformed(format!("field {key:?} is not a string")))
}

/// An optional string field (`undefined`/`null` is `None`).
pub(crate) fn get_opt_str(source: &JsValue, key: &str) -> FsResult<Option<String>> {
    let value = get(source, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| malformed(format!("field {key:?} is not a string")))
}

/// A boolean field; absent is `false`.
pub(crate) fn get_bool(source: &JsValue, key: &str) -> bool {
    get(source, key).as_bool().unwrap_or(false)
}

/// A required path field, validated again on this side.
pub(crate) fn get_path(source: &JsValue, key: &str) -> FsResult<VPath> {
    VPath::new(&get_str(source, key)?)
}

/// An optional path field.
pub(crate) fn get_opt_path(source: &JsValue, key: &str) -> FsResult<Option<VPath>> {
    get_opt_str(source, key)?
        .map(|s| VPath::new(&s))
        .transpose()
}

/// The largest integer a JS number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// A `u64` as a JS number, or a `BigInt` when a number would lose precision.
pub(crate) fn u64_to_js(value: u64) -> JsValue {
    if value <= MAX_SAFE {
        JsValue::from_f64(value as f64)
    } else {
        JsValue::from(value)
    }
}

/// An `i64` as a JS number, or a `BigInt` when a number would lose precision.
pub(crate) fn i64_to_js(value: i64) -> JsValue {
    if value.unsigned_abs() <= MAX_SAFE {
        JsValue::from_f64(value as f64)
    } else {
        JsValue::from(value)
    }
}

/// Reads a `u64` sent by [`u64_to_js`].
pub(crate) fn js_to_u64(value: &JsValue) -> Option<u64> {
    match value.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE as f64 => Some(n as u64),
        Some(_) => None,
        None => u64::try_from(value.clone()).ok(),
    }
}

/// Reads an `i64` sent by [`i64_to_js`].
pub(crate) fn js_to_i64(value: &JsValue) -> Option<i64> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE as f64 => Some(n as i64),
        Some(_) => None,
        None => i64::try_from(value.clone()).ok(),
    }
}

/// A required `u64` field.
pub(crate) fn get_u64(source: &JsValue, key: &str) -> FsResult<u64> {
    js_to_u64(&get(source, key)).ok_or_else(|| malformed(format!("field {key:?} is not a u64")))
}

/// An optional `u64` field.
pub(crate) fn get_opt_u64(source: &JsValue, key: &str) -> FsResult<Option<u64>> {
    let value = get(source, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    js_to_u64(&value)
        .map(Some)
        .ok_or_else(|| malformed(format!("field {key:?} is not a u64")))
}

/// A required `u32` field.
pub(crate) fn get_u32(source: &JsValue, key: &str) -> FsResult<u32> {
    u32::try_from(get_u64(source, key)?).map_err(|_| malformed(format!("field {key:?} > u32")))
}

/// An optional `u32` field.
pub(crate) fn get_opt_u32(source: &JsValue, key: &str) -> FsResult<Option<u32>> {
    get_opt_u64(source, key)?
        .map(|v| u32::try_from(v).map_err(|_| malformed(format!("field {key:?} > u32"))))
        .transpose()
}

/// A required `usize` field.
pub(crate) fn get_usize(source: &JsValue, key: &str) -> FsResult<usize> {
    usize::try_from(get_u64(source, key)?).map_err(|_| malformed(format!("field {key:?} > usize")))
}

/// Copies bytes into a fresh JS-owned `Uint8Array` (its buffer can then be transferred).
pub(crate) fn bytes_to_js(data: &[u8]) -> Uint8Array {
    let array = Uint8Array::new_with_length(data.len() as u32);
    array.copy_from(data);
    array
}

/// Copies a `Uint8Array` into Rust-owned bytes.
pub(crate) fn js_to_bytes(value: &JsValue) -> FsResult<Bytes> {
    let array = value
        .dyn_ref::<Uint8Array>()
        .ok_or_else(|| malformed("expected a Uint8Array"))?;
    Ok(Bytes::from(array.to_vec()))
}

/// A required bytes field.
pub(crate) fn get_bytes(source: &JsValue, key: &str) -> FsResult<Bytes> {
    js_to_bytes(&get(source, key))
}

/// The transfer list for a message carrying `array`: its buffer, so it moves instead of being copied.
pub(crate) fn transfer_of(array: &Uint8Array) -> Array {
    Array::of1(&array.buffer())
}

thread_local! {
    /// Method names received from the other side, each leaked once: `FsError` keeps a `&'static str`,
    /// and the set of names is small and fixed (Effect's method names), so this stays bounded.
    static METHODS: RefCell<HashMap<String, &'static str>> = RefCell::new(HashMap::new());
}

/// A `&'static str` equal to `name`.
fn intern_method(name: &str) -> &'static str {
    METHODS.with(|methods| {
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

/// An error as `{ kind, method, path?, description }` (the source cannot cross; its text is in the
/// description already).
pub(crate) fn encode_error(error: &FsError) -> JsValue {
    let out = obj();
    set(&out, "kind", error.kind().as_str());
    set(&out, "method", error.method());
    if let Some(path) = error.path() {
        set(&out, "path", path);
    }
    set(&out, "description", error.description());
    out.into()
}

/// The error encoded by [`encode_error`]; a malformed one becomes an `Unknown` error saying so.
pub(crate) fn decode_error(value: &JsValue) -> FsError {
    let kind_name = get(value, "kind").as_string().unwrap_or_default();
    let kind = KINDS
        .into_iter()
        .find(|k| k.as_str() == kind_name)
        .unwrap_or(ErrorKind::Unknown);
    let method = get(value, "method")
        .as_string()
        .map(|m| intern_method(&m))
        .unwrap_or(BRIDGE_METHOD);
    let description = get(value, "description").as_string().unwrap_or_else(|| {
        format!("an error without a description crossed the bridge (kind {kind_name:?})")
    });
    let error = FsError::new(kind, method, description);
    match get(value, "path").as_string() {
        Some(path) => error.with_path(path),
        None => error,
    }
}

/// Capabilities as an object of booleans.
pub(crate) fn encode_caps(caps: &Capabilities) -> JsValue {
    let out = obj();
    set(&out, "symlinks", caps.symlinks);
    set(&out, "hardLinks", caps.hard_links);
    set(&out, "permissions", caps.permissions);
    set(&out, "ownership", caps.ownership);
    set(&out, "setTimes", caps.set_times);
    set(&out, "watch", caps.watch);
    set(&out, "atomicRename", caps.atomic_rename);
    set(&out, "atomicDirRename", caps.atomic_dir_rename);
    set(&out, "randomAccessWrite", caps.random_access_write);
    set(&out, "durableSync", caps.durable_sync);
    set(&out, "realPath", caps.real_path);
    out.into()
}

/// The capabilities encoded by [`encode_caps`] (absent fields are `false`).
pub(crate) fn decode_caps(value: &JsValue) -> Capabilities {
    Capabilities {
        symlinks: get_bool(value, "symlinks"),
        hard_links: get_bool(value, "hardLinks"),
        permissions: get_bool(value, "permissions"),
        ownership: get_bool(value, "ownership"),
        set_times: get_bool(value, "setTimes"),
        watch: get_bool(value, "watch"),
        atomic_rename: get_bool(value, "atomicRename"),
        atomic_dir_rename: get_bool(value, "atomicDirRename"),
        random_access_write: get_bool(value, "randomAccessWrite"),
        durable_sync: get_bool(value, "durableSync"),
        real_path: get_bool(value, "realPath"),
    }
}

/// A time as `{ s, n }`: whole seconds from the Unix epoch (negative before it) plus nanoseconds.
pub(crate) fn encode_time(time: SystemTime) -> JsValue {
    let (secs, nanos) = match time.duration_since(UNIX_EPOCH) {
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
    set(&out, "s", i64_to_js(secs));
    set(&out, "n", nanos);
    out.into()
}

/// The time encoded by [`encode_time`].
pub(crate) fn decode_time(value: &JsValue) -> FsResult<SystemTime> {
    let secs = js_to_i64(&get(value, "s")).ok_or_else(|| malformed("time without seconds"))?;
    let nanos = get_u32(value, "n")?;
    let whole = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs as u64))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    whole
        .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
        .ok_or_else(|| malformed("time out of range"))
}

fn decode_opt_time(value: &JsValue, key: &str) -> FsResult<Option<SystemTime>> {
    let field = get(value, key);
    if field.is_undefined() || field.is_null() {
        return Ok(None);
    }
    decode_time(&field).map(Some)
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

fn file_type_of(name: &str) -> FileType {
    match name {
        "File" => FileType::File,
        "Directory" => FileType::Directory,
        "SymbolicLink" => FileType::SymbolicLink,
        "BlockDevice" => FileType::BlockDevice,
        "CharacterDevice" => FileType::CharacterDevice,
        "FIFO" => FileType::Fifo,
        "Socket" => FileType::Socket,
        _ => FileType::Unknown,
    }
}

fn set_opt(target: &Object, key: &str, value: Option<JsValue>) {
    if let Some(value) = value {
        set(target, key, value);
    }
}

/// A [`FileInfo`] as an object; unknown fields are left out.
pub(crate) fn encode_info(info: &FileInfo) -> JsValue {
    let out = obj();
    set(&out, "type", file_type_name(info.file_type));
    set(&out, "size", u64_to_js(info.size));
    set_opt(&out, "mtime", info.mtime.map(encode_time));
    set_opt(&out, "atime", info.atime.map(encode_time));
    set_opt(&out, "birthtime", info.birthtime.map(encode_time));
    set(&out, "dev", u64_to_js(info.dev));
    set_opt(&out, "ino", info.ino.map(u64_to_js));
    set(&out, "mode", info.mode);
    set_opt(&out, "nlink", info.nlink.map(u64_to_js));
    set_opt(&out, "uid", info.uid.map(JsValue::from));
    set_opt(&out, "gid", info.gid.map(JsValue::from));
    set_opt(&out, "rdev", info.rdev.map(u64_to_js));
    set_opt(&out, "blksize", info.blksize.map(u64_to_js));
    set_opt(&out, "blocks", info.blocks.map(u64_to_js));
    out.into()
}

/// The [`FileInfo`] encoded by [`encode_info`].
pub(crate) fn decode_info(value: &JsValue) -> FsResult<FileInfo> {
    let kind = file_type_of(&get_str(value, "type")?);
    let mut info = FileInfo::basic(kind, get_u64(value, "size")?);
    info.mtime = decode_opt_time(value, "mtime")?;
    info.atime = decode_opt_time(value, "atime")?;
    info.birthtime = decode_opt_time(value, "birthtime")?;
    info.dev = get_opt_u64(value, "dev")?.unwrap_or(0);
    info.ino = get_opt_u64(value, "ino")?;
    info.mode = get_opt_u32(value, "mode")?.unwrap_or(0);
    info.nlink = get_opt_u64(value, "nlink")?;
    info.uid = get_opt_u32(value, "uid")?;
    info.gid = get_opt_u32(value, "gid")?;
    info.rdev = get_opt_u64(value, "rdev")?;
    info.blksize = get_opt_u64(value, "blksize")?;
    info.blocks = get_opt_u64(value, "blocks")?;
    Ok(info)
}

/// Directory entries as an array of `{ relative, path, type }`.
pub(crate) fn encode_entries(entries: &[DirEntry]) -> JsValue {
    let out = Array::new_with_length(entries.len() as u32);
    for (i, entry) in entries.iter().enumerate() {
        let item = obj();
        set(&item, "relative", entry.relative.as_str());
        set(&item, "path", entry.path.as_str());
        set(&item, "type", file_type_name(entry.file_type));
        out.set(i as u32, item.into());
    }
    out.into()
}

/// The entries encoded by [`encode_entries`].
pub(crate) fn decode_entries(value: &JsValue) -> FsResult<Vec<DirEntry>> {
    let array = value
        .dyn_ref::<Array>()
        .ok_or_else(|| malformed("directory entries are not an array"))?;
    array
        .iter()
        .map(|item| {
            Ok(DirEntry {
                relative: get_str(&item, "relative")?,
                path: get_path(&item, "path")?,
                file_type: file_type_of(&get_str(&item, "type")?),
            })
        })
        .collect()
}

/// A watch event as `{ tag, path }` with Effect's tags.
pub(crate) fn encode_event(event: &WatchEvent) -> JsValue {
    let out = obj();
    let tag = match event {
        WatchEvent::Create(_) => "Create",
        WatchEvent::Update(_) => "Update",
        WatchEvent::Remove(_) => "Remove",
    };
    set(&out, "tag", tag);
    set(&out, "path", event.path().as_str());
    out.into()
}

/// The event encoded by [`encode_event`].
pub(crate) fn decode_event(value: &JsValue) -> FsResult<WatchEvent> {
    let path = get_path(value, "path")?;
    match get_str(value, "tag")?.as_str() {
        "Create" => Ok(WatchEvent::Create(path)),
        "Update" => Ok(WatchEvent::Update(path)),
        "Remove" => Ok(WatchEvent::Remove(path)),
        other => Err(malformed(format!("unknown watch event tag {other:?}"))),
    }
}

/// An open flag field (Effect's spelling).
pub(crate) fn get_flag(source: &JsValue, key: &str) -> FsResult<OpenFlag> {
    get_str(source, key)?.parse()
}

/// A sink mode's name.
pub(crate) fn sink_mode_name(mode: SinkMode) -> &'static str {
    match mode {
        SinkMode::Replace => "replace",
        SinkMode::CreateNew => "createNew",
        SinkMode::Append => "append",
    }
}

/// A sink mode field.
pub(crate) fn get_sink_mode(source: &JsValue, key: &str) -> FsResult<SinkMode> {
    match get_str(source, key)?.as_str() {
        "replace" => Ok(SinkMode::Replace),
        "createNew" => Ok(SinkMode::CreateNew),
        "append" => Ok(SinkMode::Append),
        other => Err(malformed(format!("unknown sink mode {other:?}"))),
    }
}
