//! `filesync`: the livestore-filesync command. `filesync serve` runs the server, with blobs on
//! local disk or in an S3-compatible bucket.

mod serve;

use clap::{Parser, Subcommand};

/// livestore-filesync: file sync for LiveStore apps.
#[derive(Debug, Parser)]
#[command(name = "filesync", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the signer API, with blobs on local disk (default) or in an S3-compatible
    /// bucket (--s3-bucket).
    Serve(serve::ServeArgs),
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
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve::run(args)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("filesync: error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
