//! Names as the user sees them and as they are stored in OPFS.
//!
//! Two kinds of name in an OPFS directory are not the user's: Chromium's swap files
//! (`name.crswap`, or `name.1.crswap` when that exists, beside a file with an open writable
//! stream; a *directory* of that name makes `createWritable` of `name` fail), and this crate's
//! own internal directory (see [`INTERNAL_DIR`]). So that no user name can ever collide with them,
//! a user name that ends with a reserved suffix (`.crswap` or `.fs-opfs`) followed by any number
//! of `~` is stored with one more `~`; a stored name that ends with a reserved suffix exactly is
//! never the user's and is hidden from listings. The mapping is one to one, and the user never
//! sees it. A stored name is one byte longer than the user's at most (OPFS accepts names far
//! longer than the 255 bytes a [`fs_core::VPath`] segment may have).

use std::borrow::Cow;

/// Suffixes of names that are not the user's.
const RESERVED: [&str; 2] = [".crswap", INTERNAL_SUFFIX];

/// The suffix of this crate's internal names.
const INTERNAL_SUFFIX: &str = ".fs-opfs";

/// The directory below an instance's root that holds sinks' temporary files and the files of open
/// handles whose paths were removed or replaced (stored under this name, hidden from listings).
pub(crate) const INTERNAL_DIR: &str = "internal.fs-opfs";

/// True when `name`, without its trailing `~`s, ends with a reserved suffix.
fn reserved_stem(name: &str) -> bool {
    let stem = name.trim_end_matches('~');
    RESERVED.iter().any(|suffix| stem.ends_with(suffix))
}

/// The name under which the user's `name` is stored.
pub(crate) fn stored(name: &str) -> Cow<'_, str> {
    if reserved_stem(name) {
        Cow::Owned(format!("{name}~"))
    } else {
        Cow::Borrowed(name)
    }
}

/// The user's name of a stored name, or `None` for a name that is not the user's (a swap file,
/// the internal directory).
pub(crate) fn user(stored: &str) -> Option<&str> {
    if !reserved_stem(stored) {
        return Some(stored);
    }
    stored.strip_suffix('~')
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn reserved_names_gain_a_tilde_and_come_back() {
        for name in [
            "f",
            "f.crswap",
            "f.crswap~",
            "f.crswap~~",
            "f.1.crswap",
            "x.fs-opfs",
            "~",
            "a~",
            ".crswap",
        ] {
            let kept = stored(name);
            assert!(
                !RESERVED.iter().any(|s| kept.ends_with(s)),
                "{name} -> {kept}"
            );
            assert_eq!(user(&kept), Some(name), "{name} -> {kept}");
        }
        assert_eq!(stored("f"), "f");
        assert_eq!(stored("f.crswap"), "f.crswap~");
        assert_eq!(user("f.crswap"), None);
        assert_eq!(user(INTERNAL_DIR), None);
        assert_eq!(user("a.CRSWAP"), Some("a.CRSWAP"));
    }
}
