//! The event store on PostgreSQL as a team uses it: a SQLite history moved
//! in with `wbx import`, two engines (two developers' copies of a project)
//! on one database, each seeing the other's commands at once; and
//! `wbx doctor`'s check of the store.

use std::path::Path;

use serde_json::{Value, json};

use crate::postgres_support;
use crate::support::{Engine, project_copy, stderr, stdout, wait_for, wbx, wbx_command};

fn exec(dir: &Path, command: &str, input: Value) {
    let output = wbx(dir, &["exec", command, "--input", &input.to_string()]);
    assert!(output.status.success(), "{command}: {}", stderr(&output));
}

fn events(engine: &Engine) -> Vec<Value> {
    engine
        .get("/api/events?limit=1000")
        .as_array()
        .unwrap()
        .clone()
}

/// The last event's id, as an engine's API serves it.
fn last_id(engine: &Engine) -> Option<String> {
    events(engine)
        .last()
        .and_then(|e| e["id"].as_str())
        .map(str::to_owned)
}

/// The `event store` check of `wbx doctor --json`'s report.
fn store_check(output: &std::process::Output) -> Value {
    doctor_check(output, "event store")
}

/// The check named `name` of `wbx doctor --json`'s report.
fn doctor_check(output: &std::process::Output, name: &str) -> Value {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} check: {report}"))
}

#[test]
fn two_engines_share_one_postgres_store_after_importing_the_sqlite_history() {
    let url = postgres_support::database();
    let a = project_copy("examples/library", "../../sdk");
    let b = project_copy("examples/library", "../../sdk");
    for project in [&a, &b] {
        let output = wbx(project.path(), &["build"]);
        assert!(output.status.success(), "{}", stderr(&output));
    }

    // A history in the embedded SQLite store, exported.
    let engine = Engine::start(a.path(), &["run", "--no-build"]);
    exec(
        a.path(),
        "add-book",
        json!({"book_id": "dune", "title": "Dune", "copies": 2}),
    );
    exec(
        a.path(),
        "register-member",
        json!({"member_id": "ada", "name": "Ada"}),
    );
    let history = events(&engine);
    engine.stop();
    let output = wbx(a.path(), &["export", "--output", "history.jsonl"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // One line in each copy's wbx.toml, and the history imported.
    for project in [&a, &b] {
        let manifest = project.path().join("wbx.toml");
        let mut text = std::fs::read_to_string(&manifest).unwrap();
        text.push_str(&format!("\n[store]\nurl = \"{url}\"\n"));
        std::fs::write(&manifest, text).unwrap();
    }
    let output = wbx(a.path(), &["import", "history.jsonl"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("imported {} events", history.len())),
        "{}",
        stdout(&output)
    );
    let output = wbx(b.path(), &["export"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let from_postgres: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        from_postgres, history,
        "the other copy reads the same history"
    );

    // Two engines, one database: each sees the other's commands.
    let (ea, eb) = (
        Engine::start(a.path(), &["run", "--no-build"]),
        Engine::start(b.path(), &["run", "--no-build"]),
    );
    exec(
        a.path(),
        "lend-book",
        json!({"book_id": "dune", "member_id": "ada"}),
    );
    let lent = last_id(&ea);
    assert!(events(&ea).len() > history.len());
    wait_for("B to see A's command", || last_id(&eb) == lent);
    // B's own followers (the Events pane, this output) hear of it too.
    eb.expect_line("B to hear of A's append", |line| {
        line.contains("by another engine")
    });
    exec(
        b.path(),
        "return-book",
        json!({"book_id": "dune", "member_id": "ada"}),
    );
    let returned = last_id(&eb);
    assert_ne!(returned, lent);
    wait_for("A to see B's command", || last_id(&ea) == returned);
    // Each engine's read model, local to it, followed the shared log.
    let head = events(&ea).len() as u64;
    for engine in [&ea, &eb] {
        wait_for("the catalog to catch up", || {
            engine.get("/api/projectors")[0]["position"].as_u64() == Some(head)
        });
    }

    let output = wbx(b.path(), &["doctor", "--json"]);
    let store = store_check(&output);
    assert_eq!(store["ok"], true, "{store}");
    assert!(
        store["detail"]
            .as_str()
            .unwrap()
            .starts_with("postgres: postgres://wbx@127.0.0.1:"),
        "{store}"
    );
    ea.stop();
    eb.stop();
}

#[test]
fn doctor_says_how_to_fix_a_store_it_cannot_reach() {
    let project = project_copy("examples/library", "../../sdk");
    let output = wbx_command(project.path(), &["doctor", "--json"])
        .env("WBX_STORE_URL", "postgres://wbx@127.0.0.1:1/nowhere")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let store = store_check(&output);
    assert_eq!(store["ok"], false);
    assert!(
        store["fix"]
            .as_str()
            .unwrap()
            .starts_with("start PostgreSQL at that host and port"),
        "{store}"
    );

    let output = wbx_command(project.path(), &["events"])
        .env("WBX_STORE_URL", "mysql://somewhere/db")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "WBX_STORE_URL (which wins over [store] url): mysql://somewhere/db is not a store URL"
        ),
        "{}",
        stderr(&output)
    );
}

/// The SQLite store's text index is a cache: a damaged one is made again,
/// and one that cannot be made is named by `wbx doctor` while search goes
/// on by scanning the log.
#[test]
fn a_text_index_that_cannot_be_made_is_named_and_search_still_finds() {
    let project = project_copy("examples/library", "../../sdk");
    let dir = project.path();
    let event = r#"{"position":1,"id":"a","type":"BookAdded","tags":["book:dune"],"data":{"title":"Dune"},"timestamp":"2026-01-01T00:00:00.000Z"}"#;
    std::fs::write(dir.join("history.jsonl"), format!("{event}\n")).unwrap();
    let output = wbx(dir, &["import", "history.jsonl"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let index = dir.join(".wbx/events.search.sqlite");
    let remove_index = || {
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", index.display());
            let _ = std::fs::remove_file(file);
        }
    };

    // A directory where the index's file should be: it cannot be deleted.
    remove_index();
    std::fs::create_dir_all(index.join("kept")).unwrap();
    let output = wbx(dir, &["doctor", "--json"]);
    assert!(!output.status.success(), "{}", stdout(&output));
    assert_eq!(store_check(&output)["ok"], true, "{}", stdout(&output));
    let check = doctor_check(&output, "search index");
    assert_eq!(check["ok"], false, "{check}");
    let detail = check["detail"].as_str().unwrap();
    assert!(
        detail.contains("events.search.sqlite") && detail.contains("search scans the log"),
        "{check}"
    );
    assert!(
        check["fix"].as_str().unwrap().starts_with("move "),
        "{check}"
    );
    let output = wbx(dir, &["events", "--grep", "dune", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("BookAdded"), "{}", stdout(&output));

    // A damaged file is made again.
    std::fs::remove_dir_all(&index).unwrap();
    std::fs::write(&index, "not a database").unwrap();
    let output = wbx(dir, &["doctor", "--json"]);
    let check = doctor_check(&output, "search index");
    assert_eq!(check["ok"], true, "{check}");
    let output = wbx(dir, &["events", "--grep", "dune", "--json"]);
    assert!(stdout(&output).contains("BookAdded"), "{}", stdout(&output));
}
