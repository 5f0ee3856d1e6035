//! Makes the npm package `hash-wasm` (installed by `npm ci` in `bench-js/`) available to the browser
//! SHA-256 benchmark (`tests/bench_hash_browser.rs`), which `include_str!`s
//! `$OUT_DIR/hash-wasm-sha256.umd.min.js`. When the package is not installed the file is empty and
//! the benchmark says how to install it. Nothing of hash-wasm is kept in the repository.

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let bench_js = manifest_dir.join("bench-js");
    let source = bench_js.join("node_modules/hash-wasm/dist/sha256.umd.min.js");
    let target = out_dir.join("hash-wasm-sha256.umd.min.js");

    // A directory is scanned as a whole: `npm ci` (which creates or replaces node_modules) reruns
    // this script, while builds without any change to bench-js do not.
    println!("cargo::rerun-if-changed=build.rs");
    if bench_js.is_dir() {
        println!("cargo::rerun-if-changed={}", bench_js.display());
    }

    let code = read_or_empty(&source);
    // Only write when the content changes, so dependants are not rebuilt for nothing.
    if std::fs::read_to_string(&target).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&target, code).expect("write hash-wasm copy into OUT_DIR");
    }
}

fn read_or_empty(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(code) => code,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => panic!("read {}: {err}", path.display()),
    }
}
