use super::*;
use fs_core::{MemoryFs, OpenOptions};
use futures::executor::block_on;
use futures::stream;

const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/// Deterministic xorshift bytes.
fn prng(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn stream_of(chunks: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c)))))
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn known_vectors() {
    assert_eq!(hash_bytes(b"").to_hex(), EMPTY);
    assert_eq!(hash_bytes(b"abc").to_hex(), ABC);
    assert_eq!(
        block_on(hash_stream(stream_of(vec![]))).unwrap().to_hex(),
        EMPTY
    );
    let abc = block_on(hash_stream(stream_of(vec![
        b"a".to_vec(),
        vec![],
        b"bc".to_vec(),
    ])))
    .unwrap();
    assert_eq!(abc.to_string(), ABC);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn uneven_chunks_equal_whole_buffer() {
    let data = prng(1024 * 1024 + 3);
    let whole = hash_bytes(&data);
    let sizes = [1usize, 7, 4096, 65_537, 3, 100_000];
    let mut chunks = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let end = (at + sizes[i % sizes.len()]).min(data.len());
        chunks.push(data[at..end].to_vec());
        at = end;
        i += 1;
    }
    let mut hasher = Hasher::new();
    for c in &chunks {
        hasher.update(c);
    }
    assert_eq!(hasher.bytes_hashed(), data.len() as u64);
    assert_eq!(hasher.finalize(), whole);
    assert_eq!(block_on(hash_stream(stream_of(chunks))).unwrap(), whole);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn stream_error_is_returned() {
    let s: ByteStream = Box::pin(stream::iter(vec![
        Ok(Bytes::from_static(b"x")),
        Err(fs_core::FsError::new(
            fs_core::ErrorKind::NotFound,
            "read",
            "gone",
        )),
    ]));
    assert!(block_on(hash_stream(s)).is_err());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hash_file_on_memory_fs() {
    let fs = MemoryFs::new();
    let data = prng(300_001);
    let path = VPath::new("/blob").unwrap();
    block_on(fs.write_file(&path, Bytes::from(data.clone()), OpenOptions::write())).unwrap();
    assert_eq!(block_on(hash_file(&fs, &path)).unwrap(), hash_bytes(&data));
    let missing = VPath::new("/missing").unwrap();
    assert!(block_on(hash_file(&fs, &missing)).is_err());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn hex_parsing_and_serde() {
    let h = ContentHash::parse(ABC).unwrap();
    assert_eq!(h, ABC.parse().unwrap());
    assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{ABC}\""));
    let back: ContentHash = serde_json::from_str(&format!("\"{ABC}\"")).unwrap();
    assert_eq!(back, h);
    for bad in [
        "",
        &ABC[..63],
        &format!("{ABC}0"),
        &ABC.to_uppercase(),
        &format!("{}g", &ABC[..63]),
    ] {
        assert!(ContentHash::parse(bad).is_err(), "{bad:?} accepted");
    }
    let err = serde_json::from_str::<ContentHash>("\"xyz\"").unwrap_err();
    assert!(err.to_string().contains("64 lowercase hex"), "{err}");
}
