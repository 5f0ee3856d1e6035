use super::*;
use crate::services::hash::hash_bytes;
use fs_core::{MemoryFs, OpenOptions};
use futures::executor::block_on;
use futures::stream;

/// Deterministic xorshift bytes.
fn prng(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

fn chunked(data: &[u8], sizes: &[usize]) -> ByteStream {
    let mut chunks = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        chunks.push(Ok(Bytes::copy_from_slice(&rest[..n])));
        rest = &rest[n..];
        i += 1;
    }
    Box::pin(stream::iter(chunks))
}

fn setup(store: &str) -> (Arc<MemoryFs>, LocalFileStorage) {
    let fs = Arc::new(MemoryFs::new());
    let storage = LocalFileStorage::new(fs.clone(), store).unwrap();
    (fs, storage)
}

/// Every file below the root, as full paths.
async fn all_files(fs: &MemoryFs) -> Vec<String> {
    fs.read_dir(&VPath::root(), ReadDirOptions { recursive: true })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.file_type == FileType::File)
        .map(|e| e.path.as_str().to_owned())
        .collect()
}

async fn read_all(storage: &LocalFileStorage, hash: &ContentHash) -> Vec<u8> {
    let mut s = storage
        .read_stream(hash, StreamOptions::default())
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn path_follows_the_layout() {
    let (_fs, storage) = setup("my store");
    let h = hash_bytes(b"abc");
    assert_eq!(
        storage.path_for(&h).as_str(),
        format!("/{}", crate::model::local_path("my store", &h))
    );
    assert_eq!(
        storage.path_for(&h).as_str(),
        format!("/livestore-filesync-files/my_store/{h}")
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn round_trip_with_hash_and_size() {
    block_on(async {
        let (fs, storage) = setup("s1");
        let data = b"hello content".to_vec();
        let stored = storage
            .write_stream(chunked(&data, &[3, 5]), None, None)
            .await
            .unwrap();
        assert_eq!(stored.hash, hash_bytes(&data));
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(read_all(&storage, &stored.hash).await, data);
        assert_eq!(storage.exists(&stored.hash).await.unwrap(), Some(13));
        assert!(storage.verify(&stored.hash).await.unwrap());
        assert_eq!(
            all_files(&fs).await,
            vec![storage.path_for(&stored.hash).as_str().to_owned()]
        );
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn expected_hash_matches() {
    block_on(async {
        let (_fs, storage) = setup("s");
        let h = hash_bytes(b"xyz");
        let stored = storage
            .write_stream(chunked(b"xyz", &[1]), Some(&h), None)
            .await
            .unwrap();
        assert_eq!(stored.hash, h);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn expected_hash_mismatch_leaves_nothing() {
    block_on(async {
        let (fs, storage) = setup("s");
        let want = hash_bytes(b"what we wanted");
        let got = hash_bytes(b"what arrived");
        let err = storage
            .write_stream(
                chunked(b"what arrived", &[4]),
                Some(&want),
                Some("text/plain"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.description().contains(&want.to_hex()));
        assert!(err.description().contains(&got.to_hex()));
        assert!(storage.list().await.unwrap().is_empty());
        assert!(all_files(&fs).await.is_empty());
        assert_eq!(storage.mime_of(&got).await.unwrap(), None);
        assert_eq!(storage.exists(&got).await.unwrap(), None);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn stream_error_leaves_nothing() {
    block_on(async {
        let (fs, storage) = setup("s");
        let chunks: Vec<FsResult<Bytes>> = vec![
            Ok(Bytes::from_static(b"part")),
            Err(FsError::new(ErrorKind::TimedOut, "test", "network gone")),
        ];
        let err = storage
            .write_stream(Box::pin(stream::iter(chunks)), None, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(all_files(&fs).await.is_empty());
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dedupe() {
    block_on(async {
        let (fs, storage) = setup("s");
        let a = storage
            .write_bytes(Bytes::from_static(b"same"), None)
            .await
            .unwrap();
        let b = storage
            .write_stream(chunked(b"same", &[1, 2]), Some(&a.hash), None)
            .await
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(storage.list().await.unwrap(), vec![(a.hash, 4)]);
        assert_eq!(all_files(&fs).await.len(), 1);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn empty_content() {
    block_on(async {
        let (_fs, storage) = setup("s");
        let stored = storage.write_bytes(Bytes::new(), None).await.unwrap();
        assert_eq!(stored.size, 0);
        assert_eq!(stored.hash, hash_bytes(b""));
        assert_eq!(storage.exists(&stored.hash).await.unwrap(), Some(0));
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn mime_round_trip() {
    block_on(async {
        let (fs, storage) = setup("s");
        let stored = storage
            .write_bytes(Bytes::from_static(b"<p>"), Some("text/html; charset=utf-8"))
            .await
            .unwrap();
        assert_eq!(
            storage.mime_of(&stored.hash).await.unwrap().as_deref(),
            Some("text/html; charset=utf-8")
        );
        // The blob's name stays a pure hash; the sidecar lives in `.meta`.
        let files = all_files(&fs).await;
        assert!(files.contains(&format!(
            "/livestore-filesync-files/s/.meta/{}.json",
            stored.hash
        )));
        assert_eq!(storage.list().await.unwrap(), vec![(stored.hash, 3)]);
        // Writing again without a MIME keeps the recorded one; with one replaces it.
        storage
            .write_bytes(Bytes::from_static(b"<p>"), None)
            .await
            .unwrap();
        assert_eq!(
            storage.mime_of(&stored.hash).await.unwrap().as_deref(),
            Some("text/html; charset=utf-8")
        );
        storage
            .write_bytes(Bytes::from_static(b"<p>"), Some("text/plain"))
            .await
            .unwrap();
        assert_eq!(
            storage.mime_of(&stored.hash).await.unwrap().as_deref(),
            Some("text/plain")
        );
        let other = hash_bytes(b"none");
        assert_eq!(storage.mime_of(&other).await.unwrap(), None);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn list_ignores_junk_names() {
    block_on(async {
        let (fs, storage) = setup("s");
        let a = storage
            .write_bytes(Bytes::from_static(b"a"), Some("x/y"))
            .await
            .unwrap();
        let b = storage
            .write_bytes(Bytes::from_static(b"bb"), None)
            .await
            .unwrap();
        let dir = storage.dir().clone();
        let w = OpenOptions::write();
        for junk in [
            "notes.txt",
            ".tmp-leftover",
            &a.hash.to_hex().to_uppercase(),
            &format!("{}.json", a.hash),
            &a.hash.to_hex()[..63],
        ] {
            fs.write_file(&dir.join(junk).unwrap(), Bytes::from_static(b"junk"), w)
                .await
                .unwrap();
        }
        // A directory named like a hash is not a blob either.
        let c = hash_bytes(b"dir");
        fs.make_dir(&dir.join(&c.to_hex()).unwrap(), MakeDirOptions::default())
            .await
            .unwrap();
        let mut want = vec![(a.hash, 1), (b.hash, 2)];
        want.sort();
        assert_eq!(storage.list().await.unwrap(), want);
        assert_eq!(storage.exists(&c).await.unwrap(), None);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn list_of_a_new_store_is_empty() {
    block_on(async {
        let (_fs, storage) = setup("never-written");
        assert!(storage.list().await.unwrap().is_empty());
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn remove_blob_and_sidecar() {
    block_on(async {
        let (fs, storage) = setup("s");
        let stored = storage
            .write_bytes(Bytes::from_static(b"bye"), Some("text/plain"))
            .await
            .unwrap();
        storage.remove(&stored.hash).await.unwrap();
        assert_eq!(storage.exists(&stored.hash).await.unwrap(), None);
        assert_eq!(storage.mime_of(&stored.hash).await.unwrap(), None);
        assert!(all_files(&fs).await.is_empty());
        // Missing is fine.
        storage.remove(&stored.hash).await.unwrap();
        // The sidecar @livestore-filesync/core 0.8.0 writes beside a blob: read for the MIME type,
        // removed with the blob.
        let theirs = storage
            .dir()
            .join(&format!("{}.meta.json", stored.hash))
            .unwrap();
        fs.write_file(
            &storage.path_for(&stored.hash),
            Bytes::from_static(b"bye"),
            OpenOptions::write(),
        )
        .await
        .unwrap();
        fs.write_file(
            &theirs,
            Bytes::from_static(br#"{"type":"image/webp","lastModified":1}"#),
            OpenOptions::write(),
        )
        .await
        .unwrap();
        assert_eq!(
            storage.mime_of(&stored.hash).await.unwrap().as_deref(),
            Some("image/webp")
        );
        storage.remove(&stored.hash).await.unwrap();
        assert!(all_files(&fs).await.is_empty());
        let never = hash_bytes(b"never");
        storage.remove(&never).await.unwrap();
        assert_eq!(
            storage
                .read_stream(&stored.hash, StreamOptions::default())
                .await
                .err()
                .map(|e| e.kind()),
            Some(ErrorKind::NotFound)
        );
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn verify_detects_corruption() {
    block_on(async {
        let (fs, storage) = setup("s");
        let stored = storage
            .write_bytes(Bytes::from_static(b"original"), None)
            .await
            .unwrap();
        assert!(storage.verify(&stored.hash).await.unwrap());
        fs.write_file(
            &storage.path_for(&stored.hash),
            Bytes::from_static(b"tampered"),
            OpenOptions::write(),
        )
        .await
        .unwrap();
        assert!(!storage.verify(&stored.hash).await.unwrap());
        let missing = hash_bytes(b"missing");
        assert_eq!(
            storage.verify(&missing).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn three_mib_in_uneven_chunks() {
    block_on(async {
        let (fs, storage) = setup("big");
        let data = prng(3 * 1024 * 1024);
        let want = hash_bytes(&data);
        let stored = storage
            .write_stream(
                chunked(&data, &[1, 65_537, 7, 200_003, 4096]),
                Some(&want),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            stored,
            StoredFile {
                hash: want,
                size: data.len() as u64
            }
        );
        let opts = StreamOptions {
            chunk_size: 100_000,
            ..StreamOptions::default()
        };
        let mut s = storage.read_stream(&want, opts).await.unwrap();
        let mut hasher = Hasher::new();
        while let Some(chunk) = s.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= 100_000);
            hasher.update(&chunk);
        }
        assert_eq!(hasher.finalize(), want);
        assert!(storage.verify(&want).await.unwrap());
        assert_eq!(all_files(&fs).await.len(), 1);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hostile_store_ids_are_sanitized() {
    let fs: Arc<dyn FileSystem> = Arc::new(MemoryFs::new());
    let h = hash_bytes(b"x");
    for (id, dir) in [
        ("../../etc", ".._.._etc"),
        ("a/b\\c\0d", "a_b_c_d"),
        ("..", "__"),
        (".", "_"),
        ("", "_"),
        ("/", "_"),
        ("héllo wörld", "h_llo_w_rld"),
    ] {
        let storage = LocalFileStorage::new(fs.clone(), id).unwrap();
        assert_eq!(
            storage.path_for(&h).as_str(),
            format!("/livestore-filesync-files/{dir}/{h}"),
            "store id {id:?}"
        );
    }
    let too_long = "x".repeat(300);
    assert_eq!(
        LocalFileStorage::new(fs, &too_long).err().map(|e| e.kind()),
        Some(ErrorKind::BadArgument)
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hostile_store_stays_inside_its_directory() {
    block_on(async {
        let (fs, storage) = setup("../outside");
        let stored = storage
            .write_bytes(Bytes::from_static(b"contained"), Some("a/b"))
            .await
            .unwrap();
        for file in all_files(&fs).await {
            assert!(
                file.starts_with("/livestore-filesync-files/.._outside/"),
                "{file}"
            );
        }
        assert_eq!(storage.list().await.unwrap(), vec![(stored.hash, 9)]);
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn stores_are_separate() {
    block_on(async {
        let fs: Arc<dyn FileSystem> = Arc::new(MemoryFs::new());
        let one = LocalFileStorage::new(fs.clone(), "one").unwrap();
        let two = LocalFileStorage::new(fs, "two").unwrap();
        let stored = one
            .write_bytes(Bytes::from_static(b"mine"), None)
            .await
            .unwrap();
        assert_eq!(two.exists(&stored.hash).await.unwrap(), None);
        assert!(two.list().await.unwrap().is_empty());
    });
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn stale_temp_files_are_removed() {
    block_on(async {
        let (fs, storage) = setup("s");
        assert_eq!(storage.remove_stale_temp_files().await.unwrap(), 0);
        let stored = storage
            .write_bytes(Bytes::from_static(b"keep"), Some("a/b"))
            .await
            .unwrap();
        let dir = storage.dir().clone();
        for name in [".tmp-one", ".tmp-two"] {
            fs.write_file(
                &dir.join(name).unwrap(),
                Bytes::from_static(b"half"),
                OpenOptions::write(),
            )
            .await
            .unwrap();
        }
        assert_eq!(storage.remove_stale_temp_files().await.unwrap(), 2);
        assert_eq!(storage.list().await.unwrap(), vec![(stored.hash, 4)]);
        assert_eq!(all_files(&fs).await.len(), 2); // the blob and its sidecar
    });
}

/// A partial download written through a file handle keeps what was written even when the writer
/// is never closed (a page reload, a killed process): the resume starts after those bytes, and
/// their hash is the prefix's.
#[test]
fn partial_download_survives_a_writer_that_is_never_closed() {
    block_on(async {
        let (_fs, storage) = setup("s");
        let data = prng(3 * 1024 * 1024 + 100);
        let hash = hash_bytes(&data);
        let mut writer = storage.partial_writer(&hash, false).await.unwrap();
        assert!(writer.writes_in_place(), "MemoryFs writes in place");
        // 2.5 MiB in 64 KiB chunks: two whole 1 MiB writes reach the file, the rest is pending.
        let sent = 5 * 512 * 1024;
        for chunk in data[..sent].chunks(64 * 1024) {
            writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        drop(writer);
        let kept = storage.partial_size(&hash).await.unwrap().unwrap();
        assert_eq!(
            kept,
            2 * 1024 * 1024,
            "whole gathered writes stay without a close"
        );
        let mut prefix = Hasher::new();
        prefix.update(&data[..kept as usize]);
        let resumed = storage.hash_partial(&hash).await.unwrap();
        assert_eq!(resumed.finalize(), prefix.finalize());

        // Resume: append the rest, close, commit.
        let mut writer = storage.partial_writer(&hash, true).await.unwrap();
        writer
            .write(Bytes::copy_from_slice(&data[kept as usize..]))
            .await
            .unwrap();
        writer.close().await.unwrap();
        storage.commit_partial(&hash, None).await.unwrap();
        assert_eq!(read_all(&storage, &hash).await, data);
        assert!(storage.partial_size(&hash).await.unwrap().is_none());
    });
}

/// Partial downloads are written, renamed and removed through the transfer file system when one
/// is set (shown here with a separate MemoryFs, where the files stay apart: in use both are views
/// of the same storage).
#[test]
fn partial_downloads_use_the_transfer_file_system() {
    block_on(async {
        let main = Arc::new(MemoryFs::new());
        let transfer = Arc::new(MemoryFs::new());
        let storage = LocalFileStorage::new(main.clone(), "s")
            .unwrap()
            .with_transfer_fs(transfer.clone());
        let data = prng(1000);
        let hash = hash_bytes(&data);
        let mut writer = storage.partial_writer(&hash, false).await.unwrap();
        writer.write(Bytes::from(data.clone())).await.unwrap();
        writer.close().await.unwrap();
        assert_eq!(storage.partial_size(&hash).await.unwrap(), Some(1000));
        assert!(all_files(&main).await.is_empty(), "nothing on the main fs");
        storage.commit_partial(&hash, None).await.unwrap();
        let blob = storage.path_for(&hash);
        assert_eq!(transfer.read_file(&blob).await.unwrap(), data);
        assert!(main.read_file(&blob).await.is_err());
        assert!(storage.partial_size(&hash).await.unwrap().is_none());
    });
}

/// A download that completes when a save of the same content already stored the blob leaves the
/// blob as it is (a browser `File` of it stays readable) and drops its partial.
#[test]
fn a_download_of_content_already_stored_keeps_the_stored_file() {
    block_on(async {
        let fs = Arc::new(MemoryFs::new());
        let storage = LocalFileStorage::new(fs.clone(), "s").unwrap();
        let data = prng(5000);
        let hash = hash_bytes(&data);
        let mut writer = storage.partial_writer(&hash, false).await.unwrap();
        writer.write(Bytes::from(data.clone())).await.unwrap();
        writer.close().await.unwrap();
        // Meanwhile a save stores the same content.
        let stored = storage
            .write_bytes(Bytes::from(data.clone()), None)
            .await
            .unwrap();
        assert_eq!(stored.hash, hash);
        let blob = storage.path_for(&hash);
        let before = fs.stat(&blob).await.unwrap();
        storage.commit_partial(&hash, None).await.unwrap();
        let after = fs.stat(&blob).await.unwrap();
        assert_eq!(before.ino, after.ino, "the stored blob was replaced");
        assert_eq!(read_all(&storage, &hash).await, data);
        assert!(storage.partial_size(&hash).await.unwrap().is_none());

        // A blob there that is not that content (damaged, of the same size or not) is replaced.
        for damaged in [b"short".to_vec(), {
            let mut d = data.clone();
            d[10] ^= 1;
            d
        }] {
            fs.write_file(&blob, Bytes::from(damaged), fs_core::OpenOptions::write())
                .await
                .unwrap();
            let mut writer = storage.partial_writer(&hash, false).await.unwrap();
            writer.write(Bytes::from(data.clone())).await.unwrap();
            writer.close().await.unwrap();
            storage.commit_partial(&hash, None).await.unwrap();
            assert_eq!(read_all(&storage, &hash).await, data);
            assert!(storage.partial_size(&hash).await.unwrap().is_none());
        }
    });
}
