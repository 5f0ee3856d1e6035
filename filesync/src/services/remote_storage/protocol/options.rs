//! What the option types of both clients share: the defaults, `new`, `with_token`, and a `Debug`
//! that never shows the token.

use std::time::Duration;

/// The default multipart threshold: 64 MiB.
pub(crate) const DEFAULT_MULTIPART_THRESHOLD: u64 = 64 * 1024 * 1024;
/// How many parts of a resumable upload go at a time by default.
pub(crate) const DEFAULT_PARTS_IN_FLIGHT: usize = 3;
/// The default timeout of a signer call: 30 s.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default idle timeout of a transfer: 60 s.
pub(crate) const DEFAULT_TRANSFER_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// `new`, `with_token` and `Debug` for a client's option type: a struct with the fields
/// `base_url`, `token`, `multipart_threshold`, `parts_in_flight`, `request_timeout`, `transfer_idle_timeout`, and the
/// `extra` ones named with their defaults (shown in `Debug` after `multipart_threshold`, through
/// `=> shown` when given: a function from a reference to the field to what `Debug` shows, e.g.
/// header names without their values). Also the `options()` of the client `$remote` (a struct
/// with an `options` field), and its `Debug`, which shows only the options.
macro_rules! options_impl {
    ($options:ident for $remote:ident {
        $($extra:ident: $default:expr $(=> $shown:path)?),* $(,)?
    }) => {
        impl $remote {
            /// The options this client was made with.
            pub fn options(&self) -> &$options {
                &self.options
            }
        }

        impl std::fmt::Debug for $remote {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($remote))
                    .field("options", &self.options)
                    .finish_non_exhaustive()
            }
        }

        impl $options {
            /// The defaults for the signer at `base_url`, without a token.
            pub fn new(base_url: impl Into<String>) -> $options {
                use $crate::services::remote_storage::protocol::options as defaults;
                $options {
                    base_url: base_url.into(),
                    token: None,
                    multipart_threshold: defaults::DEFAULT_MULTIPART_THRESHOLD,
                    parts_in_flight: defaults::DEFAULT_PARTS_IN_FLIGHT,
                    $($extra: $default,)*
                    request_timeout: defaults::DEFAULT_REQUEST_TIMEOUT,
                    transfer_idle_timeout: defaults::DEFAULT_TRANSFER_IDLE_TIMEOUT,
                }
            }

            /// The same options with `token`.
            pub fn with_token(mut self, token: impl Into<String>) -> $options {
                self.token = Some(token.into());
                self
            }
        }

        impl std::fmt::Debug for $options {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($options))
                    .field("base_url", &self.base_url)
                    .field("token", &self.token.as_ref().map(|_| "<redacted>"))
                    .field("multipart_threshold", &self.multipart_threshold)
                    .field("parts_in_flight", &self.parts_in_flight)
                    $(.field(stringify!($extra), &{
                        let value = &self.$extra;
                        $(let value = $shown(value);)?
                        value
                    }))*
                    .field("request_timeout", &self.request_timeout)
                    .field("transfer_idle_timeout", &self.transfer_idle_timeout)
                    .finish()
            }
        }
    };
}
pub(crate) use options_impl;

/// `parts_in_flight` checked: at least one.
pub(crate) fn check_parts_in_flight(
    parts_in_flight: usize,
) -> crate::services::remote_storage::RemoteResult<usize> {
    if parts_in_flight == 0 {
        return Err(super::errors::config(
            "parts_in_flight must be at least 1 (the number of parts of a resumable upload sent at a time; default 3)",
        ));
    }
    Ok(parts_in_flight)
}
