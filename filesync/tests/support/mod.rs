//! The real `filesync-server`, run in this process on 127.0.0.1 over a temporary data directory,
//! on a tokio runtime of its own (a thread), so that a test can kill it abruptly mid-transfer (the
//! runtime is shut down: every connection is dropped at once, as when the process dies) and start
//! it again on the same port over the same data directory.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::sync::Arc;

use filesync_server::{
    router, serve, signer_router, DiskStore, DiskStoreOptions, S3Store, S3StoreOptions,
    ServerConfig, TokenGrant, TokenTable, UrlSigner, MIN_PART_BYTES,
};
use s3_local::S3Local;

/// The token every key may be touched with.
pub const TOKEN: &str = "e2e-token";
/// A token that may touch only keys under [`LIMITED_PREFIX`].
pub const LIMITED_TOKEN: &str = "e2e-token-limited";
/// The key prefix [`LIMITED_TOKEN`] covers.
pub const LIMITED_PREFIX: &str = "limited/";
const SECRET: &[u8] = b"end-to-end tests, a secret of 16+ bytes";
/// The largest upload the test server accepts.
pub const MAX_UPLOAD: u64 = 256 * 1024 * 1024;

/// Where a test server keeps blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// Its data directory (`DiskStore`).
    #[default]
    Disk,
    /// A bucket of a real S3 implementation (`S3Store`: URLs presigned at the bucket): s3s-fs
    /// (`s3-local`) run beside it on 127.0.0.1 with its objects in the data directory's `s3/`,
    /// killed and restarted with it; or, when the `FILESYNC_TEST_S3_*` variables name one, that
    /// bucket (Garage in the extended command), which a kill does not touch.
    S3,
}

/// What can differ between test servers.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long signed URLs work (the server's default, 900 s, unless set).
    pub url_ttl: Duration,
    /// Where blobs go.
    pub storage: Storage,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            url_ttl: filesync_server::DEFAULT_URL_TTL,
            storage: Storage::Disk,
        }
    }
}

/// The bucket of S3 storage.
const BUCKET: &str = "files";
/// The credentials of S3 storage.
const S3_KEY: &str = "GKTESTACCESSKEY";
const S3_SECRET: &str = "test-secret-access-key-for-s3-local";

struct Running {
    kill: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// A server on a fixed 127.0.0.1 port over one data directory; it can be killed and started again.
/// Dropping it kills it.
pub struct Server {
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    settings: Settings,
    running: Mutex<Option<Running>>,
    /// Where the S3 server listens (S3 storage; chosen at the first start, kept across restarts).
    s3_addr: Mutex<Option<SocketAddr>>,
}

impl Server {
    /// Starts a server on 127.0.0.1 with a port of the system's choosing, over a new data
    /// directory; resumable uploads use the smallest part size (5 MiB).
    pub fn start() -> Server {
        Server::start_with(Settings::default())
    }

    /// [`Server::start`] with its blobs in `storage`.
    pub fn start_in(storage: Storage) -> Server {
        Server::start_with(Settings {
            storage,
            ..Settings::default()
        })
    }

    /// [`Server::start`] with `settings`.
    pub fn start_with(settings: Settings) -> Server {
        let dir = tempfile::tempdir().expect("a temporary data directory");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the bound address");
        let server = Server {
            addr,
            dir,
            settings,
            running: Mutex::new(None),
            s3_addr: Mutex::new(None),
        };
        server.launch(listener);
        server
    }

    /// The signer's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where the blob of `key` is kept (on the disk, or in s3s-fs's bucket directory). Panics
    /// with an external bucket: its objects are not files here.
    pub fn blob_path(&self, key: &str) -> PathBuf {
        match self.settings.storage {
            Storage::Disk => self.dir.path().join("blobs").join(key),
            Storage::S3 => {
                assert!(
                    s3_local::External::from_env().is_none(),
                    "blob_path() needs s3s-fs; unset FILESYNC_TEST_S3_* to run this test"
                );
                self.dir.path().join("s3").join(BUCKET).join(key)
            }
        }
    }

