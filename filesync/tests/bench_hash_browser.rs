//! Streaming SHA-256 in headless Chromium: filesync's wasm [`Hasher`] against the npm package
//! `hash-wasm` 4.13.0 (`createSHA256()` → `init` / `update` / `digest`) in the same page, with the same
//! chunk size (DESIGN §7: wasm ≥ hash-wasm, bounded memory). Prints a table; asserts only digests.
//!
//! hash-wasm is not part of the repository: `npm ci` in `filesync/bench-js` installs it, and
//! `build.rs` copies its UMD build into `OUT_DIR` for the `include_str!` below (an empty file when
//! it is not installed). The code is evaluated once in the page, which sets `globalThis.hashwasm`.
//!
//! Rows (each 256 MiB in 1 MiB chunks, cycling through one 32 MiB pseudo-random buffer that exists
//! once in wasm memory and once as a JavaScript `Uint8Array`, both made before any clock starts):
//!
//! | row | what is timed |
//! |---|---|
//! | ours, JS input | each chunk is a `subarray` of the JS buffer, copied into one reused wasm buffer, then `Hasher::update` (what hashing browser data costs: hash-wasm copies its input into its own memory too) |
//! | ours, wasm input | `Hasher::update` on slices of the wasm buffer (the hashing alone) |
//! | hash-wasm | a JavaScript loop of `update(subarray)` on the JS buffer, then `digest("hex")` |
//!
//! The rows rotate which goes first from round to round; medians of 5 rounds. The benchmark is
//! `#[ignore]`d; scripts/extended runs it:
//! `(cd filesync/bench-js && npm ci) && CHROMEDRIVER=/usr/bin/chromedriver cargo test --release
//! --target wasm32-unknown-unknown -p filesync --test bench_hash_browser -- --include-ignored
//! --nocapture --exact bench_hash_browser`. `BENCH_HASH_BROWSER_MIB` and
//! `BENCH_HASH_BROWSER_ROUNDS`, read at compile time, change the sizes.
#![cfg(target_arch = "wasm32")]

use filesync::{hash_bytes, ContentHash, Hasher};
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// hash-wasm's SHA-256 UMD build, or empty when `npm ci` has not been run in `filesync/bench-js`.
const HASH_WASM_UMD: &str = include_str!(concat!(env!("OUT_DIR"), "/hash-wasm-sha256.umd.min.js"));

const NOT_INSTALLED: &str = "hash-wasm not installed: run npm ci in filesync/bench-js";

const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const MIB: usize = 1 << 20;

#[wasm_bindgen(inline_js = r#"
export function now() {
    return performance.now();
}

// Lets the page breathe between measurements (the test runner polls it over WebDriver).
export function pause() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

export async function createSha256() {
    return await globalThis.hashwasm.createSHA256();
}

// Hashes `total` bytes of `data` (cycling through it) in `chunk`-byte subarrays; hex digest.
export function hashWasmRun(hasher, data, chunk, total) {
    hasher.init();
    let done = 0;
    while (done < total) {
        const at = done % data.length;
        const n = Math.min(chunk, total - done, data.length - at);
        hasher.update(data.subarray(at, at + n));
        done += n;
    }
    return hasher.digest("hex");
}
"#)]
extern "C" {
    fn now() -> f64;

    /// A macrotask boundary (`setTimeout(0)`).
    async fn pause();

    /// hash-wasm's `createSHA256()` (needs the UMD code evaluated first).
    #[wasm_bindgen(js_name = createSha256, catch)]
    async fn create_sha256() -> Result<JsValue, JsValue>;

    /// hash-wasm's streaming SHA-256 over `total` bytes of `data` in `chunk`-byte pieces.
    #[wasm_bindgen(js_name = hashWasmRun)]
    fn hash_wasm_run(hasher: &JsValue, data: &Uint8Array, chunk: u32, total: f64) -> String;
}

