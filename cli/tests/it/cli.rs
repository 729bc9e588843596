//! The `wbx` binary as a user runs it: `--help`, `wbx build` on the example
//! project and on a broken one, `wbx doctor` in and out of projects.

use std::path::PathBuf;

use crate::support::{project_copy, repo_root, wbx};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of the library example, to build.
fn example() -> crate::support::ProjectCopy {
    project_copy("examples/library", "../../sdk")
}

#[test]
fn help_lists_the_commands() {
    let output = wbx(&repo_root(), &["--help"]);
    assert!(output.status.success());
    insta::assert_snapshot!("help", text(&output.stdout));
}

#[test]
fn build_help_documents_its_flags() {
    let output = wbx(&repo_root(), &["build", "--help"]);
    assert!(output.status.success());
    insta::assert_snapshot!("build_help", text(&output.stdout));
}

#[test]
fn build_produces_components_the_engine_runs() {
    let example = example();
    let output = wbx(example.path(), &["build", "--json"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("built lend-book"), "{stderr}");
    assert!(stderr.contains("built catalog"), "{stderr}");
    assert!(stderr.contains("\n7 modules built in"), "{stderr}");

    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["success"], true);
    let built = report["built"].as_array().unwrap();
    let mut names: Vec<_> = built
        .iter()
        .map(|b| b["module"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "add-book",
            "award-badge",
            "catalog",
            "lend-book",
            "loyalty",
            "register-member",
            "return-book"
        ]
    );

    // What `wbx build` reports is where the components are; the engine runs
    // them (a command decides on its input here; the library tests run the
    // projector and the effect).
    for module in built {
        assert!(
            PathBuf::from(module["artifact"].as_str().unwrap()).is_file(),
            "{module}"
        );
    }
    let input = r#"{"book_id":"dune","member_id":"ada"}"#;
    let output = wbx(example.path(), &["exec", "lend-book", "--input", input]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("rejected: no book 'dune' in the catalog"),
        "{stderr}"
    );
}

#[test]
fn build_of_named_modules_builds_only_those() {
    let example = example();
    let output = wbx(example.path(), &["build", "catalog", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let built = report["built"].as_array().unwrap();
    assert_eq!(built.len(), 1);
    assert_eq!(built[0]["module"], "catalog");

    assert!(text(&output.stderr).contains("\n1 module built in"));

    let output = wbx(example.path(), &["build", "nope"]);
    assert!(!output.status.success());
    assert_eq!(
        text(&output.stderr).trim(),
        "error: no module named 'nope' in this project; modules: add-book, award-badge, \
         catalog, lend-book, loyalty, register-member, return-book"
    );
}

#[test]
fn a_compile_error_is_shown_and_fails_the_build() {
    let broken = project_copy("cli/tests/fixtures/broken", "../../../../../sdk");
    let output = wbx(broken.path(), &["build"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error[E0308]: mismatched types"),
        "{stderr}"
    );
    assert!(stderr.contains("oops/src/lib.rs:4:5"), "{stderr}");
    assert!(stderr.contains("failed oops  1 error"), "{stderr}");
    assert!(
        stderr.contains("error: 1 of 1 module failed to build: oops"),
        "{stderr}"
    );
}

#[test]
fn build_outside_a_project_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let output = wbx(dir.path(), &["build"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: not inside a wbx project: no wbx.toml in "),
        "{stderr}"
    );
}

#[test]
fn doctor_in_a_project_checks_its_modules() {
    let output = wbx(&repo_root().join("examples/library"), &["doctor"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for line in [
        "ok   cargo ",
        "ok   rustc ",
        "ok   wasm32-wasip2 target  installed",
        "ok   guest crates          add-book (command), award-badge (command), catalog \
         (projector), lend-book (command), loyalty (effect), register-member (command), \
         return-book (command)",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

#[test]
fn doctor_outside_a_project_checks_the_toolchain_only() {
    let dir = tempfile::tempdir().unwrap();
    let output = wbx(dir.path(), &["doctor", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["project"], serde_json::Value::Null);
    let names: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cargo", "rustc", "wasm32-wasip2 target"]);
}

#[test]
fn doctor_names_each_problem_of_a_bad_project_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("wbx.toml"),
        "[project]\nname = \"bad\"\n\n[engine]\nmemory = 5\n",
    )
    .unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"typo\", \"nolib\"]\n",
    )
    .unwrap();
    for (name, kind) in [("typo", "comand"), ("nolib", "effect")] {
        std::fs::create_dir_all(root.join(name).join("src")).unwrap();
        std::fs::write(root.join(name).join("src/lib.rs"), "").unwrap();
        std::fs::write(
            root.join(name).join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [package.metadata.wbx]\nkind = \"{kind}\"\n"
            ),
        )
        .unwrap();
    }

    let output = wbx(root, &["doctor"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL wbx.toml"), "{stdout}");
    assert!(
        stdout.contains("wbx.toml:5:1: unknown field `memory`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("typo/Cargo.toml: [package.metadata.wbx] kind: unknown kind 'comand', expected one of: command, projector"),
        "{stdout}"
    );
    assert!(
        stdout.contains("nolib/Cargo.toml: a guest crate must build a component: add `[lib] crate-type = [\"cdylib\"]`"),
        "{stdout}"
    );
    assert!(stdout.contains("fix: "), "{stdout}");

    // The same project refuses to build, listing both crate problems.
    let output = wbx(root, &["build"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("wbx.toml:5:1: unknown field `memory`"),
        "{stderr}"
    );
}
