//! `filesync serve` as a child process on 127.0.0.1:0, for the CLI's end-to-end tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `filesync serve` (killed when dropped).
pub struct Running {
    pub child: Child,
    pub url: String,
    pub token: Option<String>,
    /// The lines printed at start.
    pub printed: Vec<String>,
}

pub async fn start(data_dir: &Path, extra: &[&str]) -> Running {
    start_command(
        Command::new(env!("CARGO_BIN_EXE_filesync")),
        data_dir,
        extra,
    )
    .await
}

/// Starts `command` (the `filesync` binary, its environment set) as `serve` over `data_dir`.
pub async fn start_command(mut command: Command, data_dir: &Path, extra: &[&str]) -> Running {
    let mut child = command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env_remove("FILESYNC_TOKENS_FILE")
        .env_remove("FILESYNC_SIGNING_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut token, mut printed) = (None, None, Vec::new());
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push(line.clone());
            if let Some(u) = line.strip_prefix("filesync serve: listening on ") {
                url = Some(u.to_owned());
            }
            if let Some(t) = line.trim().strip_prefix("development token (every key): ") {
                token = Some(t.to_owned());
            }
            // The last line printed at start.
            if line.trim().starts_with("Ctrl-C stops it") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the server did not start");
    Running {
        child,
        url: url.expect("no URL printed"),
        token,
        printed,
    }
}

impl Running {
    pub async fn sign(&self, token: &str, path: &str, key: &str) -> (u16, serde_json::Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/{path}", self.url))
            .bearer_auth(token)
            .json(&serde_json::json!({ "key": key }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .unwrap()
            .unwrap()
    }
}
