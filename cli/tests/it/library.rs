//! The library example end to end, as a user drives it: `wbx build`,
//! `wbx exec` without an engine, `wbx run`, `wbx exec` and `wbx events`
//! through it, the read model and the DCB adapter over HTTP, the effect's
//! command, `wbx export` and `wbx import`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};

use crate::support::{Engine, project_copy, stderr, stdout, wait_for, wbx, wbx_command};
use serde_json::{Value, json};

fn library_copy() -> crate::support::ProjectCopy {
    project_copy("examples/library", "../../sdk")
}

fn exec(dir: &Path, command: &str, input: Value) -> Output {
    wbx(
        dir,
        &["exec", command, "--input", &input.to_string(), "--json"],
    )
}

fn exec_ok(dir: &Path, command: &str, input: Value) -> Value {
    let output = exec(dir, command, input);
    assert!(output.status.success(), "{command}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `wbx exec` without `--input`: the error says no input was given and how
/// to give one, not where in `{}` the guest stopped reading.
fn no_input_is_named(dir: &Path) {
    let output = wbx(dir, &["exec", "add-book"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "error: add-book: invalid input: no --input was given (the command got `{}`): \
         missing field `book_id`; give one with --input JSON or --input @FILE"
    );
    // An input given, even `{}`, is the user's: the guest's words as they are.
    let output = wbx(dir, &["exec", "add-book", "--input", "{}"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("error: invalid input: missing field `book_id` at line 1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_library_runs_end_to_end() {
    let project = library_copy();
    let dir = project.path();
    let output = wbx(dir, &["build"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // Without an engine, commands run on the project's store.
    let added = exec_ok(
        dir,
        "add-book",
        json!({"book_id": "dune", "title": "Dune", "copies": 1}),
    );
    assert_eq!(added["position"], 1);
    let output = exec(
        dir,
        "add-book",
        json!({"book_id": "dune", "title": "Dune", "copies": 1}),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "error: rejected: book 'dune' is already in the catalog"
    );
    no_input_is_named(dir);
    let output = wbx(dir, &["events"]);
    assert!(
        stdout(&output).contains("BookAdded  [book_id:dune]"),
        "{}",
        stdout(&output)
    );
    // A text, in any case, through the store's text index.
    let output = wbx(dir, &["events", "--grep", "DUNE"]);
    assert!(stdout(&output).contains("BookAdded"), "{}", stdout(&output));
    let output = wbx(dir, &["events", "--grep", "not in any event"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let output = wbx(dir, &["events", "--follow"]);
    assert!(
        stderr(&output).contains("--follow needs a running engine"),
        "{}",
        stderr(&output)
    );

    let engine = Engine::start(dir, &["run", "--no-build"]);
    let modules = engine.get("/api/modules");
    assert_eq!(modules.as_array().unwrap().len(), 7);
    assert!(
        modules
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "running"),
        "{modules}"
    );

    let mut follow = wbx_command(
        dir,
        &["events", "--follow", "--json", "--type", "BadgeAwarded"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();

    exec_ok(
        dir,
        "register-member",
        json!({"member_id": "ada", "name": "Ada"}),
    );
    exec_ok(
        dir,
        "register-member",
        json!({"member_id": "bo", "name": "Bo"}),
    );
    let lent = exec_ok(
        dir,
        "lend-book",
        json!({"book_id": "dune", "member_id": "ada"}),
    );
    assert_eq!(
        lent["events"][0]["tags"],
        json!(["book_id:dune", "member_id:ada"])
    );
    let output = exec(
        dir,
        "lend-book",
        json!({"book_id": "dune", "member_id": "bo"}),
    );
    assert_eq!(
        stderr(&output).trim(),
        "error: rejected: all 1 copies of 'dune' are on loan"
    );
    // The running engine's log, searched: Ada's registration and her loan.
    let output = wbx(
        dir,
        &[
            "events",
            "--grep",
            "\"ADA\"",
            "--json",
            "--type",
            "MemberRegistered",
            "--type",
            "BookLent",
        ],
    );
    let found: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let types: Vec<&str> = found.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["MemberRegistered", "BookLent"],
        "{}",
        stdout(&output)
    );
    let output = exec(dir, "lend-book", json!({"book_id": "dune"}));
    assert!(
        stderr(&output).contains("error: invalid input: missing field `member_id`"),
        "{}",
        stderr(&output)
    );
    no_input_is_named(dir);

    // Three returns earn Ada a badge, awarded by the effect's command.
    let mut last_return = Value::Null;
    for round in 0..3 {
        if round > 0 {
            exec_ok(
                dir,
                "lend-book",
                json!({"book_id": "dune", "member_id": "ada"}),
            );
        }
        last_return = exec_ok(
            dir,
            "return-book",
            json!({"book_id": "dune", "member_id": "ada"}),
        );
    }
    let line = BufReader::new(follow.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = follow.kill();
    let _ = follow.wait();
    let badge: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        badge["data"],
        json!({"member_id": "ada", "badge": "reader"})
    );
    let trigger = &last_return["events"][0];
    assert_eq!(badge["triggering_event_id"], trigger["id"]);
    assert_eq!(badge["correlation_id"], trigger["correlation_id"]);
    assert_eq!(badge["idempotency_key"], "badge-reader-ada");

    // The read model, once the projector has caught up with the badge.
    let head = badge["position"].as_u64().unwrap();
    wait_for("the catalog to catch up", || {
        engine.get("/api/projectors")[0]["position"].as_u64() == Some(head)
    });
    assert_eq!(engine.get("/api/projectors")[0]["state"], "live");
    let members = engine.get("/api/projectors/catalog/query?sql=SELECT%20member_id,%20holding,%20loans%20FROM%20members%20ORDER%20BY%20member_id");
    assert_eq!(members["rows"], json!([["ada", 0, 3], ["bo", 0, 0]]));
    let badges = engine.get("/api/projectors/catalog/query?sql=SELECT%20*%20FROM%20badges");
    assert_eq!(badges["rows"], json!([["ada", "reader"]]));

    // The DCB adapter: read the last loan of the book, then append with it as the condition.
    let query = json!({"items": [{"types": ["BookLent"], "tags": ["book_id:dune"]}]});
    let last_loan = ureq::get(format!("{}/dcb/read", engine.api))
        .query("query", query.to_string())
        .query(
            "options",
            json!({"backwards": true, "limit": 1}).to_string(),
        )
        .call()
        .unwrap()
        .into_body()
        .read_json::<Value>()
        .unwrap();
    let after = last_loan[0]["position"].as_u64().unwrap();
    let append = |after: u64| {
        let body = json!({
            "events": [{"type": "BookLent", "tags": ["book_id:dune"], "data": {"note": "via dcb"}}],
            "condition": {"failIfEventsMatch": query, "after": after},
        });
        ureq::post(format!("{}/dcb/append", engine.api))
            .send_json(body)
            .unwrap()
            .into_body()
            .read_json::<Value>()
            .unwrap()
    };
    assert_eq!(append(after)["appendConditionFailed"], false);
    assert_eq!(
        append(after)["appendConditionFailed"],
        true,
        "the first append is now after `after`"
    );

    let output = wbx(dir, &["import", "/dev/null"]);
    assert!(
        stderr(&output).contains("stop it before importing"),
        "{}",
        stderr(&output)
    );
    // A follower still connected does not hold the engine up when it stops.
    let mut follower = wbx_command(dir, &["events", "--follow", "--from", "1", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    assert!(lines.next().is_some(), "the follower is connected");
    assert!(engine.stop().success());
    let _ = follower.kill();
    let _ = follower.wait();
    assert!(
        !dir.join(".wbx/engine.json").exists(),
        "engine.json is removed on stop"
    );

    // Export, import into a fresh copy, and the histories are the same.
    let history = dir.join("history.jsonl");
    let output = wbx(dir, &["export", "--output", history.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let other = library_copy();
    let output = wbx(other.path(), &["import", history.to_str().unwrap()]);
    assert!(
        stdout(&output).starts_with(&format!("imported {} events", head + 1)),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let listing = |dir: &Path| stdout(&wbx(dir, &["events", "--json"]));
    assert_eq!(listing(other.path()), listing(dir));
}

#[test]
fn a_bad_history_is_refused_whole_with_its_line() {
    let project = library_copy();
    let dir = project.path();
    let history = dir.join("bad.jsonl");
    let good = r#"{"position":1,"id":"a","type":"BookAdded","tags":["book:x"],"data":{},"timestamp":"2026-01-01T00:00:00.000Z"}"#;
    std::fs::write(&history, format!("{good}\n{{\"position\": 2}}\n")).unwrap();
    let output = wbx(dir, &["import", history.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("bad.jsonl:2: not an event"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&wbx(dir, &["events"])), "", "nothing was imported");
}
