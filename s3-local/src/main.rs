//! `s3-local`: the S3 server of this crate as a process, for benchmarks and manual tests.
//!
//! `s3-local --root DIR [--bucket NAME] [--port PORT]` serves the bucket (created if missing) on
//! 127.0.0.1 with fresh credentials, prints one line
//! `s3-local endpoint=http://127.0.0.1:PORT bucket=NAME access_key_id=... secret_access_key=...`,
//! and runs until killed (or until its standard input closes, with `--stop-on-eof`).

use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: s3-local --root DIR [--bucket NAME] [--port PORT] [--stop-on-eof]");
    std::process::exit(2);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut root: Option<PathBuf> = None;
    let mut bucket = "files".to_owned();
    let mut port = 0u16;
    let mut stop_on_eof = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--root" => root = args.next().map(PathBuf::from),
            "--bucket" => bucket = args.next().unwrap_or_else(|| usage()),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--stop-on-eof" => stop_on_eof = true,
            _ => usage(),
        }
    }
    let Some(root) = root else { usage() };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let s3 = match s3_local::S3Local::start_on(&root, &bucket, addr, None).await {
        Ok(s3) => s3,
        Err(err) => {
            eprintln!("s3-local: error: {err}");
            std::process::exit(1);
        }
    };
    println!(
        "s3-local endpoint={} bucket={} access_key_id={} secret_access_key={}",
        s3.endpoint(),
        s3.bucket(),
        s3.access_key_id(),
        s3.secret_access_key()
    );
    if stop_on_eof {
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        })
        .await;
    } else {
        let _ = tokio::signal::ctrl_c().await;
    }
    drop(s3);
}
