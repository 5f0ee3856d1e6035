//! Streaming SHA-256 throughput of filesync's hashing service, natively; prints a table of medians
//! and the ratio to the DESIGN §7 target (native ≥ 1 GB/s). Nothing is asserted about time.
//!
//! `cargo bench -p filesync --bench hash` (scripts/extended runs it). Under `cargo test
//! --all-targets` (no `--bench` argument) it runs a small smoke configuration instead (4 MiB, one
//! round) that only checks the digests agree. Rows:
//!
//! | row | what is timed |
//! |---|---|
//! | `Hasher`, 64 KiB / 1 MiB chunks | `Hasher::update` over slices of one pre-generated buffer, then `finalize` |
//! | `hash_stream` over MemoryFs | `hash_file` of a MemoryFs file: `read_stream` (64 KiB chunks, each copied out of the file) feeding a `Hasher` |
//! | `Hasher` over the same file's bytes | the baseline of the row above: the same bytes, 64 KiB chunks, no stream |
//!
//! Memory stays bounded: the data comes from one pseudo-random buffer (64 MiB at most) generated
//! before any clock starts; larger totals cycle through it. The MemoryFs file is the one place that
//! holds all its bytes (that is what MemoryFs is).
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BENCH_HASH_MIB` | 1024 | bytes hashed per `Hasher` measurement, in MiB |
//! | `BENCH_HASH_STREAM_MIB` | 256 | size of the MemoryFs file, in MiB |
//! | `BENCH_HASH_ROUNDS` | 5 | rounds per measurement (the median is printed) |

use std::time::{Duration, Instant};

use bytes::Bytes;
use fs_core::{FileSystem, MemoryFs, OpenOptions, VPath};
use futures::executor::block_on;

use filesync::{hash_bytes, hash_file, ContentHash, Hasher};

/// DESIGN §7: native streaming SHA-256 ≥ 1 GB/s (decimal gigabytes).
const TARGET_GB_PER_S: f64 = 1.0;
const MIB: usize = 1 << 20;
/// The largest pre-generated buffer; bigger totals cycle through it.
const MAX_PATTERN: usize = 64 * MIB;

struct Config {
    total: usize,
    stream_total: usize,
    rounds: usize,
}

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
        Err(_) => default,
    }
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

/// Feeds `total` bytes of `data` (cycling through it) to a fresh `Hasher` in `chunk`-byte pieces.
/// `data.len()` must be a multiple of `chunk`.
fn hash_cycling(data: &[u8], total: usize, chunk: usize) -> ContentHash {
    let mut hasher = Hasher::new();
    let mut done = 0;
    while done < total {
        let at = done % data.len();
        let n = chunk.min(total - done);
        hasher.update(&data[at..at + n]);
        done += n;
    }
    hasher.finalize()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn gb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / time.as_secs_f64() / 1e9
}

/// Times `f` `rounds` times; returns the median and the result of the last call.
fn measure<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(rounds);
    let mut last = None;
    for _ in 0..rounds {
        let start = Instant::now();
        let out = f();
        samples.push(start.elapsed());
        last = Some(out);
    }
    (median(samples), last.expect("at least one round"))
}

fn row(name: &str, bytes: usize, time: Duration) {
    let rate = gb_per_s(bytes, time);
    println!(
        "| {name:<46} | {:>6} | {:>9.3} | {:>6.3} | {:>5.2}× |",
        bytes / MIB,
        time.as_secs_f64(),
        rate,
        rate / TARGET_GB_PER_S
    );
}

/// Whether this CPU has the SHA extensions (sha2 0.10 uses them when it detects them at run time).
fn sha_extensions() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse4.1")
        {
            "x86_64 SHA-NI present (sha2 uses it)"
        } else {
            "x86_64 without SHA-NI (sha2 falls back to portable code)"
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "aarch64 (sha2 0.10 uses the SHA instructions only with its `asm` feature)"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "portable SHA-256"
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then a small smoke
    // configuration checks that the benchmark still works without costing the test run time.
    let full = std::env::args().any(|arg| arg == "--bench");
    let config = if full {
        Config {
            total: env_number("BENCH_HASH_MIB", 1024) * MIB,
            stream_total: env_number("BENCH_HASH_STREAM_MIB", 256) * MIB,
            rounds: env_number("BENCH_HASH_ROUNDS", 5).max(1),
        }
    } else {
        Config {
            total: 4 * MIB,
            stream_total: 4 * MIB,
            rounds: 1,
        }
    };
    assert!(
        config.total > 0 && config.stream_total > 0,
        "sizes must not be zero"
    );

    // One buffer, a whole number of MiB (so 64 KiB and 1 MiB chunks never straddle its end).
    let pattern_len = config.total.max(config.stream_total).min(MAX_PATTERN);
    let pattern_len = pattern_len.div_ceil(MIB) * MIB;
    let data = pattern(pattern_len);

    if !full {
        println!("smoke run (no --bench): checks the digests; the figures mean nothing here");
    }

    println!(
        "filesync SHA-256, native ({}; median of {} rounds; target {TARGET_GB_PER_S} GB/s)",
        sha_extensions(),
        config.rounds
    );
    println!(
        "| {:<46} | {:>6} | {:>9} | {:>6} | {:>6} |",
        "row", "MiB", "median s", "GB/s", "target"
    );
    println!("|{:-<48}|{:-<8}|{:-<11}|{:-<8}|{:-<8}|", "", "", "", "", "");

    let mut digests = Vec::new();
    for (name, chunk) in [
        ("Hasher, 64 KiB chunks", 64 << 10),
        ("Hasher, 1 MiB chunks", MIB),
    ] {
        let (time, digest) = measure(config.rounds, || hash_cycling(&data, config.total, chunk));
        row(name, config.total, time);
        digests.push(digest);
    }
    assert!(
        digests.windows(2).all(|w| w[0] == w[1]),
        "chunk sizes gave different digests: {digests:?}"
    );

    // The stream path: a MemoryFs file hashed through read_stream, against the same bytes hashed
    // directly (the difference is the stream's cost: a chunk copy, a lock and a poll per chunk).
    let fs = MemoryFs::new();
    let path = VPath::new("/bench-blob").expect("path");
    let mut content = Vec::with_capacity(config.stream_total);
    while content.len() < config.stream_total {
        let n = (config.stream_total - content.len()).min(data.len());
        content.extend_from_slice(&data[..n]);
    }
    let expected = hash_bytes(&content);
    let content = Bytes::from(content);
    block_on(fs.write_file(&path, content.clone(), OpenOptions::write())).expect("write the file");

    let (direct_time, direct) = measure(config.rounds, || {
        hash_cycling(&content, config.stream_total, 64 << 10)
    });
    let (stream_time, streamed) = measure(config.rounds, || {
        block_on(hash_file(&fs, &path)).expect("hash_file")
    });
    assert_eq!(direct, expected, "direct Hasher digest");
    assert_eq!(streamed, expected, "hash_file digest");
    row(
        "Hasher over the file's bytes, 64 KiB chunks",
        config.stream_total,
        direct_time,
    );
    row(
        "hash_file (read_stream, 64 KiB) over MemoryFs",
        config.stream_total,
        stream_time,
    );
    println!(
        "stream overhead: hash_file takes {:.2}× the time of the direct Hasher ({:+.1}%)",
        stream_time.as_secs_f64() / direct_time.as_secs_f64(),
        (stream_time.as_secs_f64() / direct_time.as_secs_f64() - 1.0) * 100.0
    );
}