/// A hash-wasm SHA-256 hasher, or `None` when the package is not installed.
async fn hash_wasm() -> Option<JsValue> {
    if HASH_WASM_UMD.trim().is_empty() {
        return None;
    }
    let global = js_sys::global();
    let loaded = js_sys::Reflect::get(&global, &JsValue::from_str("hashwasm"))
        .map(|v| !v.is_undefined())
        .unwrap_or(false);
    if !loaded {
        Function::new_no_args(HASH_WASM_UMD)
            .call0(&JsValue::UNDEFINED)
            .expect("evaluate hash-wasm's UMD code");
    }
    Some(create_sha256().await.expect("hash-wasm createSHA256()"))
}

/// Deterministic pseudo-random bytes (xorshift64).
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let take = (len - out.len()).min(8);
        out.extend_from_slice(&state.to_le_bytes()[..take]);
    }
    out
}

/// Our `Hasher` over `total` bytes of wasm memory `data`, cycling, in `chunk`-byte slices.
fn ours_wasm_input(data: &[u8], chunk: usize, total: usize) -> ContentHash {
    let mut hasher = Hasher::new();
    let mut done = 0;
    while done < total {
        let at = done % data.len();
        let n = chunk.min(total - done).min(data.len() - at);
        hasher.update(&data[at..at + n]);
        done += n;
    }
    hasher.finalize()
}

/// Our `Hasher` over `total` bytes of the JS buffer `data`, cycling: each chunk is copied into
/// `buf` (reused) and hashed there.
fn ours_js_input(data: &Uint8Array, buf: &mut [u8], total: usize) -> ContentHash {
    let len = data.length() as usize;
    let mut hasher = Hasher::new();
    let mut done = 0;
    while done < total {
        let at = done % len;
        let n = buf.len().min(total - done).min(len - at);
        data.subarray(at as u32, (at + n) as u32)
            .copy_to(&mut buf[..n]);
        hasher.update(&buf[..n]);
        done += n;
    }
    hasher.finalize()
}

fn compiled_number(value: Option<&str>, default: usize) -> usize {
    value.map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{v:?} is not a whole number"))
    })
}

struct Config {
    total: usize,
    pattern: usize,
    chunk: usize,
    rounds: usize,
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// MB/s (decimal megabytes) for `bytes` in `ms` milliseconds.
fn mb_per_s(bytes: usize, ms: f64) -> f64 {
    bytes as f64 / 1e6 / (ms / 1e3)
}

/// Runs the measurement; returns the table. Without hash-wasm, its row is left out (the table
/// says so). Panics if any two sides disagree on the digest.
async fn run(config: &Config) -> String {
    let hash_wasm = hash_wasm().await;
    let data = pattern(config.pattern);
    let js_data = Uint8Array::from(&data[..]);
    let mut buf = vec![0u8; config.chunk];

    // Warm-up (and the digest check): one pass of each.
    let expected = ours_wasm_input(&data, config.chunk, config.total);
    pause().await;
    assert_eq!(
        ours_js_input(&js_data, &mut buf, config.total),
        expected,
        "ours, JS input"
    );
    if let Some(h) = &hash_wasm {
        pause().await;
        let theirs = hash_wasm_run(h, &js_data, config.chunk as u32, config.total as f64);
        assert_eq!(
            theirs,
            expected.to_hex(),
            "hash-wasm's digest differs from ours"
        );
    }

    let sides = if hash_wasm.is_some() { 3 } else { 2 };
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); sides];
    for round in 0..config.rounds {
        for k in 0..sides {
            let side = (round + k) % sides;
            pause().await;
            let start = now();
            match side {
                0 => {
                    let d = ours_js_input(&js_data, &mut buf, config.total);
                    samples[0].push(now() - start);
                    assert_eq!(d, expected);
                }
                1 => {
                    let d = ours_wasm_input(&data, config.chunk, config.total);
                    samples[1].push(now() - start);
                    assert_eq!(d, expected);
                }
                _ => {
                    let h = hash_wasm.as_ref().expect("hash-wasm");
                    let d = hash_wasm_run(h, &js_data, config.chunk as u32, config.total as f64);
                    samples[2].push(now() - start);
                    assert_eq!(d, expected.to_hex());
                }
            }
        }
    }
    let rates: Vec<f64> = samples
        .into_iter()
        .map(|s| mb_per_s(config.total, median(s)))
        .collect();

    let mut table = format!(
        "SHA-256 in the page: {} MiB in {} KiB chunks, median of {} rounds (MB = 10^6 bytes)\n\
         | {:<22} | {:>8} | {:>12} |\n|{:-<24}|{:-<10}|{:-<14}|\n",
        config.total / MIB,
        config.chunk >> 10,
        config.rounds,
        "side",
        "MB/s",
        "/ hash-wasm",
        "",
        "",
        ""
    );
    let names = ["ours, JS input", "ours, wasm input", "hash-wasm 4.13.0"];
    for (name, rate) in names.iter().zip(&rates) {
        let ratio = rates
            .get(2)
            .map_or("-".to_owned(), |base| format!("{:.2}×", rate / base));
        table.push_str(&format!("| {name:<22} | {rate:>8.1} | {ratio:>12} |\n"));
    }
    match rates.get(2) {
        Some(base) => table.push_str(&format!(
            "ratio ours (JS input) / hash-wasm = {:.2}× (target ≥ 1.00×)",
            rates[0] / base
        )),
        None => table.push_str(NOT_INSTALLED),
    }
    table
}

