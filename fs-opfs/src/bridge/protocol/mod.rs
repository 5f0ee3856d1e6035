//! The bridge's wire format: typed messages, each with one codec to and from the plain JS objects
//! that cross the `MessagePort`.
//!
//! - page → worker: [`ToWorker`], a [`Request`] `{ id, op, ...fields }` (answered by exactly one
//!   reply) or a [`Notice`] `{ n, ...fields }` (no reply);
//! - worker → page: [`FromWorker`], a reply `{ id, ok: true, t, ...fields }` ([`Reply`]) or
//!   `{ id, ok: false, e: error }`, or a watch item `{ w, ev }`, `{ w, e }`, `{ w, end: true }`.
//!
//! `op`, `n` and `t` are the index of the variant in its enum (both ends run the same wasm module,
//! so they always agree). Bytes travel as `Uint8Array`s whose buffers are transferred; integers above
//! 2^53 travel as `BigInt`s. Field values are encoded by their [`Wire`] implementation.

mod reply;
mod request;
mod values;

use bytes::Bytes;
use fs_core::{ErrorKind, FsError, FsResult};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;

use crate::method::FsMethod;

pub(crate) use reply::{FromWorker, Reply, WatchItem};
pub(crate) use request::{Notice, Request, ToWorker};
pub(crate) use values::no_capabilities;

#[cfg(test)]
mod tests;

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
    FsMethod::Bridge.error(
        ErrorKind::Unknown,
        format!("malformed bridge message: {what}"),
    )
}

/// The buffers that move with a message instead of being copied.
#[derive(Default)]
pub(crate) struct Transfer(Option<Array>);

impl Transfer {
    /// Adds the buffer of `array`.
    pub(crate) fn add(&mut self, array: &Uint8Array) {
        self.0.get_or_insert_with(Array::new).push(&array.buffer());
    }

    /// The transfer list, if anything moves.
    pub(crate) fn list(&self) -> Option<&Array> {
        self.0.as_ref()
    }
}

/// A value that crosses the bridge as a field of a message.
pub(crate) trait Wire: Sized {
    /// The value as JS; `undefined` leaves the field out.
    fn to_js(&self) -> JsValue;

    /// The value read back from what [`Wire::to_js`] made (`undefined` when the field is absent),
    /// or what is wrong with it.
    fn from_js(value: &JsValue) -> Result<Self, String>;

    /// Adds the buffers that move with the value.
    fn transfer(&self, _transfer: &mut Transfer) {}
}

/// Sets the field `key` to `value` (left out when it encodes as `undefined`).
pub(crate) fn put<T: Wire>(target: &Object, key: &str, value: &T, transfer: &mut Transfer) {
    let js = value.to_js();
    if !js.is_undefined() {
        set(target, key, js);
        value.transfer(transfer);
    }
}

/// Reads the field `key`.
pub(crate) fn field<T: Wire>(source: &JsValue, key: &str) -> FsResult<T> {
    T::from_js(&get(source, key)).map_err(|why| malformed(format!("field {key:?}: {why}")))
}

/// The index of a variant as sent (`op`, `n`, `t`).
pub(crate) fn tag_of(source: &JsValue, key: &str) -> FsResult<u32> {
    field::<u32>(source, key)
}

/// Declares a message enum whose variants all have named fields, and its codec: `encode` sets the
/// variant's index under the tag key and each field under its key; `decode` reads them back. A
/// field's type implements [`Wire`].
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident (tag $tag:literal) {
            $(
                $(#[$vmeta:meta])*
                $variant:ident {
                    $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $key:literal ),* $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant { $( $(#[$fmeta])* $field: $ty ),* },
            )*
        }

        impl $name {
            /// The variants' names, by tag.
            pub(crate) const NAMES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The variant's index (its tag on the wire).
            pub(crate) fn tag(&self) -> u32 {
                #[allow(dead_code)]
                enum Tag { $($variant),* }
                match self {
                    $( $name::$variant { .. } => Tag::$variant as u32, )*
                }
            }

            /// The variant's name (for error messages).
            #[allow(dead_code)]
            pub(crate) fn name(&self) -> &'static str {
                Self::NAMES[self.tag() as usize]
            }

            /// Sets the tag and the fields on `out`, and the buffers that move with them.
            pub(crate) fn encode_into(&self, out: &js_sys::Object, transfer: &mut $crate::bridge::protocol::Transfer) {
                $crate::bridge::protocol::set(out, $tag, self.tag());
                match self {
                    $(
                        $name::$variant { $($field),* } => {
                            $( $crate::bridge::protocol::put(out, $key, $field, transfer); )*
                        }
                    )*
                }
            }

            /// Reads the variant `source` names under the tag key, and its fields.
            pub(crate) fn decode(source: &wasm_bindgen::JsValue) -> fs_core::FsResult<$name> {
                #[allow(dead_code)]
                enum Tag { $($variant),* }
                let tag = $crate::bridge::protocol::tag_of(source, $tag)?;
                $(
                    if tag == Tag::$variant as u32 {
                        return Ok($name::$variant {
                            $( $field: $crate::bridge::protocol::field(source, $key)?, )*
                        });
                    }
                )*
                Err($crate::bridge::protocol::malformed(format!(
                    concat!("unknown ", stringify!($name), " {}"),
                    tag
                )))
            }
        }
    };
}
pub(crate) use wire_enum;

/// Copies bytes into a fresh JS-owned `Uint8Array` (its buffer can then be transferred).
pub(crate) fn bytes_to_js(data: &[u8]) -> Uint8Array {
    let array = Uint8Array::new_with_length(data.len() as u32);
    array.copy_from(data);
    array
}

/// Copies a `Uint8Array` into Rust-owned bytes.
pub(crate) fn js_to_bytes(array: &Uint8Array) -> Bytes {
    Bytes::from(array.to_vec())
}

/// The id of a message, if it has a readable one.
pub(crate) fn id_of(message: &JsValue) -> Option<u32> {
    u32::from_js(&get(message, "id")).ok()
}
