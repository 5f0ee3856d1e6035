//! `filesync`: the livestore-filesync command. `filesync serve` runs the server, with blobs on
//! local disk or in an S3-compatible bucket; the client commands (`put`, `get`, `rm`, `stat`) talk
//! to a server with a token; the admin commands (`ls`, `verify`, `gc`, `tokens`) run where the
//! storage is.

mod admin;
mod client;
mod output;
mod serve;
mod storage;
mod tokens;

use clap::{Parser, Subcommand};
use output::Out;

/// livestore-filesync: file sync for LiveStore apps.
#[derive(Debug, Parser)]
#[command(
    name = "filesync",
    version,
    about,
    after_help = "Exit codes: 0 done, 1 failed, 2 bad usage, 3 not found, 4 refused (token or key), 5 unreachable, 6 bytes that do not match their hash."
)]
struct Cli {
    /// Print results as JSON, one value per line, instead of lines for people.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the signer API, with blobs on local disk (default) or in an S3-compatible
    /// bucket (--s3-bucket).
    Serve(serve::ServeArgs),
    /// Upload a file through a server; prints its key ({prefix}/{sha256}).
    Put(client::PutArgs),
    /// Download a key through a server into a file (checked against its hash).
    Get(client::GetArgs),
    /// Delete a key through a server.
    Rm(client::KeyArgs),
    /// Show a key's size and content type through a server.
    Stat(client::KeyArgs),
    /// List the blobs in the storage (run where the data dir or bucket is).
    Ls(admin::LsArgs),
    /// Re-hash every blob in the storage and report those that do not match.
    Verify(admin::VerifyArgs),
    /// Delete blobs no live key names (dry run unless --delete).
    Gc(admin::GcArgs),
    /// Create, list and revoke the tokens of the tokens file.
    Tokens(tokens::TokensArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FILESYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("filesync: error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let out = Out { json: cli.json };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await.map_err(output::Failure::failed),
            Command::Put(args) => client::put(args, out).await,
            Command::Get(args) => client::get(args, out).await,
            Command::Rm(args) => client::rm(args, out).await,
            Command::Stat(args) => client::stat(args, out).await,
            Command::Ls(args) => admin::ls(args, out).await,
            Command::Verify(args) => admin::verify(args, out).await,
            Command::Gc(args) => admin::gc(args, out).await,
            Command::Tokens(args) => tokens::run(args, out),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(failure) => {
            if out.json {
                println!(
                    "{}",
                    serde_json::json!({"error": failure.message, "exit": failure.exit as u8})
                );
            }
            eprintln!("filesync: error: {}", failure.message);
            std::process::ExitCode::from(failure.exit as u8)
        }
    }
}
