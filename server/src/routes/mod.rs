//! The HTTP routes: the signer API ([`signer`]) and the signed blob routes ([`blobs`]).

pub(crate) mod blobs;
pub(crate) mod signer;
