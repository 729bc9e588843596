//! The actors model as a new user meets it, end to end: a project made
//! with `wbx new --template actors` runs under `wbx dev --no-tui`, takes
//! messages and calls through the control API, fills and drains a
//! mailbox, has a killed worker and a crashed one restarted by their
//! supervisor, and moves its counter to an edited version that answers
//! with the new code on the old count. Also the chat example
//! (`examples/actors`): its scenarios pass, and under `wbx run` rooms,
//! members and the moderator behave as its README says.
//!
//! Every wait is on a signal (a printed line, the process table), bounded
//! generously; none is a fixed sleep.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Engine, edit, project_copy, stderr, stdout, template_turn, wait_for, wbx};

/// Runs wbx and insists it succeeds; its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = wbx(dir, args);
    assert!(
        output.status.success(),
        "wbx {args:?} failed:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// `POST /api/actors/{target}/{action}` with `body`; the answer, which
/// must be a success.
fn post(engine: &Engine, target: &str, action: &str, body: &Value) -> Value {
    ureq::post(format!("{}/api/actors/{target}/{action}", engine.api))
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("{action} {target} {body}: {e}"))
        .into_body()
        .read_json()
        .unwrap()
}

fn send(engine: &Engine, target: &str, message: Value) {
    let answer = post(engine, target, "send", &message);
    assert_eq!(answer["delivered"], true, "{answer}");
}

fn call(engine: &Engine, target: &str, message: Value) -> Value {
    post(engine, target, "call", &message)
}

fn kill(engine: &Engine, target: &str) -> String {
    let answer = ureq::post(format!("{}/api/actors/{target}/kill", engine.api))
        .send_empty()
        .unwrap_or_else(|e| panic!("kill {target}: {e}"))
        .into_body()
        .read_json::<Value>()
        .unwrap();
    answer["killed"].as_str().unwrap().to_owned()
}

/// The row of `GET /api/actors` registered as `name`, if a process holds it.
fn process(engine: &Engine, name: &str) -> Option<Value> {
    engine
        .get("/api/actors")
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
}

/// Waits until the process registered as `name` is up again under a pid
/// other than `old`; its row.
fn restarted(engine: &Engine, name: &str, old: &str) -> Value {
    let mut row = None;
    wait_for(&format!("{name} restarted"), || {
        row = process(engine, name).filter(|p| p["pid"] != old && p["status"] == "idle");
        row.is_some()
    });
    row.unwrap()
}

