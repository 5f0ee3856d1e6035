//! Small helpers over JavaScript values: awaiting what may be a Promise, reading properties.

use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `value` itself, or what it resolves to when it is a thenable (the glue may answer either way).
pub(crate) async fn settle(value: JsValue) -> Result<JsValue, JsValue> {
    if value.has_type::<Promise>() || is_thenable(&value) {
        JsFuture::from(Promise::resolve(&value)).await
    } else {
        Ok(value)
    }
}

fn is_thenable(value: &JsValue) -> bool {
    value.is_object()
        && Reflect::get(value, &JsValue::from_str("then"))
            .map(|then| then.is_function())
            .unwrap_or(false)
}

/// `object[key]`, `undefined` when absent or when `object` is not an object.
pub(crate) fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` as a string, when it is one.
pub(crate) fn get_string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// The message of a thrown JavaScript value: an `Error`'s `message`, a string, or its `String()`.
pub(crate) fn message_of(error: &JsValue) -> String {
    if let Some(text) = error.as_string() {
        return text;
    }
    if let Some(message) = get_string(error, "message") {
        return message;
    }
    format!("{error:?}")
}
