//! The differential test: random sequences of operations run on the model (`MemoryFs`) and on a
//! backend side by side, compared after every step.
//!
//! The conformance [`cases`](crate::conformance::cases) check named situations; this module finds
//! the ones nobody named. A sequence ([`generate`]) mixes every call the backend's capabilities
//! allow over a small namespace of odd names ([`DEFAULT_NAMES`]): whole-file calls with every open
//! flag, directories, renames and copies, ranged streams, and handles and sinks that stay open
//! across steps (in slots `h0`…, `s0`…), so that calls on a path with an open handle or sink are
//! common. [`run`] compares each step's outcome value by value and error kind by error kind, then
//! closes what is still open and compares the whole trees (types, sizes, bytes).
//!
//! [`explore`] runs fresh sequences until a time budget or a count is used up; a divergence is
//! shrunk ([`minimize`]) and reported with its seed and its steps in the text form of
//! [`op`](Op) (see [`parse_sequences`]), ready to be committed to a regressions file that
//! [`replay`] runs every time.
//!
//! ```ignore
//! let make = || Box::pin(async { Pair::new(Arc::new(MemoryFs::new()), Arc::new(my_backend().await)) })
//!     as LocalBoxFuture<'static, Pair>;
//! replay(&make, include_str!("regressions.txt")).await;
//! let report = explore(&make, &Explore::for_seconds(GenConfig::new(caps), 60)).await;
//! report.assert_passed();
//! ```

mod generate;
mod op;
mod run;

use std::fmt;
use std::time::Duration;

use web_time::Instant;

pub use generate::{generate, GenConfig, DEFAULT_NAMES};
pub use op::{format_ops, parse_sequences, Data, Op, ParseError, Sequence};
pub use run::{
    minimize, run, run_fresh, tree_of, Divergence, MakePair, Outcome, Pair, Seen, Snapshot,
};

/// How long and from which seed [`explore`] runs.
#[derive(Debug, Clone)]
pub struct Explore {
    /// How sequences are generated.
    pub config: GenConfig,
    /// Stop starting new sequences after this long.
    pub budget: Duration,
    /// Stop after this many sequences (whichever comes first).
    pub max_sequences: usize,
    /// The seed of the first sequence; the following ones count up from it.
    pub first_seed: u64,
    /// How many sequences the shrinking of a failure may run.
    pub max_shrink_runs: usize,
    /// How long the shrinking of a failure may take.
    pub shrink_budget: Duration,
}

impl Explore {
    /// Sequences for `seconds`, from a seed taken from the system's randomness.
    pub fn for_seconds(config: GenConfig, seconds: u64) -> Explore {
        let mut seed = [0u8; 8];
        // Without randomness the run still explores, from a fixed place.
        let _ = getrandom::getrandom(&mut seed);
        Explore {
            config,
            budget: Duration::from_secs(seconds),
            max_sequences: usize::MAX,
            first_seed: u64::from_le_bytes(seed) >> 16,
            max_shrink_runs: 300,
            shrink_budget: Duration::from_secs(60),
        }
    }
}

/// A divergence [`explore`] found.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed of the failing sequence ([`generate`] makes it again).
    pub seed: u64,
    /// The divergence of the whole sequence.
    pub original: Divergence,
    /// The shrunk sequence and its divergence.
    pub minimized: Divergence,
}

/// What [`explore`] did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Sequences run.
    pub sequences: usize,
    /// Steps run (over all sequences).
    pub steps: usize,
    /// The seeds tried: `first..first + sequences`.
    pub first_seed: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// The first divergence, if one was found (exploring stops there).
    pub failure: Option<Failure>,
}

impl Report {
    /// Panics with the failure (its seed, the shrunk steps to commit as a regression, and the
    /// original divergence) if there was one.
    pub fn assert_passed(&self) {
        if let Some(failure) = &self.failure {
            panic!("{self}\n{failure}");
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "differential test: {} sequences ({} steps) from seed {} in {:.1} s: {}",
            self.sequences,
            self.steps,
            self.first_seed,
            self.elapsed.as_secs_f64(),
            if self.failure.is_some() {
                "DIVERGED"
            } else {
                "no divergence"
            }
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {} diverged. Shrunk:", self.seed)?;
        writeln!(f, "{}", self.minimized)?;
        writeln!(
            f,
            "(to keep it as a regression, add the steps above under a `# title` line)"
        )?;
        writeln!(f, "The whole sequence:")?;
        write!(f, "{}", self.original)
    }
}

/// Runs fresh sequences (seeds counting up from `first_seed`) until the budget or the count is
/// used up or one diverges; a divergence is shrunk.
pub async fn explore(make: &MakePair<'_>, explore: &Explore) -> Report {
    let start = Instant::now();
    let mut report = Report {
        sequences: 0,
        steps: 0,
        first_seed: explore.first_seed,
        elapsed: Duration::ZERO,
        failure: None,
    };
    while report.sequences < explore.max_sequences && start.elapsed() < explore.budget {
        let seed = explore.first_seed.wrapping_add(report.sequences as u64);
        let ops = generate(&explore.config, seed);
        report.sequences += 1;
        report.steps += ops.len();
        if let Err(original) = run_fresh(make, &ops).await {
            let shrunk = minimize(
                make,
                original.ops.clone(),
                explore.max_shrink_runs,
                explore.shrink_budget,
            )
            .await;
            let minimized = match run_fresh(make, &shrunk).await {
                Err(divergence) => divergence,
                // A flaky divergence that did not come back: report the whole sequence.
                Ok(()) => original.clone(),
            };
            report.failure = Some(Failure {
                seed,
                original,
                minimized,
            });
            break;
        }
    }
    report.elapsed = start.elapsed();
    report
}

/// Runs every sequence of a regressions file (see [`parse_sequences`]) on a fresh pair each,
/// except those with steps the subject's capabilities do not allow; returns how many ran. Panics
/// with the title and the divergence of the first that fails, or on a malformed file.
pub async fn replay(make: &MakePair<'_>, text: &str) -> usize {
    let sequences = parse_sequences(text).unwrap_or_else(|e| panic!("regressions file: {e}"));
    let caps = make().await.subject.capabilities();
    let mut ran = 0;
    for sequence in sequences
        .iter()
        .filter(|s| s.ops.iter().all(|op| op.allowed(&caps)))
    {
        ran += 1;
        if let Err(divergence) = run_fresh(make, &sequence.ops).await {
            panic!(
                "the regression `{}` diverged again:\n{divergence}",
                sequence.title
            );
        }
    }
    ran
}
