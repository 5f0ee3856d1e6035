//! Signed URLs: their expiry, what a plain GET of one gives, and that it stops working.

use std::time::Duration;

use crate::remote_suite::support::{assert_bytes, data, key_of, namespace, put, sleep_until};
use crate::remote_suite::{Outcome, RemoteHarness, SharedRemote};
use crate::services::remote_storage::SignedUrl;

/// Clock readings may differ by this much between the remote's clock and the harness's (they are
/// the same clock; this covers the rounding of fractional milliseconds).
const SLACK_MS: i64 = 10;

/// Signs a download of `key` on `remote`, checking that the expiry is `ttl` from when it was asked
/// (to the second: signatures carry whole seconds).
async fn sign(h: &dyn RemoteHarness, remote: &SharedRemote, key: &str, ttl: Duration) -> SignedUrl {
    let runtime = h.runtime();
    let before = runtime.now_ms();
    let signed = match remote.download_url(key).await {
        Ok(signed) => signed,
        Err(err) => panic!("a signed URL for {key}: {err}"),
    };
    let after = runtime.now_ms();
    let ttl_ms = ttl.as_millis() as i64;
    let (low, high) = (before + ttl_ms - 1000 - SLACK_MS, after + ttl_ms + SLACK_MS);
    assert!(
        (low..=high).contains(&signed.expires_at_ms),
        "the URL expires at {} ms; asked between {before} and {after} with a lifetime of {ttl:?}, \
         it should expire between {low} and {high}",
        signed.expires_at_ms
    );
    signed
}

/// A signed URL expires the remote's URL lifetime after it was asked for (whole seconds), also for
/// a key with nothing stored (signing does not look).
pub async fn signed_url_expiry_follows_the_ttl(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "url-ttl");
    let remote = h.remote();
    let bytes = data(1000, 40);
    let key = key_of(&ns, &bytes);
    put(&*remote, "upload", &key, &bytes, None).await;
    sign(h, &remote, &key, h.url_ttl()).await;
    sign(h, &remote, &key_of(&ns, b"nothing here"), h.url_ttl()).await;
    Outcome::Passed
}

/// A plain GET of a signed URL (its headers, no credentials) gives the bytes; of a key with nothing
/// stored, 404.
pub async fn signed_url_serves_the_bytes(h: &dyn RemoteHarness) -> Outcome {
    need!(h.can_fetch());
    let ns = namespace(h, "url-get");
    let remote = h.remote();
    let bytes = data(4321, 41);
    let key = key_of(&ns, &bytes);
    put(&*remote, "upload", &key, &bytes, Some("text/plain")).await;
    let signed = sign(h, &remote, &key, h.url_ttl()).await;
    let fetched = match h.fetch(&signed).await {
        Ok(fetched) => fetched,
        Err(err) => panic!("GET of the signed URL: {err}"),
    };
    assert_eq!(fetched.status, 200, "the status of a GET of the signed URL");
    assert_bytes("the signed URL's bytes", &fetched.body, &bytes);

    let missing = key_of(&ns, b"nothing here");
    let signed = sign(h, &remote, &missing, h.url_ttl()).await;
    let fetched = match h.fetch(&signed).await {
        Ok(fetched) => fetched,
        Err(err) => panic!("GET of the signed URL of a missing key: {err}"),
    };
    assert_eq!(
        fetched.status, 404,
        "the status of a GET of a missing key's signed URL"
    );
    Outcome::Passed
}

/// A signed URL works until it expires and is refused (403; Garage answers 400) after: the expiry is the remote's short
/// URL lifetime from when it was asked for. The remote itself still serves the object.
pub async fn signed_url_stops_working_after_expiry(h: &dyn RemoteHarness) -> Outcome {
    need!(h.can_fetch());
    let short = need!(h.short_ttl());
    let ns = namespace(h, "url-expiry");
    let bytes = data(2222, 42);
    let key = key_of(&ns, &bytes);
    put(&*short.remote, "upload", &key, &bytes, None).await;
    let signed = sign(h, &short.remote, &key, short.ttl).await;

    let fetched = match h.fetch(&signed).await {
        Ok(fetched) => fetched,
        Err(err) => panic!("GET of the signed URL before it expires: {err}"),
    };
    let now = h.runtime().now_ms();
    if now < signed.expires_at_ms {
        assert_eq!(
            fetched.status,
            200,
            "a GET of the signed URL {} ms before it expires",
            signed.expires_at_ms - now
        );
        assert_bytes("the signed URL's bytes", &fetched.body, &bytes);
    } else {
        panic!(
            "the GET before the expiry ended {} ms after it; the URL lifetime ({:?}) is too short \
             for this machine",
            now - signed.expires_at_ms,
            short.ttl
        );
    }

    sleep_until(
        h,
        signed.expires_at_ms + 50,
        short.ttl + Duration::from_secs(5),
    )
    .await;
    let fetched = match h.fetch(&signed).await {
        Ok(fetched) => fetched,
        Err(err) => panic!("GET of the signed URL after it expired: {err}"),
    };
    // 403 from our server and AWS S3; Garage answers 400. Either way the URL is refused.
    assert!(
        matches!(fetched.status, 400 | 403),
        "the status of a GET of an expired signed URL: {} (403 or 400 expected)",
        fetched.status
    );
    let got = crate::remote_suite::support::get(&*short.remote, "download", &key, 0).await;
    assert_bytes("the object after its URL expired", &got.body, &bytes);
    Outcome::Passed
}
