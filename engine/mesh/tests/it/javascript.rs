//! A service written in JavaScript, componentized with the Bytecode
//! Alliance's componentize-js, runs unchanged: where node and npm are on the
//! machine. Without them the test says so and checks nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::routing::{mesh_of, send};

fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds `engine/tests/guests-js/hello` into the shared guests directory.
fn build_js_hello() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/guests-js/hello");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm-guests/js-hello.wasm");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let run = |args: &[&str]| {
        let output = Command::new("npm")
            .args(args)
            .current_dir(&source)
            .output()
            .expect("running npm");
        assert!(
            output.status.success(),
            "npm {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(&["ci", "--no-audit", "--no-fund"]);
    let out_arg = out.to_str().unwrap();
    run(&[
        "exec",
        "--",
        "componentize-js",
        "hello.js",
        "--wit",
        "wit",
        "--world-name",
        "hello",
        "--out",
        out_arg,
    ]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the test's own note on why it checked nothing
async fn a_javascript_service_answers_and_is_called_by_another() {
    if !npm_available() {
        eprintln!("npm is not on this machine: the JavaScript service is not tested");
        return;
    }
    let component = tokio::task::spawn_blocking(build_js_hello).await.unwrap();
    let mesh = mesh_of(
        &[("js", &component), ("echo", &crate::support::guest("echo"))],
        "",
    );
    let (status, _, body) = send(&mesh, "GET", "http://test.js/", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from js"));
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/call/test.js/", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from js"));
}
