//! The simulation: three clients with their own file systems and catalogs over one synced log
//! (manual delivery: late, out of order across clients, rebased), a fault-injecting remote,
//! random saves/updates/deletes of a small pool of contents (so rows share content), network
//! flaps, injected failures, corrupt and cut transfers, and restarts. After quiescence every live
//! file must be on the remote and on every client with a verified hash, and no saved row lost.
//!
//! `SIM_SEEDS` (default 200, natively in two halves on two threads; 10 on wasm32, where the run checks
//! the platform and the native run covers the seeds) seeds run from `SIM_SEED_START` (default 0); `SIM_STEPS` (default 60)
//! steps each. A failure prints the seed: rerun with `SIM_SEED_START=<seed> SIM_SEEDS=1`.

// On wasm32 the shared runtime and remote hold non-Send futures; one thread shares them by `Arc`.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use filesync::{hash_bytes, ContentHash};
use filesync::{Catalog, MemoryCatalog, SyncedLog};
use filesync::{Content, FileSync, FileSyncBuilder, FileSyncOptions, SaveOptions};
use filesync::{Fault, MemoryRemote};
use filesync::{Runtime, SimRuntime};
use fs_core::MemoryFs;

const POOL: usize = 6;

fn content(i: usize) -> Bytes {
    // Different sizes, some above one 64 KiB chunk so cuts land mid-transfer.
    let len = [5usize, 300, 70_000, 12, 150_000, 9][i % POOL];
    Bytes::from(
        (0..len)
            .map(|j| (j * 31 + i * 7) as u8)
            .collect::<Vec<u8>>(),
    )
}

struct Client {
    catalog: MemoryCatalog,
    fs: Arc<MemoryFs>,
    engine: FileSync,
    saved: Vec<String>,
}

struct Sim {
    seed: u64,
    rt: SimRuntime,
    log: SyncedLog,
    remote: MemoryRemote,
    clients: Vec<Client>,
    rng: fastrand::Rng,
    trace: Vec<String>,
}

fn options() -> FileSyncOptions {
    let mut o = FileSyncOptions::new("sim-store");
    o.orphan_min_age = Duration::ZERO;
    o.delete_grace_period = Duration::from_secs(30);
    o.health_check_interval = Duration::from_secs(5);
    o.executor.base_delay = Duration::from_millis(500);
    o.executor.max_delay = Duration::from_secs(10);
    o
}

