//! The engine's services, one folder each (DESIGN §5).

pub mod file_sync;
pub mod hash;
pub mod local_file_state;
pub mod local_file_storage;
pub mod remote_storage;
pub mod sync_executor;
