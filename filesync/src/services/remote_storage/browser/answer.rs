//! [`UploadAnswer`]: what an upload's transport (XHR on the page, `fetch` in Node) hands back.

/// What the server answered to an upload (whatever its status).
pub(super) struct UploadAnswer {
    /// The HTTP status.
    pub(super) status: u16,
    /// The `ETag` header, when the answer has one scripts may read.
    pub(super) etag: Option<String>,
    /// The body's text (an error's message).
    pub(super) text: String,
}
