//! The cases of the conformance suite (see the module docs of [`crate::conformance`]), grouped by
//! area and re-exported flat so the macro can name each one.
//!
//! Every case takes a file system whose namespace is empty, leaves whatever it created behind (the
//! harness throws the namespace away), and panics with a message naming the call and the expected
//! and actual outcome. Errors are checked by [`crate::ErrorKind`], never by message. Random content
//! comes from a fixed-seed generator, so a failure reproduces.

mod dirs;
mod errors;
mod hostile;
mod links_perms;
mod open_cursor;
mod open_paths;
mod read_write;
mod rename_copy;
mod streams_sinks;
pub(crate) mod support;
mod temp;
mod watch;

pub use dirs::*;
pub use errors::*;
pub use hostile::*;
pub use links_perms::*;
pub use open_cursor::*;
pub use open_paths::*;
pub use read_write::*;
pub use rename_copy::*;
pub use streams_sinks::*;
pub use temp::*;
pub use watch::*;