    /// Resumable uploads staged and not completed or aborted (S3 storage: multipart uploads
    /// s3s-fs holds, one `.upload-{id}.json` file each).
    pub fn staged_uploads(&self) -> usize {
        match self.settings.storage {
            Storage::Disk => std::fs::read_dir(self.dir.path().join("uploads"))
                .map(|d| d.count())
                .unwrap_or(0),
            Storage::S3 => std::fs::read_dir(self.dir.path().join("s3"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter(|e| {
                            let name = e.file_name().to_string_lossy().into_owned();
                            name.starts_with(".upload-") && name.ends_with(".json")
                        })
                        .count()
                })
                .unwrap_or(0),
        }
    }

    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Kills the server: stops accepting, drops every connection mid-request, waits (at most
    /// 10 s) for its blocking disk work, and returns once it is gone. Blocking; may be called from
    /// a synchronous callback. Does nothing when it is not running.
    pub fn kill(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(running) = running {
            let _ = running.kill.send(());
            running
                .thread
                .join()
                .expect("the server thread ends cleanly");
        }
    }

    /// Starts the server again on the same port over the same data directory (retrying the bind
    /// for up to 5 s). Blocking.
    pub fn restart(&self) {
        assert!(!self.is_running(), "restart() of a running server");
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match std::net::TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(err) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {err}; retrying", self.addr);
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(err) => panic!("cannot bind {} again: {err}", self.addr),
            }
        };
        self.launch(listener);
    }

    fn launch(&self, listener: std::net::TcpListener) {
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let data_dir = self.dir.path().to_owned();
        let settings = self.settings;
        let s3_addr = *self.s3_addr.lock().unwrap_or_else(|p| p.into_inner());
        let (s3_tx, s3_rx) = mpsc::channel::<SocketAddr>();
        let (kill_tx, kill_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let thread = std::thread::Builder::new()
            .name(format!("filesync-server-{}", self.addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the server's runtime");
                rt.block_on(async move {
                    let mut _s3 = None;
                    let store = match settings.storage {
                        Storage::Disk => {
                            let signer = UrlSigner::new(SECRET).expect("a signing secret");
                            let mut options = DiskStoreOptions::new(&data_dir, signer);
                            options.max_upload_bytes = MAX_UPLOAD;
                            options.part_size = MIN_PART_BYTES;
                            options.url_ttl = settings.url_ttl;
                            match DiskStore::open(options).await {
                                Ok(store) => Stored::Disk(store),
                                Err(err) => {
                                    let _ = ready_tx.send(Err(format!("DiskStore::open: {err}")));
                                    return;
                                }
                            }
                        }
                        Storage::S3 => {
                            let mut options = match s3_local::External::from_env() {
                                Some(e) => S3StoreOptions::new(
                                    e.endpoint,
                                    e.bucket,
                                    s3_local::REGION,
                                    e.access_key_id,
                                    e.secret_access_key,
                                ),
                                None => {
                                    let s3 = match start_s3(&data_dir.join("s3"), s3_addr).await {
                                        Ok(s3) => s3,
                                        Err(err) => {
                                            let _ = ready_tx.send(Err(format!("s3-local: {err}")));
                                            return;
                                        }
                                    };
                                    let _ = s3_tx.send(s3.addr());
                                    let options = S3StoreOptions::new(
                                        s3.endpoint(),
                                        BUCKET,
                                        s3_local::REGION,
                                        S3_KEY,
                                        S3_SECRET,
                                    );
                                    _s3 = Some(s3);
                                    options
                                }
                            };
                            options.max_upload_bytes = MAX_UPLOAD;
                            options.part_size = MIN_PART_BYTES;
                            options.url_ttl = settings.url_ttl;
                            Stored::S3(Arc::new(S3Store::new(options).expect("S3 options")))
                        }
                    };
                    let tokens = TokenTable::new([
                        TokenGrant {
                            token: TOKEN.into(),
                            prefixes: vec![],
                        },
                        TokenGrant {
                            token: LIMITED_TOKEN.into(),
                            prefixes: vec![LIMITED_PREFIX.into()],
                        },
                    ])
                    .expect("a token table");
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(err) => {
                            let _ = ready_tx.send(Err(format!("listener: {err}")));
                            return;
                        }
                    };
                    let config = ServerConfig::new(tokens);
                    let app = match store {
                        Stored::Disk(store) => router(config, store),
                        Stored::S3(store) => signer_router(config, store),
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::select! {
                        served = serve(listener, app, std::future::pending()) => {
                            if let Err(err) = served {
                                eprintln!("the server stopped with an error: {err}");
                            }
                        }
                        _ = kill_rx => {}
                    }
                });
                // Dropping the runtime's tasks closes every connection at once (the listener and
                // the connection tasks live on it); blocking disk work may finish first.
                rt.shutdown_timeout(Duration::from_secs(10));
            })
            .expect("a server thread");
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => {
                if let Ok(addr) = s3_rx.try_recv() {
                    *self.s3_addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
                }
            }
            Ok(Err(err)) => panic!("the server did not start: {err}"),
            Err(err) => panic!("the server did not start within 30 s: {err}"),
        }
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(Running {
            kill: kill_tx,
            thread,
        });
    }
}