/// Known vectors, uneven chunks against one call, hash-wasm agreeing with ours (when installed),
/// and the benchmark code itself on 1 MiB: fast enough for the normal test run.
#[wasm_bindgen_test]
async fn hasher_in_browser_matches_known_digests_and_hash_wasm() {
    let mut h = Hasher::new();
    h.update(b"a");
    h.update(b"");
    h.update(b"bc");
    assert_eq!(h.finalize().to_hex(), ABC);
    assert_eq!(Hasher::new().finalize().to_hex(), EMPTY);

    let data = pattern(MIB + 3);
    let whole = hash_bytes(&data);
    let sizes = [1usize, 7, 4096, 65_537, 3, 100_000];
    let mut hasher = Hasher::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at == data.len() {
            break;
        }
        let end = (at + size).min(data.len());
        hasher.update(&data[at..end]);
        at = end;
    }
    assert_eq!(hasher.bytes_hashed(), data.len() as u64);
    assert_eq!(hasher.finalize(), whole);

    match hash_wasm().await {
        Some(theirs) => {
            let js = Uint8Array::from(&data[..]);
            let digest = hash_wasm_run(&theirs, &js, 65_537, data.len() as f64);
            assert_eq!(digest, whole.to_hex(), "hash-wasm disagrees with ours");
            let abc = hash_wasm_run(&theirs, &Uint8Array::from(&b"abc"[..]), 1, 3.0);
            assert_eq!(abc, ABC);
        }
        None => console_log!("{NOT_INSTALLED} (its agreement check is skipped)"),
    }

    let table = run(&Config {
        total: MIB,
        pattern: MIB / 2,
        chunk: 256 << 10,
        rounds: 1,
    })
    .await;
    console_log!("{table}");
}

/// 256 MiB in 1 MiB chunks, ours and hash-wasm in the same page; prints the table.
#[wasm_bindgen_test]
#[ignore]
async fn bench_hash_browser() {
    assert!(!HASH_WASM_UMD.trim().is_empty(), "{NOT_INSTALLED}");
    let table = run(&Config {
        total: compiled_number(option_env!("BENCH_HASH_BROWSER_MIB"), 256) * MIB,
        pattern: 32 * MIB,
        chunk: MIB,
        rounds: compiled_number(option_env!("BENCH_HASH_BROWSER_ROUNDS"), 5).max(1),
    })
    .await;
    console_log!("{table}");
}