impl Sim {
    fn new(seed: u64) -> Self {
        let rt = SimRuntime::new(seed, 1_800_000_000_000);
        let log = SyncedLog::manual();
        let remote = MemoryRemote::new(Arc::new(rt.clone()));
        let mut sim = Sim {
            seed,
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed),
            rt,
            log,
            remote,
            clients: Vec::new(),
            trace: Vec::new(),
        };
        for _ in 0..3 {
            let catalog = sim.log.client();
            let fs = Arc::new(MemoryFs::new());
            let engine = sim.engine(&catalog, &fs);
            sim.clients.push(Client {
                catalog,
                fs,
                engine,
                saved: Vec::new(),
            });
        }
        sim
    }

    fn engine(&self, catalog: &MemoryCatalog, fs: &Arc<MemoryFs>) -> FileSync {
        let engine = FileSyncBuilder::with_options(options())
            .runtime(Arc::new(self.rt.clone()))
            .fs(fs.clone())
            .catalog(Arc::new(catalog.clone()))
            .remote(Arc::new(self.remote.clone()))
            .build()
            .unwrap();
        let e = engine.clone();
        self.run(async move { e.start().await.unwrap() });
        engine
    }

    fn run<T: 'static>(&self, fut: impl std::future::Future<Output = T> + 'static) -> T {
        self.rt
            .run_until(fut, Duration::from_secs(3_600))
            .unwrap_or_else(|e| panic!("seed {}: the simulation stalled: {e}", self.seed))
    }

    fn advance(&self, d: Duration) {
        let rt = self.rt.clone();
        self.run(async move { rt.sleep(d).await });
    }

    fn live_ids(&self, c: usize) -> Vec<String> {
        let cat = self.clients[c].catalog.clone();
        self.run(async move {
            cat.files()
                .await
                .unwrap()
                .into_iter()
                .filter(|f| f.deleted_at.is_none())
                .map(|f| f.id)
                .collect()
        })
    }

    fn step(&mut self) {
        let c = self.rng.usize(0..self.clients.len());
        let roll = self.rng.u32(0..100);
        match roll {
            0..=24 => {
                let i = self.rng.usize(0..POOL);
                let e = self.clients[c].engine.clone();
                let saved = self
                    .run(async move {
                        e.save(Content::Bytes(content(i)), SaveOptions::default())
                            .await
                    })
                    .unwrap();
                self.trace
                    .push(format!("c{c} save content#{i} -> {}", saved.file_id));
                self.clients[c].saved.push(saved.file_id);
            }
            25..=34 => {
                let ids = self.live_ids(c);
                if let Some(id) =
                    (!ids.is_empty()).then(|| ids[self.rng.usize(0..ids.len())].clone())
                {
                    let i = self.rng.usize(0..POOL);
                    let e = self.clients[c].engine.clone();
                    let id2 = id.clone();
                    let r = self.run(async move {
                        e.update(&id2, Content::Bytes(content(i)), SaveOptions::default())
                            .await
                    });
                    self.trace.push(format!(
                        "c{c} update {id} -> content#{i}: {:?}",
                        r.map(|s| s.changed)
                    ));
                }
            }
            35..=41 => {
                let ids = self.live_ids(c);
                if let Some(id) =
                    (!ids.is_empty()).then(|| ids[self.rng.usize(0..ids.len())].clone())
                {
                    let e = self.clients[c].engine.clone();
                    let id2 = id.clone();
                    let r = self.run(async move { e.delete(&id2).await });
                    self.trace
                        .push(format!("c{c} delete {id}: {:?}", r.is_ok()));
                }
            }
            42..=51 => {
                let ok = self.clients[c].catalog.push();
                self.trace.push(format!("c{c} push: {ok}"));
            }
            52..=61 => {
                let n = self.rng.usize(1..6);
                let got = self.clients[c].catalog.pull_some(n);
                self.trace.push(format!("c{c} pull {got}"));
            }
            62..=67 => {
                self.clients[c].catalog.sync();
                self.trace.push(format!("c{c} sync"));
            }
            68..=73 => {
                let off = !self.remote.is_offline();
                self.remote.set_offline(off);
                self.trace.push(format!("remote offline={off}"));
            }
            74..=81 => {
                let fault = match self.rng.u32(0..5) {
                    0 => Fault::FailNext(self.rng.u32(1..4)),
                    1 => Fault::CorruptNextDownloads(1),
                    2 => Fault::CutNextDownload {
                        after: self.rng.u64(1..100_000),
                    },
                    3 => Fault::CutNextUpload {
                        after: self.rng.u64(1..100_000),
                    },
                    _ => Fault::FailNext(1),
                };
                self.trace.push(format!("inject {fault:?}"));
                self.remote.inject(fault);
            }
            82..=85 => {
                // Restart: the engine stops, the catalog (persisted) and files stay.
                let client = &self.clients[c];
                let stopping = client.engine.clone();
                self.run(async move { stopping.stop().await });
                client.catalog.close_subscribers();
                let (catalog, fs) = (client.catalog.clone(), client.fs.clone());
                let engine = self.engine(&catalog, &fs);
                self.clients[c].engine = engine;
                self.trace.push(format!("c{c} restart"));
            }
            _ => {
                let ms = self.rng.u64(0..3_000);
                self.advance(Duration::from_millis(ms));
                self.trace.push(format!("advance {ms} ms"));
            }
        }
    }

    /// Network and remote healthy; everyone syncs until nothing changes.
    fn quiesce(&mut self) {
        self.remote.set_offline(false);
        self.remote.clear_faults();
        for _round in 0..60 {
            for c in &self.clients {
                c.catalog.sync();
            }
            self.advance(Duration::from_secs(5));
            for c in &self.clients {
                let e = c.engine.clone();
                let _ = self.run(async move { e.retry_errors().await });
            }
            self.advance(Duration::from_secs(5));
            let synced = self.clients.iter().all(|c| c.catalog.pending_len() == 0);
            let idle = self.clients.iter().all(|c| c.engine.is_idle());
            if synced && idle && self.check().is_ok() {
                // Let pending remote deletes fall due, then check again.
                self.advance(Duration::from_secs(40));
                for c in &self.clients {
                    c.catalog.sync();
                }
                self.advance(Duration::from_secs(20));
                if self.check().is_ok() {
                    return;
                }
            }
        }
    }

    /// Every client's view of one file, for failure reports.
    fn describe(&self, id: &str, hash: &ContentHash) -> String {
        let mut out = String::new();
        for (ci, c) in self.clients.iter().enumerate() {
            let cat = c.catalog.clone();
            let e = c.engine.clone();
            let id2 = id.to_owned();
            let h = *hash;
            let (state, transfer, blob, status) = self.run(async move {
                (
                    cat.local_state(&id2).await.unwrap(),
                    cat.transfer_state(&id2).await.unwrap(),
                    e.storage().exists(&h).await.unwrap(),
                    e.sync_status().await.unwrap().errors,
                )
            });
            out.push_str(&format!(
                "  c{ci}: state {state:?}\n      transfer {transfer:?}\n      blob {blob:?} idle {} errors {status:?}\n",
                c.engine.is_idle()
            ));
        }
        out
    }

    /// The invariants after quiescence.
    fn check(&self) -> Result<(), String> {
        let files = self.log.files();
        for (ci, c) in self.clients.iter().enumerate() {
            c.catalog.pull();
            let cat = c.catalog.clone();
            let mine: BTreeMap<String, _> = self.run(async move {
                cat.files()
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|f| (f.id.clone(), f))
                    .collect()
            });
            if mine != files {
                return Err(format!("c{ci} sees other rows than the log"));
            }
            for id in &c.saved {
                if !files.contains_key(id) {
                    return Err(format!("c{ci} lost its saved row {id}"));
                }
            }
        }
        for f in files.values().filter(|f| f.deleted_at.is_none()) {
            let hash = ContentHash::parse(&f.content_hash)
                .map_err(|e| format!("row {} has a bad hash: {e}", f.id))?;
            let key = format!("sim-store/{hash}");
            if f.remote_key != key {
                return Err(format!(
                    "row {} has remoteKey {:?}, want {key}\n{}",
                    f.id,
                    f.remote_key,
                    self.describe(&f.id, &hash)
                ));
            }
            match self.remote.get(&key) {
                Some(b) if hash_bytes(&b) == hash => {}
                Some(_) => return Err(format!("remote blob {key} is corrupt")),
                None => return Err(format!("remote lacks {key} of live row {}", f.id)),
            }
            for (ci, c) in self.clients.iter().enumerate() {
                let e = c.engine.clone();
                let id = f.id.clone();
                let read = self.run(async move { e.read(&id).await });
                match read {
                    Ok(b) if hash_bytes(&b) == hash => {}
                    Ok(_) => return Err(format!("c{ci} reads wrong bytes for {}", f.id)),
                    Err(e) => {
                        return Err(format!(
                            "c{ci} cannot read {}: {e}\n{}",
                            f.id,
                            self.describe(&f.id, &hash)
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the seeds of `part` (0-based) out of `parts` equal slices of the configured range.
fn converge(part: u64, parts: u64) {
    // wasm32 has no environment variables: a smaller default there (the native run covers 200).
    let default_seeds = if cfg!(target_arch = "wasm32") {
        10
    } else {
        200
    };
    let seeds = env_u64("SIM_SEEDS", default_seeds);
    let start = env_u64("SIM_SEED_START", 0);
    let steps = env_u64("SIM_STEPS", 60);
    let (from, to) = (
        start + seeds * part / parts,
        start + seeds * (part + 1) / parts,
    );
    let mut failures = Vec::new();
    for seed in from..to {
        let mut sim = Sim::new(seed);
        for _ in 0..steps {
            sim.step();
        }
        sim.quiesce();
        if let Err(e) = sim.check() {
            eprintln!(
                "seed {seed} failed: {e}\ntrace:\n  {}",
                sim.trace.join("\n  ")
            );
            failures.push(seed);
        }
        for c in &sim.clients {
            let engine = c.engine.clone();
            sim.run(async move { engine.stop().await });
        }
    }
    assert!(
        failures.is_empty(),
        "{} of seeds {from}..{to} failed: {failures:?} (rerun one with SIM_SEED_START=<seed> SIM_SEEDS=1)",
        failures.len()
    );
}

// Natively the seeds are split in two halves, which the test harness runs on two threads.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn three_clients_converge_under_faults_first_half() {
    converge(0, 2);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn three_clients_converge_under_faults_second_half() {
    converge(1, 2);
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn three_clients_converge_under_faults() {
    converge(0, 1);
}
