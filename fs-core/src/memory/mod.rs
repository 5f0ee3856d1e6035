//! In-memory backend (being written).
/// Placeholder.
pub struct MemoryFs;
