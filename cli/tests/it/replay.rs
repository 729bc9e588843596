//! `wbx replay` on the library example: a recorded history replays to the
//! live read model, `--to` and `--from-file`, two versions diffed row by row
//! (`--against build`, which leaves the project's build as it was, and a
//! version kept from an earlier run), and a trapping handler named by its
//! event.

use std::path::Path;

use crate::support::{Engine, edit, project_copy, stderr, wait_for, wbx};
use serde_json::{Value, json};

fn replay(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["replay", "catalog", "--json"];
    all.extend_from_slice(args);
    let output = wbx(dir, &all);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn table<'a>(model: &'a Value, name: &str) -> &'a Value {
    model["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {model}"))
}

#[test]
fn replays_match_the_live_read_model_and_diff_versions() {
    let project = project_copy("examples/library", "../../sdk");
    let dir = project.path();
    let output = wbx(dir, &["build", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let artifact = report["built"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["module"] == "catalog")
        .and_then(|b| b["artifact"].as_str())
        .map(std::path::PathBuf::from)
        .unwrap();

    // A history recorded by the running engine, and its live read model.
    let engine = Engine::start(dir, &["run", "--no-build"]);
    for (command, input) in [
        (
            "add-book",
            json!({"book_id": "dune", "title": "Dune", "copies": 2}),
        ),
        (
            "add-book",
            json!({"book_id": "emma", "title": "Emma", "copies": 1}),
        ),
        (
            "register-member",
            json!({"member_id": "ada", "name": "Ada"}),
        ),
        ("lend-book", json!({"book_id": "dune", "member_id": "ada"})),
        ("lend-book", json!({"book_id": "emma", "member_id": "ada"})),
        (
            "return-book",
            json!({"book_id": "dune", "member_id": "ada"}),
        ),
    ] {
        let output = wbx(dir, &["exec", command, "--input", &input.to_string()]);
        assert!(output.status.success(), "{command}: {}", stderr(&output));
    }
    let head = engine
        .get("/api/events?limit=1000")
        .as_array()
        .unwrap()
        .len() as u64;
    wait_for("the catalog to catch up", || {
        engine.get("/api/projectors")[0]["position"].as_u64() == Some(head)
    });
    engine.stop();
    let live =
        wbx_engine::replay::read_model::read(&dir.join(".wbx/projectors/catalog.sqlite")).unwrap();
    let live = serde_json::to_value(live).unwrap();

    let whole = replay(dir, &[]);
    assert_eq!(
        whole["replays"][0]["read_model"], live,
        "replay equals the live read model"
    );
    assert_eq!(whole["replays"][0]["events"].as_u64(), Some(head));
    assert!(whole["diff"].is_null());

    // --to: the read model as it was at position 4 (dune lent, emma not yet).
    let early = replay(dir, &["--to", "4"]);
    let books = &table(&early["replays"][0]["read_model"], "books")["rows"];
    assert_eq!(
        books,
        &json!([
            ["'dune'", "'Dune'", "2", "1"],
            ["'emma'", "'Emma'", "1", "0"]
        ])
    );

    // --from-file: an exported history replays to the same read model.
    let exported = wbx(dir, &["export"]);
    assert!(exported.status.success());
    let history = dir.join("history.jsonl");
    std::fs::write(&history, &exported.stdout).unwrap();
    let from_file = replay(dir, &["--from-file", history.to_str().unwrap()]);
    assert_eq!(from_file["replays"][0]["read_model"], live);

    // A changed handler: exactly the rows it changes differ.
    let catalog = dir.join("catalog/src/lib.rs");
    edit(
        &catalog,
        "UPDATE books SET on_loan = on_loan - 1",
        "UPDATE books SET on_loan = on_loan - 0",
    );
    let built_bytes = std::fs::read(&artifact).unwrap();
    let against = replay(dir, &["--against", "build"]);
    assert_eq!(
        against["diff"],
        json!([{
            "table": "books",
            "columns": ["book_id", "title", "copies", "on_loan"],
            "added": [],
            "removed": [],
            "changed": [[["'dune'", "'Dune'", "2", "0"], ["'dune'", "'Dune'", "2", "1"]]],
        }])
    );
    assert_eq!(
        against["summary"],
        json!({"added": 0, "removed": 0, "changed": 1, "tables_changed": 1})
    );
    // `--against build` built the working tree elsewhere: the project's own
    // build is byte for byte the one from before, and a plain replay still
    // replays the version that ran.
    assert!(
        std::fs::read(&artifact).unwrap() == built_bytes,
        "--against build changed {}",
        artifact.display()
    );
    let old = whole["replays"][0]["version"].as_str().unwrap();
    let after = replay(dir, &[]);
    assert_eq!(after["replays"][0]["version"].as_str(), Some(old));
    assert_eq!(after["replays"][0]["read_model"], live);

    // Built for real, the change is the built version; the version that ran
    // is kept: replay against it, the other way round.
    assert!(wbx(dir, &["build", "catalog"]).status.success());
    assert!(std::fs::read(&artifact).unwrap() != built_bytes);
    let back = replay(dir, &["--against", old]);
    assert_eq!(
        back["diff"][0]["changed"],
        json!([[
            ["'dune'", "'Dune'", "2", "1"],
            ["'dune'", "'Dune'", "2", "0"]
        ]])
    );
    let text = wbx(dir, &["replay", "catalog", "--against", old]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("- ('dune', 'Dune', 2, 1)") && text.contains("+ ('dune', 'Dune', 2, 0)"),
        "{text}"
    );
    assert!(
        text.contains("0 rows added, 0 removed, 1 changed in 1 of 3 tables"),
        "{text}"
    );

    // A handler that traps: the error names the event.
    edit(
        &catalog,
        "} else if let Some(l) = event.decode::<BookLent>() {",
        "} else if let Some(l) = event.decode::<BookLent>() {\n        \
         if l.book_id == \"emma\" { panic!(\"no lending emma\") }",
    );
    assert!(wbx(dir, &["build", "catalog"]).status.success());
    let failed = wbx(dir, &["replay", "catalog"]);
    assert!(!failed.status.success());
    let error = stderr(&failed);
    assert!(
        error.contains("failed on the event at position 5 (BookLent)")
            && error.contains("no lending emma"),
        "{error}"
    );

    let output = wbx(dir, &["replay", "loyalty"]);
    assert!(stderr(&output).contains("'loyalty' is not a projector"));
    let output = wbx(dir, &["replay", "catalog", "--against", "nope"]);
    assert!(
        stderr(&output).contains("kept versions: 0.1.0+"),
        "{}",
        stderr(&output)
    );
}
