//! Bad input gets a clear error and changes nothing on disk.

mod support;

use support::*;

/// Asserts that `status` is `expected` and that the data directory is exactly `before`.
macro_rules! unchanged {
    ($server:expr, $before:expr, $status:expr, $expected:expr, $what:expr) => {
        assert_eq!($status, $expected, "{}", $what);
        assert_eq!($server.snapshot(), $before, "{} changed the disk", $what);
    };
}

async fn seeded() -> (
    TestServer,
    std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
) {
    let server = start().await;
    assert_eq!(
        server
            .upload("store-a/seed", Some("text/plain"), b"seed".to_vec())
            .await
            .0,
        200
    );
    let before = server.snapshot();
    (server, before)
}

#[tokio::test]
async fn hostile_keys_in_the_signer_api() {
    let (server, before) = seeded().await;
    for key in [
        "",
        "..",
        "store-a/../x",
        "store-a/./x",
        "/abs",
        "store-a//x",
        "store-a/",
        "a\\b",
        "a\u{0}b",
        "store-a/.x.0123456789abcdef.fsync-tmp",
    ] {
        for path in ["v1/sign/upload", "v1/sign/download", "v1/delete"] {
            let (status, json) = server
                .call(path, Some(ALL), serde_json::json!({ "key": key }))
                .await;
            unchanged!(server, before, status, 400, format!("{path} {key:?}"));
            assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn hostile_blob_paths() {
    let (server, before) = seeded().await;
    let exp = now() + 600;
    for path in [
        "store-a/../x",
        "store-a/%2e%2e/x",
        "store-a/%2E%2E",
        "store-a%2Fx",
        "store-a/x%2Fy",
        "store-a//x",
        "/store-a/x",
        "store-a/x%5Cy",
        "store-a/x\\y",
        "store-a/x%00",
        "store-a/.",
        "store-a/%2e",
        "store-a/%ff",
    ] {
        for method in ["PUT", "GET"] {
            let request = format!(
                "{method} /livestore-filesync-files/{path}?exp={exp}&sig=AAAA HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad"
            );
            let (status, answer) = server.raw(&request).await;
            assert!(status == 400 || status == 404, "{method} {path}: {answer}");
            assert_eq!(
                server.snapshot(),
                before,
                "{method} {path} changed the disk"
            );
            assert!(answer.contains("\"error\""), "{answer}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_signatures() {
    let (server, before) = seeded().await;
    let key = "store-a/new";
    let exp = now() + 600;
    let good = signed_path("PUT", key, key, exp);
    let cases = [
        ("tampered", good.replace("sig=", "sig=A")),
        ("other key", signed_path("PUT", "store-a/other", key, exp)),
        ("GET signature for PUT", signed_path("GET", key, key, exp)),
        ("expired", signed_path("PUT", key, key, now() - 1)),
        (
            "later exp",
            good.replace(&format!("exp={exp}"), &format!("exp={}", exp + 1)),
        ),
        (
            "no sig",
            format!("/livestore-filesync-files/{key}?exp={exp}"),
        ),
        ("no exp", format!("/livestore-filesync-files/{key}?sig=abc")),
        (
            "bad exp",
            format!("/livestore-filesync-files/{key}?exp=soon&sig=abc"),
        ),
    ];
    for (what, path) in cases {
        let put = server
            .http
            .put(server.url(&path))
            .body("evil")
            .send()
            .await
            .unwrap();
        let status = put.status().as_u16();
        let text = put.text().await.unwrap();
        unchanged!(server, before, status, 403, what);
        assert!(text.contains("\"error\""), "{text}");
    }
    // Downloads too, and an expired download URL says so.
    let seed = "store-a/seed";
    let expired = signed_path("GET", seed, seed, now() - 5);
    let get = server.http.get(server.url(&expired)).send().await.unwrap();
    assert_eq!(get.status(), 403);
    assert!(get.text().await.unwrap().contains("expired"));
    let put_sig = signed_path("PUT", seed, seed, now() + 60);
    assert_eq!(
        server
            .http
            .get(server.url(&put_sig))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // The URL works with the right signature.
    let ok = signed_path("PUT", key, key, exp);
    assert_eq!(
        server
            .http
            .put(server.url(&ok))
            .body("fine")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn tokens_and_prefixes() {
    let (server, before) = seeded().await;
    for path in ["v1/sign/upload", "v1/sign/download", "v1/delete"] {
        let body = serde_json::json!({ "key": "store-a/seed" });
        let (status, json) = server.call(path, None, body.clone()).await;
        unchanged!(
            server,
            before,
            status,
            401,
            format!("{path} without a token")
        );
        assert!(json["error"].as_str().unwrap().contains("Bearer"));
        let (status, _) = server.call(path, Some("wrong"), body).await;
        unchanged!(
            server,
            before,
            status,
            401,
            format!("{path} with a wrong token")
        );
        let (status, json) = server
            .call(
                path,
                Some(STORE_A),
                serde_json::json!({ "key": "store-b/seed" }),
            )
            .await;
        unchanged!(
            server,
            before,
            status,
            403,
            format!("{path} outside the prefix")
        );
        assert!(json["error"].as_str().is_some());
    }
    let (status, _) = server
        .call(
            "v1/sign/download",
            Some(STORE_A),
            serde_json::json!({ "key": "store-a/seed" }),
        )
        .await;
    assert_eq!(status, 200);
    let unauth = server
        .http
        .post(server.url("/api/v1/delete"))
        .body("{\"key\":\"store-a/seed\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.headers()["www-authenticate"], "Bearer");
    server.stop().await;
}

#[tokio::test]
async fn malformed_json() {
    let (server, before) = seeded().await;
    for body in [
        "",
        "{",
        "[]",
        "{\"key\": 5}",
        "{\"nokey\": \"x\"}",
        "null",
        "{\"key\":\"store-a/x\",\"contentLength\":-1}",
    ] {
        let response = server
            .http
            .post(server.url("/api/v1/sign/upload"))
            .bearer_auth(ALL)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let json: serde_json::Value = response.json().await.unwrap();
        unchanged!(server, before, status, 400, body);
        assert!(json["error"].as_str().unwrap().contains("JSON"));
    }
    let (status, _) = server
        .call(
            "v1/sign/upload",
            Some(ALL),
            serde_json::json!({ "key": "store-a/x", "contentType": "not a type" }),
        )
        .await;
    unchanged!(server, before, status, 400, "bad content type");
    server.stop().await;
}

#[tokio::test]
async fn wrong_hash_uploads_store_nothing() {
    let (server, before) = seeded().await;
    let body = bytes(200_000, 3);
    let wrong_key = format!("store-a/{}", sha256_hex(b"something else"));
    let (status, text) = server.upload(&wrong_key, None, body.clone()).await;
    unchanged!(server, before, status, 422, "wrong hash");
    assert!(text.contains(&sha256_hex(&body)), "{text}");

    // A blob already at the key keeps its bytes when a wrong upload comes: the key names the
    // content it holds, so the upload is neither hashed nor written.
    let good_key = format!("store-a/{}", sha256_hex(&body));
    assert_eq!(server.upload(&good_key, None, body.clone()).await.0, 200);
    let with_blob = server.snapshot();
    let (status, _) = server.upload(&good_key, None, bytes(200_000, 4)).await;
    unchanged!(
        server,
        with_blob,
        status,
        200,
        "wrong bytes over a good blob"
    );
    // Of another length, it is read and refused.
    let (status, _) = server.upload(&good_key, None, bytes(100_000, 4)).await;
    unchanged!(
        server,
        with_blob,
        status,
        422,
        "wrong hash and length over a good blob"
    );
    server.stop().await;
}

#[tokio::test]
async fn oversize_uploads_store_nothing() {
    let (server, before) = seeded().await;
    // Declared at signing time.
    let (status, json) = server
        .call(
            "v1/sign/upload",
            Some(ALL),
            serde_json::json!({ "key": "store-a/big", "contentLength": MAX_UPLOAD + 1 }),
        )
        .await;
    unchanged!(server, before, status, 413, "declared too large");
    assert!(json["error"].as_str().unwrap().contains("limit"));
    // With a Content-Length.
    let (status, _) = server
        .upload("store-a/big", None, vec![0; MAX_UPLOAD as usize + 1])
        .await;
    unchanged!(server, before, status, 413, "content-length too large");
    // Streamed without a length (chunked).
    let signed = server.sign_upload("store-a/big", None).await;
    let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![7u8; 64 * 1024]));
    let put = server
        .http
        .put(signed["url"].as_str().unwrap())
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    // The server may answer 413 and close before the client finishes sending.
    if let Ok(put) = put {
        assert_eq!(put.status(), 413);
    }
    assert_eq!(
        server.snapshot(),
        before,
        "chunked too large changed the disk"
    );
    // Exactly the limit is fine.
    assert_eq!(
        server
            .upload("store-a/max", None, vec![1; MAX_UPLOAD as usize])
            .await
            .0,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn colliding_keys_are_conflicts() {
    let (server, before) = seeded().await;
    // store-a/seed is a blob, so store-a/seed/x cannot exist.
    let (status, text) = server.upload("store-a/seed/x", None, b"x".to_vec()).await;
    unchanged!(server, before, status, 409, "a key below a blob");
    assert!(text.contains("collides"));
    assert_eq!(
        server.upload("store-a/dir/x", None, b"x".to_vec()).await.0,
        200
    );
    let with_dir = server.snapshot();
    let (status, _) = server.upload("store-a/dir", None, b"x".to_vec()).await;
    unchanged!(server, with_dir, status, 409, "a key naming a folder");
    // Downloads and deletes of such keys are plain misses.
    assert_eq!(server.download("store-a/dir").await.0, 404);
    assert_eq!(server.download("store-a/seed/x").await.0, 404);
    let (status, _) = server
        .call(
            "v1/delete",
            Some(ALL),
            serde_json::json!({ "key": "store-a/dir" }),
        )
        .await;
    unchanged!(server, with_dir, status, 204, "deleting a folder key");
    server.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let server = start().await;
    let r = server.http.get(server.url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("\"error\""));
    let r = server
        .http
        .get(server.url("/api/v1/sign/upload"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.text().await.unwrap().contains("\"error\""));
    let r = server
        .http
        .delete(server.url("/livestore-filesync-files/s/x?exp=1&sig=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    server.stop().await;
}
