//! `hashBlob`: the streaming SHA-256 of a `Blob`, for the package's `hashFile` above its
//! WebCrypto threshold (memory bounded by one chunk of `blob.stream()`); and `engineMemoryBytes`,
//! the size of the engine's WebAssembly memory.

use futures::StreamExt;
use wasm_bindgen::prelude::*;

use crate::convert::{blob_stream, input_error};

/// The SHA-256 of a `Blob`'s bytes as 64 lowercase hex digits, read chunk by chunk.
#[wasm_bindgen(js_name = hashBlob)]
pub async fn hash_blob(blob: JsValue) -> Result<String, JsValue> {
    let blob: web_sys::Blob = blob
        .dyn_into()
        .map_err(|_| input_error("hashFile needs a File or a Blob"))?;
    let mut stream = blob_stream(&blob);
    let mut hasher = filesync::Hasher::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| js_sys::Error::new(&e.to_string()))?;
        hasher.update(&chunk);
    }
    Ok(hasher.finalize().to_hex())
}

/// The size of the engine's WebAssembly memory in bytes (diagnostics: it grows when the engine
/// holds more bytes at once, and never shrinks).
#[wasm_bindgen(js_name = engineMemoryBytes)]
pub fn engine_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
    f64::from(buffer.byte_length())
}
