//! The pipelines example (`examples/pipelines`) as its README tells it:
//! its scenarios pass, and under `wbx run` the orders `record-order`
//! appends flow from the event log through `totals` to the ledger, and
//! the big spender comes back into the log through the command the `flag`
//! sink executes, once, even when the flow reads the log again.
//!
//! Every wait is on a signal (a printed line, the event log), bounded
//! generously; none is a fixed sleep.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Engine, project_copy, stderr, stdout, wait_for, wbx};

fn exec(dir: &Path, command: &str, input: Value) {
    let output = wbx(dir, &["exec", command, "--input", &input.to_string()]);
    assert!(
        output.status.success(),
        "wbx exec {command} {input}:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
}

/// The data of the log's events of type `event_type`, in order.
fn events(engine: &Engine, event_type: &str) -> Vec<Value> {
    engine
        .get(&format!("/api/events?type={event_type}"))
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"].clone())
        .collect()
}

#[test]
fn the_pipelines_example_passes_its_scenarios_and_flags_a_big_spender_once() {
    let project = project_copy("examples/pipelines", "../../sdk");
    let dir = project.path();
    let tested = wbx(dir, &["test"]);
    let printed = stdout(&tested);
    assert!(tested.status.success(), "{printed}{}", stderr(&tested));
    assert!(printed.contains("7 passed, 0 failed"), "{printed}");
    assert!(
        printed.contains("scenarios/pipelines/totals.toml"),
        "{printed}"
    );

    let engine = Engine::start(dir, &["run", "--no-build"]);
    wait_for("the flow running", || {
        engine.get("/api/flows/spenders")["status"] == "running"
    });
    exec(
        dir,
        "record-order",
        json!({ "order_id": "o1", "customer": "ann", "total_cents": 60000 }),
    );
    exec(
        dir,
        "record-order",
        json!({ "order_id": "o2", "customer": "bob", "total_cents": 2500 }),
    );
    exec(
        dir,
        "record-order",
        json!({ "order_id": "o3", "customer": "ann", "total_cents": 45000 }),
    );
    engine.expect_line("ann's totals", |l| {
        l == "[ledger] ann: 2 orders, 1050.00 in all"
    });
    let flagged = json!([{ "customer": "ann", "total_cents": 105000 }]);
    wait_for("ann flagged", || {
        json!(events(&engine, "BigSpenderFlagged")) == flagged
    });
    let flow = engine.get("/api/flows/spenders");
    let stages: Vec<(String, u64)> = flow["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["in"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("orders".to_owned(), 3),
            ("totals".to_owned(), 3),
            ("ledger".to_owned(), 3),
            ("flag".to_owned(), 1)
        ],
        "{flow}"
    );
    engine.stop();

    // Started again, the flow reads every order from the log again, and
    // flags ann again: the command appends nothing the second time.
    let engine = Engine::start(dir, &["run", "--no-build"]);
    engine.expect_line("ann's totals, again", |l| {
        l == "[ledger] ann: 2 orders, 1050.00 in all"
    });
    wait_for("the flag sink taking ann again", || {
        let flow = engine.get("/api/flows/spenders");
        flow["stages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "flag" && s["in"] == 1 && s["out"] == 1)
    });
    assert_eq!(json!(events(&engine, "BigSpenderFlagged")), flagged);
    engine.stop();
}
