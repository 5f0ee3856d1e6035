//! The HTTP routes: the signer API ([`signer`]), the signed blob routes ([`blobs`]) and resumable
//! uploads ([`multipart`]).

pub(crate) mod blobs;
pub(crate) mod multipart;
pub(crate) mod signer;
