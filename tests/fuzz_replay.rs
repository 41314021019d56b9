//! Replays the committed fuzz inputs (`fuzz/seeds/<target>/` and
//! `fuzz/regressions/<target>/`) through the fuzz target bodies, on stable.

// The target bodies, compiled here with the root's dev-dependencies; their
// `pub` items serve the fuzz crate's binaries.
#[allow(dead_code, unreachable_pub)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::{Path, PathBuf};

/// A target body: runs one raw input, panicking on a failed check.
type Body = fn(&[u8]);

/// The input files of `target` under `fuzz/<kind>/`, sorted (none if the
/// directory is absent). Dot-files and `README*` are not inputs.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            path.is_file() && !name.starts_with('.') && !name.starts_with("README")
        })
        .collect();
    paths.sort();
    paths
}

/// Runs `body` on one input file; a panic names the file and how to trace it.
fn replay_one(target: &str, body: Body, path: &Path) {
    let data = std::fs::read(path).expect("readable input file");
    if std::panic::catch_unwind(|| body(&data)).is_err() {
        panic!(
            "fuzz input {} failed; see it with `cargo +nightly fuzz fmt {target} {}`, \
             trace it with FORTHCOMING_FUZZ_TRACE=1",
            path.display(),
            path.display()
        );
    }
}

/// Replays every seed and regression of `target`.
fn replay(target: &str, body: Body) {
    let seeds = inputs("seeds", target);
    assert!(!seeds.is_empty(), "no seed inputs for fuzz target {target}");
    for path in seeds.iter().chain(&inputs("regressions", target)) {
        replay_one(target, body, path);
    }
}

#[test]
fn replay_ops() {
    replay("ops", fuzz::ops::run_bytes);
}

#[test]
fn replay_threads() {
    replay("threads", fuzz::threads::run_bytes);
}

#[test]
fn replay_async_poll() {
    replay("async_poll", fuzz::async_poll::run_bytes);
}