enum Stored {
    Disk(DiskStore),
    S3(Arc<S3Store>),
}

/// The S3 server of S3 storage: on `addr` when it ran before (retrying the bind for up to 5 s),
/// else on a free port.
async fn start_s3(root: &Path, addr: Option<SocketAddr>) -> std::io::Result<S3Local> {
    let credentials = || Some((S3_KEY.to_owned(), S3_SECRET.to_owned()));
    let Some(addr) = addr else {
        let any = "127.0.0.1:0".parse().expect("an address");
        return S3Local::start_on(root, BUCKET, any, credentials()).await;
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match S3Local::start_on(root, BUCKET, addr, credentials()).await {
            Err(err)
                if err.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Deterministic pseudo-random bytes (xorshift64, eight bytes per step).
pub fn data(len: usize, seed: u64) -> bytes::Bytes {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

/// A TCP proxy on 127.0.0.1 in front of a server that forwards the client's bytes slowly
/// (`chunk` bytes, then a pause of `pause`) and counts them: what it counted is what the server
/// received. Its listening socket has a small receive buffer, so a client that stops sending
/// leaves little in flight. It runs on the calling tokio runtime and ends with it.
pub struct ThrottledProxy {
    pub addr: SocketAddr,
    forwarded: std::sync::Arc<std::sync::atomic::AtomicU64>,
    open: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ThrottledProxy {
    /// A proxy to `target`.
    pub async fn start(target: SocketAddr, chunk: usize, pause: Duration) -> ThrottledProxy {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .set_recv_buffer_size(16 * 1024)
            .expect("a small receive buffer");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind 127.0.0.1:0");
        let listener = socket.listen(16).expect("listen");
        let addr = listener.local_addr().expect("the bound address");
        let forwarded = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let open = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (count, live) = (forwarded.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let (count, live) = (count.clone(), live.clone());
                live.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upstream = async {
                        let mut buf = vec![0u8; chunk];
                        loop {
                            let n = match client_read.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            count.fetch_add(n as u64, Ordering::SeqCst);
                            if server_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            tokio::time::sleep(pause).await;
                        }
                        let _ = server_write.shutdown().await;
                    };
                    let downstream = async {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                        let _ = client_write.shutdown().await;
                    };
                    // The connection ends when either side is done with it.
                    tokio::select! {
                        _ = upstream => {}
                        _ = downstream => {}
                    }
                    live.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        ThrottledProxy {
            addr,
            forwarded,
            open,
        }
    }

    /// The signer's base URL through the proxy.
    pub fn base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Bytes the proxy forwarded from clients to the server so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.open.load(std::sync::atomic::Ordering::SeqCst)
    }
}
