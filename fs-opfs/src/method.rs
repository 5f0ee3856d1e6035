//! [`FsMethod`]: the methods an error can name, one variant each, so that a misspelt method name
//! does not compile.

use fs_core::{ErrorKind, FsError};

/// Declares [`FsMethod`] with its names, and [`FsMethod::ALL`] in declaration order.
macro_rules! methods {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// A method of the file system, its files or its sinks, as [`FsError::method`] names it:
        /// Effect's camelCase name (`readFile`, `makeDirectory`, …; `File.read` for a file handle's
        /// methods, `Sink.write` for a sink's).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum FsMethod {
            $($(#[$doc])* $variant,)*
        }

        impl FsMethod {
            /// Every method, in declaration order.
            pub(crate) const ALL: &'static [FsMethod] = &[$(FsMethod::$variant,)*];

            /// The name errors carry (`FsError::method`).
            pub(crate) const fn as_str(self) -> &'static str {
                match self {
                    $(FsMethod::$variant => $name,)*
                }
            }
        }
    };
}

methods! {
    /// `access`.
    Access = "access",
    /// `exists`.
    Exists = "exists",
    /// `stat`.
    Stat = "stat",
    /// `read_dir`.
    ReadDirectory = "readDirectory",
    /// `make_dir`.
    MakeDirectory = "makeDirectory",
    /// `remove`.
    Remove = "remove",
    /// `rename`.
    Rename = "rename",
    /// `copy_file`.
    CopyFile = "copyFile",
    /// `copy`.
    Copy = "copy",
    /// `read_file`.
    ReadFile = "readFile",
    /// `read_file_string`.
    ReadFileString = "readFileString",
    /// `write_file`.
    WriteFile = "writeFile",
    /// `write_file_string`.
    WriteFileString = "writeFileString",
    /// `truncate`.
    Truncate = "truncate",
    /// `open`.
    Open = "open",
    /// `read_stream` and its stream.
    Stream = "stream",
    /// `write_sink` (opening the sink).
    Sink = "sink",
    /// `make_temp_dir`.
    MakeTempDirectory = "makeTempDirectory",
    /// `make_temp_file`.
    MakeTempFile = "makeTempFile",
    /// `real_path`.
    RealPath = "realPath",
    /// `chmod`.
    Chmod = "chmod",
    /// `chown`.
    Chown = "chown",
    /// `utimes`.
    Utimes = "utimes",
    /// `link`.
    Link = "link",
    /// `symlink`.
    Symlink = "symlink",
    /// `read_link`.
    ReadLink = "readLink",
    /// `watch`.
    Watch = "watch",
    /// Any method of a file handle that is already closed.
    File = "File",
    /// `File::stat`.
    FileStat = "File.stat",
    /// `File::seek`.
    FileSeek = "File.seek",
    /// `File::read`.
    FileRead = "File.read",
    /// `File::read_alloc`.
    FileReadAlloc = "File.readAlloc",
    /// `File::write`.
    FileWrite = "File.write",
    /// `File::write_all`.
    FileWriteAll = "File.writeAll",
    /// `File::truncate`.
    FileTruncate = "File.truncate",
    /// `File::sync`.
    FileSync = "File.sync",
    /// `File::close`.
    FileClose = "File.close",
    /// `WriteSink::write`.
    SinkWrite = "Sink.write",
    /// `WriteSink::close`.
    SinkClose = "Sink.close",
    /// `WriteSink::abort`.
    SinkAbort = "Sink.abort",
    /// [`crate::persist`].
    Persist = "persist",
    /// [`crate::estimate`].
    Estimate = "estimate",
    /// The page→worker bridge itself (a malformed message, a dead worker).
    Bridge = "bridge",
}

impl FsMethod {
    /// The method named `name`, if it is one of these.
    pub(crate) fn named(name: &str) -> Option<FsMethod> {
        FsMethod::ALL.iter().copied().find(|m| m.as_str() == name)
    }

    /// A new error of this method.
    pub(crate) fn error(self, kind: ErrorKind, description: impl Into<String>) -> FsError {
        FsError::new(kind, self.as_str(), description)
    }

    /// `Unsupported`: OPFS cannot do this.
    pub(crate) fn unsupported(self) -> FsError {
        FsError::unsupported(self.as_str(), "OPFS")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn every_method_is_found_by_its_name_alone() {
        for &method in FsMethod::ALL {
            assert_eq!(FsMethod::named(method.as_str()), Some(method));
        }
        assert_eq!(FsMethod::named("readfile"), None);
        let error = FsMethod::FileSeek.error(ErrorKind::BadArgument, "before the start");
        assert_eq!(error.method(), "File.seek");
        assert_eq!(FsMethod::Chmod.unsupported().kind(), ErrorKind::Unsupported);
    }
}
