//! Temporary names and guards that remove temporary files and directories when dropped.

use std::sync::Arc;

use crate::error::FsResult;
use crate::filesystem::FileSystem;
use crate::options::{RemoveOptions, TempOptions};
use crate::path::VPath;

/// A random name: the prefix (if any) followed by 16 lowercase hex characters.
pub fn random_name(prefix: Option<&str>) -> String {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness: fall back to the clock and a counter, still unique within the process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        bytes = (nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32)).to_le_bytes();
    }
    let mut name = prefix.unwrap_or("").to_owned();
    for b in bytes {
        name.push_str(&format!("{b:02x}"));
    }
    name
}

macro_rules! temp_guard {
    ($name:ident, $make:ident, $what:literal) => {
        #[doc = concat!("A temporary ", $what, " removed when the guard is dropped (best effort, without waiting) or by [`", stringify!($name), "::remove`] (awaited, errors reported).")]
        pub struct $name {
            fs: Arc<dyn FileSystem>,
            path: Option<VPath>,
        }

        impl $name {
            #[doc = concat!("Creates the temporary ", $what, ".")]
            pub async fn new(fs: Arc<dyn FileSystem>, options: TempOptions) -> FsResult<Self> {
                let path = fs.$make(options).await?;
                Ok($name { fs, path: Some(path) })
            }

            #[doc = concat!("The path of the ", $what, ".")]
            pub fn path(&self) -> &VPath {
                self.path.as_ref().expect("path is present until removed")
            }

            /// Removes it now and reports failures.
            pub async fn remove(mut self) -> FsResult<()> {
                let path = self.path.take().expect("path is present until removed");
                let options = RemoveOptions { recursive: true, force: true };
                self.fs.remove(&path, options).await
            }

            /// Keeps it: the guard will not remove it.
            pub fn keep(mut self) -> VPath {
                self.path.take().expect("path is present until removed")
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                if let Some(path) = self.path.take() {
                    self.fs.remove_detached(&path);
                }
            }
        }
    };
}

temp_guard!(TempDirGuard, make_temp_dir, "directory");
temp_guard!(TempFileGuard, make_temp_file, "file");

#[cfg(test)]
mod tests {
    use super::random_name;

    #[test]
    fn random_names_differ_and_keep_the_prefix() {
        let a = random_name(Some("up-"));
        let b = random_name(Some("up-"));
        assert!(a.starts_with("up-") && a.len() == 19);
        assert_ne!(a, b);
    }
}
