//! Marker traits that mean `Send`/`Sync` natively and nothing on wasm32.
//!
//! JavaScript values are `!Send`, so a backend built on them (OPFS) cannot be `Send`. The traits of this
//! crate use these markers as supertraits: natively `Arc<dyn FileSystem>` is `Send + Sync` and can cross
//! threads; on wasm32 the same trait objects live on one thread and hold JS handles honestly.

/// `Send` on native targets; implemented by every type on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Send` on native targets; implemented by every type on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on native targets; implemented by every type on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}

/// `Sync` on native targets; implemented by every type on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// A boxed stream that is `Send` natively and may hold JS values on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub type MaybeSendBoxStream<T> = futures::stream::BoxStream<'static, T>;
/// A boxed stream that is `Send` natively and may hold JS values on wasm32.
#[cfg(target_arch = "wasm32")]
pub type MaybeSendBoxStream<T> = futures::stream::LocalBoxStream<'static, T>;

/// A boxed future that is `Send` natively and may hold JS values on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub type MaybeSendBoxFuture<'a, T> = futures::future::BoxFuture<'a, T>;
/// A boxed future that is `Send` natively and may hold JS values on wasm32.
#[cfg(target_arch = "wasm32")]
pub type MaybeSendBoxFuture<'a, T> = futures::future::LocalBoxFuture<'a, T>;
