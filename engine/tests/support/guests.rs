//! The test guests under `engine/tests/guests`, built from source once per
//! test run into the shared `target/wasm-guests` directory. Used by the
//! engine crates' tests and the CLI's.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root: the nearest directory above the crate under test
/// that holds the test guests.
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("engine/tests/guests/Cargo.toml").is_file())
        .expect("the test guests are in engine/tests/guests")
}

/// The path of a built guest component, building all guests on first use.
/// Cargo's own lock and fingerprints make concurrent test binaries share one build.
pub fn guest(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let target = repo_root().join("target/wasm-guests");
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(repo_root().join("engine/tests/guests/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("running cargo to build the test guests");
        assert!(status.success(), "building the test guests failed");
        target.join("wasm32-wasip2/debug")
    });
    // A library's component has `_` for `-`; a binary's keeps its name.
    let library = dir.join(format!("{}.wasm", name.replace('-', "_")));
    if library.is_file() {
        library
    } else {
        dir.join(format!("{name}.wasm"))
    }
}

pub fn guest_bytes(name: &str) -> Vec<u8> {
    std::fs::read(guest(name)).expect("reading a built guest")
}
