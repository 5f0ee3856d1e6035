//! Where content lives: local path and remote key, both content-addressed per store.

use crate::services::hash::ContentHash;

/// The local root folder of all stores' content.
pub const LOCAL_ROOT: &str = "livestore-filesync-files";

/// Replaces every character outside `[A-Za-z0-9._-]` with `_`.
pub fn sanitize_store_id(store_id: &str) -> String {
    store_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The local path of a blob: `livestore-filesync-files/{storeId}/{sha256hex}` (store id sanitized).
pub fn local_path(store_id: &str, hash: &ContentHash) -> String {
    format!("{LOCAL_ROOT}/{}/{hash}", sanitize_store_id(store_id))
}

/// The remote key of a blob: `{storeId}/{sha256hex}` (store id sanitized).
pub fn remote_key(store_id: &str, hash: &ContentHash) -> String {
    format!("{}/{hash}", sanitize_store_id(store_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::hash::hash_bytes;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn sanitize() {
        assert_eq!(sanitize_store_id("abc-1.2_Z"), "abc-1.2_Z");
        assert_eq!(sanitize_store_id("a/b c:é"), "a_b_c_é".replace('é', "_"));
        assert_eq!(sanitize_store_id(""), "");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn paths() {
        let h = hash_bytes(b"abc");
        assert_eq!(
            local_path("my store", &h),
            format!("livestore-filesync-files/my_store/{h}")
        );
        assert_eq!(remote_key("s/1", &h), format!("s_1/{h}"));
    }
}