/// A tree node as `name (children…)`, for comparing shapes.
fn shape(node: &Value) -> String {
    let name = node["name"].as_str().unwrap_or("?");
    let children: Vec<String> = node["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(shape)
        .collect();
    if children.is_empty() {
        name.to_owned()
    } else {
        format!("{name} ({})", children.join(", "))
    }
}

#[test]
fn a_new_actors_project_restarts_what_dies_and_swaps_the_counter_keeping_its_count() {
    // It edits the counter: no other test builds the template meanwhile.
    let _turn = template_turn("actors");
    let home = tempfile::tempdir().unwrap();
    ok(
        home.path(),
        &["new", "demo", "--template", "actors", "--yes"],
    );
    let dir = home.path().join("demo");
    // Built first, so `wbx dev`'s own build is quick and the engine starts
    // within `Engine::start`'s bound.
    ok(&dir, &["build"]);
    let dev = Engine::start(&dir, &["dev", "--no-tui"]);
    dev.expect_line("watching", |l| l.starts_with("dev: watching"));

    // The tree of wbx.toml, started at boot, every process registered.
    let mut trees = Value::Null;
    wait_for("the supervision tree", || {
        trees = dev.get("/api/actors/tree");
        trees
            .as_array()
            .unwrap()
            .iter()
            .map(shape)
            .collect::<Vec<_>>()
            == ["root (counter, pool (worker-1, worker-2, worker-3))"]
    });

    // A cast, then a call to a worker that calls the counter in turn.
    send(&dev, "counter", json!({ "add": 2 }));
    assert_eq!(
        call(&dev, "worker-1", json!({ "words": "one two three" })),
        json!({ "worker": "worker-1", "words": 3, "count": 5 })
    );

    // A mailbox fills behind a slow handler, then drains.
    for _ in 0..4 {
        send(&dev, "worker-1", json!({ "nap": 500 }));
    }
    let mut row = Value::Null;
    wait_for("worker-1's mailbox to drain", || {
        row = process(&dev, "worker-1").unwrap();
        row["mailbox"] == 0 && row["status"] == "idle"
    });
    assert!(
        row["mailbox_high"].as_u64().unwrap() >= 2,
        "the naps queued up: {row}"
    );
    assert_eq!(row["handled"], 5, "{row}");

    // A killed worker: its supervisor starts another under the same name.
    let old = process(&dev, "worker-2").unwrap()["pid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kill(&dev, "worker-2"), old);
    let row = restarted(&dev, "worker-2", &old);
    assert_eq!(row["restarts"], 1, "{row}");
    assert_eq!(row["last_exit"], "killed", "{row}");
    assert_eq!(row["module"], "worker", "{row}");
    // A worker whose handler fails: the same, with its reason.
    let old = process(&dev, "worker-3").unwrap()["pid"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&dev, "worker-3", json!({ "crash": "on purpose" }));
    let row = restarted(&dev, "worker-3", &old);
    assert_eq!(row["restarts"], 1, "{row}");
    assert_eq!(row["last_exit"], "on purpose", "{row}");
    // The restarted worker works; the counter never noticed.
    assert_eq!(
        call(&dev, "worker-2", json!({ "words": "four" })),
        json!({ "worker": "worker-2", "words": 1, "count": 6 })
    );
    let counter = process(&dev, "counter").unwrap();
    assert_eq!(counter["restarts"], 0, "{counter}");

    // The counter edited: it adds ten times what it is sent from now on.
    edit(
        &dir.join("counter/src/lib.rs"),
        "self.count += n",
        "self.count += 10 * n",
    );
    dev.expect_line("counter's reload", |l| l.starts_with("reloaded counter"));
    wait_for("the counter's process on the new version", || {
        let now = process(&dev, "counter").unwrap();
        now["version"] != counter["version"] && now["status"] == "idle"
    });
    // The new code on the old count: 6 + 10 × 1, from the same process.
    assert_eq!(
        call(&dev, "counter", json!({ "add": 1 })),
        json!({ "count": 16 })
    );
    let swapped = dev.get("/api/actors/counter");
    assert_eq!(swapped["pid"], counter["pid"], "{swapped}");
    assert_eq!(
        swapped["restarts"], 0,
        "the state was handed over: {swapped}"
    );
    assert_eq!(swapped["state"], json!({ "count": 16 }), "{swapped}");
    // The workers reach the new version by its name.
    assert_eq!(
        call(&dev, "worker-1", json!({ "words": "five six" })),
        json!({ "worker": "worker-1", "words": 2, "count": 36 })
    );
    dev.stop();
}

#[test]
fn the_chat_example_passes_its_scenarios_and_chats_under_wbx_run() {
    let project = project_copy("examples/actors", "../../sdk");
    let dir = project.path();
    let tested = wbx(dir, &["test"]);
    assert!(
        tested.status.success(),
        "{}{}",
        stdout(&tested),
        stderr(&tested)
    );
    assert!(stdout(&tested).contains(" 0 failed"), "{}", stdout(&tested));

    let engine = Engine::start(dir, &["run", "--no-build"]);
    wait_for("the rooms", || {
        ["moderator", "general", "rust"]
            .iter()
            .all(|name| process(&engine, name).is_some_and(|p| p["status"] == "idle"))
    });
    let joined = call(&engine, "general", json!({ "join": "ada" }));
    assert_eq!(joined["as"], "ada@general", "{joined}");
    call(&engine, "general", json!({ "join": "bo" }));
    assert_eq!(
        call(&engine, "general", json!({ "join": "bo" })),
        json!({ "error": "bo is in #general already" })
    );
    // The room asks the moderator before passing a line on.
    assert_eq!(
        call(
            &engine,
            "general",
            json!({ "say": { "member": "ada", "text": "want some spam?" } })
        ),
        json!({ "delivered": 2, "flagged": true })
    );
    // The flagged line is on record: the moderator executed a command.
    let reports = engine.get("/api/events?type=MemberReported");
    assert_eq!(reports.as_array().unwrap().len(), 1, "{reports}");
    assert_eq!(
        reports[0]["data"],
        json!({ "member": "ada", "room": "general", "text": "want some spam?", "strike": 1 })
    );
    // A member speaks through its own process, which casts to the room.
    send(&engine, "bo@general", json!({ "say": "no thanks" }));
    let mut inbox = Value::Null;
    wait_for("ada to hear bo", || {
        inbox = call(&engine, "ada@general", json!({ "inbox": {} }));
        inbox.as_array().unwrap().len() == 3
    });
    assert_eq!(
        inbox,
        json!([
            "#general: bo joined",
            "ada: want some ***?",
            "bo: no thanks"
        ])
    );

    // A member killed: the room, which monitors it, lets the others know.
    kill(&engine, "bo@general");
    wait_for("the room to drop bo", || {
        call(&engine, "general", json!({ "who": {} })) == json!(["ada"])
    });
    let inbox = call(&engine, "ada@general", json!({ "inbox": {} }));
    assert_eq!(inbox[3], "#general: bo is gone (killed)", "{inbox}");

    // A room killed: its supervisor starts it again, empty, and its
    // members, which monitor it, end with it.
    let old = process(&engine, "general").unwrap()["pid"]
        .as_str()
        .unwrap()
        .to_owned();
    kill(&engine, "general");
    let room = restarted(&engine, "general", &old);
    assert_eq!(room["restarts"], 1, "{room}");
    wait_for("ada's process to end with its room", || {
        process(&engine, "ada@general").is_none()
    });
    assert_eq!(call(&engine, "general", json!({ "who": {} })), json!([]));
    engine.stop();
}
