//! A remote that cannot be reached, and one that answers too late.

use std::time::Duration;

use crate::remote_suite::support::{assert_error, data, key_of, namespace, request, Source};
use crate::remote_suite::{Outcome, RemoteHarness, SharedRemote};
use crate::services::remote_storage::RemoteErrorKind;

/// Every call of `remote` fails with `Offline` (the keyed ones naming their key) and an upload
/// reads nothing.
async fn assert_all_offline(what: &str, remote: &SharedRemote, key: &str) {
    let result = remote.health().await;
    assert_error(
        &format!("health of {what}"),
        result,
        RemoteErrorKind::Offline,
        None,
    );
    let source = Source::new(data(1000, 50));
    let (req, _) = request(key, &source, None, None);
    let result = remote.upload(req).await;
    assert_error(
        &format!("an upload to {what}"),
        result,
        RemoteErrorKind::Offline,
        Some(key),
    );
    assert_eq!(source.read(), 0, "bytes read by an upload to {what}");
    let result = remote.download(key, 0).await;
    assert_error(
        &format!("a download from {what}"),
        result.map(|_| ()),
        RemoteErrorKind::Offline,
        Some(key),
    );
}

/// A remote that cannot be reached is `Offline` for every call (naming the key where the call has
/// one), and an upload reads nothing.
pub async fn offline_remote_is_offline(h: &dyn RemoteHarness) -> Outcome {
    let offline = need!(h.offline());
    let ns = namespace(h, "offline");
    let key = key_of(&ns, &data(1000, 50));
    assert_all_offline("an unreachable remote", &offline, &key).await;
    let result = offline.delete(&key).await;
    assert_error(
        "a delete on an unreachable remote",
        result,
        RemoteErrorKind::Offline,
        Some(&key),
    );
    let result = offline.download_url(&key).await;
    assert_error(
        "a signed URL from an unreachable remote",
        result.map(|_| ()),
        RemoteErrorKind::Offline,
        Some(&key),
    );
    Outcome::Passed
}

/// A remote that answers later than the client waits is `Offline` for `health`, uploads and
/// downloads, soon after the client's timeout (not when the answer finally comes).
pub async fn answers_slower_than_the_timeout_are_offline(h: &dyn RemoteHarness) -> Outcome {
    let slow = need!(h.slow());
    let ns = namespace(h, "slow");
    let key = key_of(&ns, &data(1000, 50));
    let runtime = h.runtime();
    let start = runtime.now_ms();
    assert_all_offline("a remote slower than the timeout", &slow.remote, &key).await;
    let took = Duration::from_millis((runtime.now_ms() - start).max(0) as u64);
    // Three calls, each bounded by the timeout (a signer call, or the transfer that follows it).
    let limit = slow.timeout * 6 + Duration::from_secs(10);
    assert!(
        took <= limit,
        "three calls to a remote slower than the timeout of {:?} took {took:?} (more than {limit:?})",
        slow.timeout
    );
    Outcome::Passed
}
