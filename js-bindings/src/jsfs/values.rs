//! Values crossing the boundary: properties, [`FileInfo`] and listings from JavaScript, bytes both
//! ways, numbers (JavaScript's are exact up to 2^53), times (ms since the epoch) and option objects.

use std::time::Duration;

use bytes::Bytes;
use fs_core::{FileInfo, FileType, SystemTime};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// The epoch JavaScript times count from.
const UNIX_EPOCH: SystemTime = SystemTime::UNIX_EPOCH;

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_SAFE: u64 = (1 << 53) - 1;

/// `object[key]`, `undefined` when absent or when `object` is not an object.
pub(crate) fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() && !object.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` as a string, when it is one.
pub(crate) fn get_string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// A plain object with these properties (`undefined` values are left out).
pub(crate) fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let out = Object::new();
    for (key, value) in entries {
        if !value.is_undefined() {
            // A fresh plain object: setting cannot fail.
            let _ = Reflect::set(&out, &JsValue::from_str(key), value);
        }
    }
    out.into()
}

/// A number for JavaScript, when it is exact there.
pub(crate) fn number(value: u64) -> Option<JsValue> {
    (value <= MAX_SAFE).then(|| JsValue::from_f64(value as f64))
}

/// An optional `u32` (a mode) as a number, `undefined` when absent.
pub(crate) fn optional(value: Option<u32>) -> JsValue {
    value.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(f64::from(v)))
}

/// A copy of `data` in JavaScript memory (the engine's memory may move while JavaScript awaits).
pub(crate) fn bytes_to_js(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

/// The bytes of a `Uint8Array` (a Node `Buffer` too) or an `ArrayBuffer`.
pub(crate) fn bytes_from_js(value: &JsValue) -> Result<Bytes, String> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Ok(Bytes::from(array.to_vec()));
    }
    if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(Bytes::from(Uint8Array::new(buffer).to_vec()));
    }
    Err(format!(
        "{} where a Uint8Array was expected",
        kind_of(value)
    ))
}

/// A non-negative integer (a size, a count) from a JavaScript number.
pub(crate) fn count(value: &JsValue, what: &str) -> Result<u64, String> {
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE as f64 => {
            Ok(n as u64)
        }
        _ => Err(format!(
            "{} where {what} (a non-negative integer) was expected",
            kind_of(value)
        )),
    }
}

/// What a value is, for messages (`a string "x"`, `the number 3`, `undefined`, `an object`).
pub(crate) fn kind_of(value: &JsValue) -> String {
    if value.is_undefined() {
        "undefined".to_owned()
    } else if value.is_null() {
        "null".to_owned()
    } else if let Some(text) = value.as_string() {
        format!("the string {text:?}")
    } else if let Some(n) = value.as_f64() {
        format!("the number {n}")
    } else if value.as_bool().is_some() {
        "a boolean".to_owned()
    } else if Array::is_array(value) {
        "an array".to_owned()
    } else if value.is_function() {
        "a function".to_owned()
    } else {
        "an object".to_owned()
    }
}

/// The [`FileType`] of a `JsFileType` string.
pub(crate) fn file_type(value: &JsValue) -> Result<FileType, String> {
    match value.as_string().as_deref() {
        Some("file") => Ok(FileType::File),
        Some("directory") => Ok(FileType::Directory),
        Some("symlink") => Ok(FileType::SymbolicLink),
        Some("other") => Ok(FileType::Unknown),
        _ => Err(format!(
            "a type of {} (expected \"file\", \"directory\", \"symlink\" or \"other\")",
            kind_of(value)
        )),
    }
}

/// A time in ms since the epoch; `None` when absent or not a finite number.
fn time(value: &JsValue) -> Option<SystemTime> {
    let ms = value.as_f64().filter(|ms| ms.is_finite())?;
    let offset = Duration::try_from_secs_f64(ms.abs() / 1000.0).ok()?;
    if ms >= 0.0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    }
}

/// A time as ms since the epoch.
pub(crate) fn time_ms(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs_f64() * 1000.0,
        Err(before) => -before.duration().as_secs_f64() * 1000.0,
    }
}

/// `object[key]` as a count, `None` when absent or not one.
fn optional_count(object: &JsValue, key: &str) -> Option<u64> {
    let value = get(object, key);
    count(&value, key).ok()
}

/// A [`FileInfo`] from a `JsFileInfo` (`type` and `size` required; the rest where present).
pub(crate) fn file_info(value: &JsValue) -> Result<FileInfo, String> {
    if !value.is_object() {
        return Err(format!(
            "{} where file information was expected",
            kind_of(value)
        ));
    }
    let file_type = file_type(&get(value, "type"))?;
    let size = count(&get(value, "size"), "a size")?;
    let small = |key: &str| optional_count(value, key).and_then(|n| u32::try_from(n).ok());
    Ok(FileInfo {
        file_type,
        size,
        mtime: time(&get(value, "mtimeMs")),
        atime: time(&get(value, "atimeMs")),
        birthtime: time(&get(value, "birthtimeMs")),
        dev: optional_count(value, "dev").unwrap_or(0),
        ino: optional_count(value, "ino"),
        mode: small("mode").unwrap_or(0),
        nlink: optional_count(value, "nlink"),
        uid: small("uid"),
        gid: small("gid"),
        rdev: None,
        blksize: None,
        blocks: None,
    })
}

/// `(name, type)` of each entry of a `readDir` answer.
pub(crate) fn dir_entries(value: &JsValue) -> Result<Vec<(String, FileType)>, String> {
    if !Array::is_array(value) {
        return Err(format!(
            "{} where an array of entries was expected",
            kind_of(value)
        ));
    }
    let array: &Array = value.unchecked_ref();
    let mut out = Vec::with_capacity(array.length() as usize);
    for entry in array.iter() {
        let name = get_string(&entry, "name")
            .ok_or_else(|| format!("an entry without a name ({})", kind_of(&entry)))?;
        let file_type = file_type(&get(&entry, "type"))?;
        out.push((name, file_type));
    }
    Ok(out)
}
