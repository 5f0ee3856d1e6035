//! How commands report: human lines or `--json`, exit codes that say what failed, progress bars
//! on a terminal only.

use std::io::{IsTerminal, Write};

/// What a failed command exits with (documented in the README and `filesync --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything not listed below.
    Failed = 1,
    /// The key or object does not exist.
    NotFound = 3,
    /// The server or storage refused the credentials or the key.
    Refused = 4,
    /// The server or storage could not be reached.
    Unreachable = 5,
    /// Bytes did not match their hash (a download, or blobs found by `verify`).
    Mismatch = 6,
}

/// A command's failure: its exit code and a message that says what to do.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// The message (printed after `filesync: error: `).
    pub message: String,
}

impl Failure {
    /// A failure with `exit` and `message`.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
        }
    }

    /// A general failure.
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Failed, message)
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::failed(message)
    }
}

/// The result of a command.
pub type CmdResult = Result<(), Failure>;

/// Where a command writes its results.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// One JSON value per result on stdout instead of lines for people.
    pub json: bool,
}

impl Out {
    /// Prints `human` (a line for people) or `json`.
    pub fn result(&self, human: impl FnOnce() -> String, json: impl FnOnce() -> serde_json::Value) {
        let mut stdout = std::io::stdout().lock();
        let _ = if self.json {
            writeln!(stdout, "{}", json())
        } else {
            writeln!(stdout, "{}", human())
        };
    }

    /// A progress bar of `total` bytes on stderr, hidden unless stderr is a terminal and the output
    /// is for people.
    pub fn bytes_bar(&self, total: u64, what: &str) -> indicatif::ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(what.to_owned());
        bar
    }
}

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `text` to `path` durably and atomically (a temporary sibling, fsynced, renamed over it),
/// readable by this user only (0600): a crash never leaves a truncated secret or tokens file.
pub fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = std::path::PathBuf::from(temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}
