//! The differential test harness itself (natively and on wasm32 under Node): MemoryFs never
//! diverges from MemoryFs, the text form of every generated sequence reads back to the same steps,
//! malformed regression files are refused with the line, and a backend with one planted bug is
//! caught and shrunk to a handful of steps.

mod common;

use std::sync::Arc;

use fs_core::conformance::differential::{
    explore, format_ops, generate, parse_sequences, replay, run_fresh, Explore, GenConfig,
    MakePair, Op, Pair,
};
use fs_core::{Capabilities, MemoryFs, VPath};
use futures::future::LocalBoxFuture;

use common::{Altered, Change};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test_attr;

fn memory_pair() -> LocalBoxFuture<'static, Pair> {
    Box::pin(async { Pair::new(Arc::new(MemoryFs::new()), Arc::new(MemoryFs::new())) })
}

fn config() -> GenConfig {
    GenConfig::new(Capabilities::ALL)
}

#[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
#[cfg_attr(target_arch = "wasm32", test_attr)]
async fn memory_never_diverges_from_memory() {
    let make: &MakePair = &memory_pair;
    let report = explore(
        make,
        &Explore {
            max_sequences: 300,
            first_seed: 1,
            ..Explore::for_seconds(config(), 600)
        },
    )
    .await;
    report.assert_passed();
    assert_eq!(report.sequences, 300);
    assert!(report.steps > 300 * 10, "sequences are long: {report}");
}

#[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
#[cfg_attr(target_arch = "wasm32", test_attr)]
async fn generated_sequences_cover_every_kind_of_step() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        for op in generate(&config(), seed) {
            let name = format!("{op}");
            let head = name.split([' ', '.']).next().unwrap_or_default().to_owned();
            let head = if head.starts_with('h') || head.starts_with('s') && head.len() <= 3 {
                name.split(' ')
                    .next()
                    .unwrap_or_default()
                    .replace(|c: char| c.is_ascii_digit(), "")
            } else {
                head
            };
            seen.insert(head);
        }
    }
    for expected in [
        "write_file",
        "read_file",
        "stat",
        "exists",
        "access",
        "real_path",
        "read_dir",
        "make_dir",
        "remove",
        "rename",
        "copy_file",
        "copy",
        "truncate",
        "read_stream",
        "symlink",
        "read_link",
        "open",
        "h.read",
        "h.write",
        "h.seek",
        "h.truncate",
        "h.stat",
        "h.sync",
        "h.close",
        "sink",
        "s.write",
        "s.close",
        "s.abort",
    ] {
        assert!(
            seen.contains(expected),
            "no {expected} step in 200 sequences: {seen:?}"
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
#[cfg_attr(target_arch = "wasm32", test_attr)]
async fn capabilities_limit_the_steps() {
    let limited = GenConfig::new(Capabilities {
        symlinks: false,
        random_access_write: false,
        ..Capabilities::ALL
    });
    for seed in 0..200 {
        for op in generate(&limited, seed) {
            match op {
                Op::Symlink { .. } | Op::ReadLink { .. } => panic!("{op} without symlinks"),
                Op::Open { flag, .. } => assert!(!flag.writable(), "{op} without random access"),
                Op::FileWrite { .. } => panic!("{op} on a read-only handle"),
                _ => {}
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
#[cfg_attr(target_arch = "wasm32", test_attr)]
async fn text_form_round_trips() {
    for seed in 0..300 {
        let ops = generate(&config(), seed);
        let text = format!("# seed {seed}\n# second title line\n{}", format_ops(&ops));
        let parsed = parse_sequences(&text).expect("generated text parses");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].title, format!("seed {seed}\nsecond title line"));
        assert_eq!(parsed[0].ops, ops, "seed {seed}:\n{text}");
    }
    let two = parse_sequences("# one\nstat \"/a\"\n\n\n# two\nexists \"/e\\u{301}\"\nh0.close\n")
        .expect("two sequences");
    assert_eq!(two.len(), 2);
    assert_eq!(two[1].title, "two");
    assert_eq!(
        two[1].ops[0],
        Op::Exists {
            path: VPath::new("/e\u{301}").unwrap()
        }
    );
}

#[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
#[cfg_attr(target_arch = "wasm32", test_attr)]
async fn malformed_text_is_refused_with_its_line() {
    for (text, line, needle) in [
        ("stat \"/a\"\nfly \"/a\"", 2, "unknown step"),
        ("stat \"/a", 1, "not closed"),
        ("stat \"/a/../b\"", 1, "invalid path"),
        ("write_file \"/a\" 12 w", 1, "len#seed"),
        ("write_file \"/a\" 1#2 rw", 1, "open flag"),
        ("remove \"/a\" sideways", 1, "unexpected word"),
        ("h9x.read 3", 1, "slot"),
        ("h0.seek middle 3", 1, "start, current or end"),
        ("read_stream \"/a\" 0 all", 1, "argument"),
        ("stat \"/\\u{d800}\"", 1, "not a character"),
    ] {
        let err = parse_sequences(text).expect_err(text);
        assert_eq!(err.line, line, "{text}: {err}");
        assert!(err.message.contains(needle), "{text}: {err}");
    }
}

fn buggy_pair() -> LocalBoxFuture<'static, Pair> {
    Box::pin(async {
        Pair::new(
            Arc::new(MemoryFs::new()),
            Arc::new(Altered::new(Change::AppendingCopy)),
        )
    })
}

#[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
#[cfg_attr(target_arch = "wasm32", test_attr)]
async fn a_planted_bug_is_found_and_shrunk() {
    let make: &MakePair = &buggy_pair;
    let report = explore(
        make,
        &Explore {
            max_sequences: 2000,
            first_seed: 7,
            max_shrink_runs: 2000,
            ..Explore::for_seconds(config(), 600)
        },
    )
    .await;
    let failure = report.failure.expect("the planted bug is found");
    let shrunk = &failure.minimized.ops;
    assert!(
        shrunk.len() <= 6,
        "shrunk to a few steps, got {}:\n{}",
        shrunk.len(),
        failure.minimized
    );
    assert!(
        shrunk.iter().any(|op| matches!(op, Op::CopyFile { .. })),
        "the shrunk steps keep the copy:\n{}",
        failure.minimized
    );
    // What a regressions file would hold fails again on replay, and passes on a correct backend.
    let text = format!("# planted bug\n{}", format_ops(shrunk));
    assert!(run_fresh(make, shrunk).await.is_err());
    let correct: &MakePair = &memory_pair;
    assert_eq!(replay(correct, &text).await, 1);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let replayed =
            futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(replay(make, &text)));
        assert!(replayed.await.is_err(), "replay panics on a divergence");
    }
}
