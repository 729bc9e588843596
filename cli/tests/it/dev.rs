//! `wbx dev --no-tui` on a project it watches while the test edits it:
//! changes reach the running engine, only the affected modules rebuild, a
//! compile error leaves the old version serving, the projector continues
//! through a swap without losing or repeating an event, and files the build
//! writes trigger nothing. Where nothing is to happen, the test makes a
//! change after it and checks that change is the next thing reported.

use std::path::Path;

use crate::support::{Engine, edit, project_copy, stderr, wait_for, wbx};
use serde_json::{Value, json};

fn exec(dir: &Path, command: &str, input: Value) -> Value {
    let output = wbx(
        dir,
        &["exec", command, "--input", &input.to_string(), "--json"],
    );
    assert!(output.status.success(), "{command}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn greeting(dir: &Path, name: &str) -> String {
    let outcome = exec(dir, "greet", json!({ "name": name }));
    outcome["events"][0]["data"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

const NAMES: [&str; 3] = ["ada", "bo", "cy"];

#[test]
fn dev_rebuilds_what_changed_and_swaps_it_in() {
    let project = project_copy("cli/tests/fixtures/devproj", "../../../../sdk");
    let dir = project.path();
    let dev = Engine::start(dir, &["dev", "--no-tui"]);
    dev.expect_line("watching", |l| l.starts_with("dev: watching"));
    assert_eq!(greeting(dir, "ada"), "hello ada");

    // A change to a command: its next execution runs the new code.
    edit(&dir.join("greet/src/lib.rs"), "\"{} {}\"", "\"{}, {}!\"");
    let (reload, _) = dev.expect_line("greet's reload", |l| l.starts_with("reloaded greet"));
    assert!(reload.contains("(greet/src/lib.rs changed)"), "{reload}");
    assert!(reload.contains("without cargo"), "{reload}");
    assert_eq!(greeting(dir, "ada"), "hello, ada!");
    if wbx_engine::Tier::winch_available() {
        // Winch's code serves first; Cranelift's replaces it, the same version.
        assert!(reload.contains(", winch "), "{reload}");
        let version = reload
            .split(" -> ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let (optimized, _) = dev.expect_line("greet's move to Cranelift", |l| {
            l.starts_with("optimized greet")
        });
        assert!(optimized.contains(version), "{optimized} after {reload}");
        let modules = dev.get("/api/modules");
        let greet = modules
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "greet");
        assert_eq!(greet.unwrap()["tier"], "cranelift", "{modules}");
        assert_eq!(greet.unwrap()["reloads"], 1, "{modules}");
    }

    // A change to a shared crate rebuilds exactly the modules built from it.
    edit(&dir.join("words/src/lib.rs"), "\"hello\"", "\"howdy\"");
    let (changed, _) = dev.expect_line("the change", |l| l.starts_with("changed words/src/lib.rs"));
    assert!(changed.ends_with(": building greet"), "{changed}");
    let (reload, _) = dev.expect_line("greet's reload", |l| l.starts_with("reloaded"));
    assert!(reload.starts_with("reloaded greet "), "{reload}");
    assert_eq!(greeting(dir, "bo"), "howdy, bo!");

    // A compile error: diagnostics shown, the old version keeps serving.
    edit(&dir.join("count/src/lib.rs"), "step: 1", "step: \"one\"");
    let (failed, before) = dev.expect_line("the failed build", |l| l.starts_with("build failed"));
    assert!(failed.contains("count (1 error)"), "{failed}");
    assert!(
        before.iter().any(|l| l.contains("error[E0308]")),
        "{}",
        before.join("\n")
    );
    assert_eq!(
        exec(dir, "count", json!({}))["events"][0]["data"]["step"],
        1
    );
    edit(&dir.join("count/src/lib.rs"), "step: \"one\"", "step: 2");
    dev.expect_line("count's reload", |l| l.starts_with("reloaded count"));
    assert_eq!(
        exec(dir, "count", json!({}))["events"][0]["data"]["step"],
        2
    );

    // A projector swapped while events keep coming: every event once.
    let tally = dir.join("tally/src/lib.rs");
    let mut written = 3; // ada twice, bo once
    for round in 0..20 {
        if round == 5 {
            edit(
                &tally,
                "Greeted without a name",
                "a Greeted event without a name",
            );
        }
        exec(dir, "greet", json!({ "name": NAMES[round % 3] }));
        written += 1;
    }
    dev.expect_line("tally's reload", |l| l.starts_with("reloaded tally"));
    let engine_head = || dev.get("/api/events?backwards=true&limit=1")[0]["position"].as_u64();
    let head = engine_head().unwrap();
    wait_for("tally to catch up", || {
        dev.get("/api/projectors")[0]["position"].as_u64() == Some(head)
    });
    let query =
        "/api/projectors/tally/query?sql=SELECT%20name,%20n%20FROM%20greetings%20ORDER%20BY%20name";
    let live = dev.get(query);
    let total: u64 = live["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[1].as_u64().unwrap())
        .sum();
    assert_eq!(total, written, "each greeting counted exactly once");
    // ...and the read model equals a replay from scratch.
    ureq::post(format!("{}/api/projectors/tally/rebuild", dev.api))
        .send_empty()
        .unwrap();
    wait_for("the rebuilt tally", || {
        let tally = &dev.get("/api/projectors")[0];
        tally["rebuilds"] == 1 && tally["state"] == "live"
    });
    assert_eq!(dev.get(query), live);

    // What the build writes, and editor temporaries, trigger nothing: the
    // next change reported is the edit made after them, and it names only
    // the file edited.
    std::fs::write(dir.join(".wbx/notes.txt"), "x").unwrap();
    std::fs::write(dir.join("greet/src/.lib.rs.swp"), "x").unwrap();
    std::fs::write(dir.join("greet/src/lib.rs~"), "x").unwrap();
    std::fs::create_dir_all(dir.join("greet/target")).unwrap();
    std::fs::write(dir.join("greet/target/notes.txt"), "x").unwrap();
    edit(&dir.join("count/src/lib.rs"), "step: 2", "step: 3");
    let (changed, _) = dev.expect_line("the edit after them", |l| l.starts_with("changed"));
    assert_eq!(changed, "changed count/src/lib.rs: building count");
    let (reload, before) = dev.expect_line("count's reload", |l| l.starts_with("reloaded"));
    assert!(reload.starts_with("reloaded count "), "{reload}");
    assert!(
        !before.iter().any(|l| l.starts_with("changed")),
        "{}",
        before.join("\n")
    );

    // A burst of saves is one build: one reload, and the next change
    // reported is the edit made after that reload. A save that lands after
    // the debounce (a busy machine) cancels the build in hand, which is
    // said, and the build starts again for the same module.
    for n in 0..5 {
        edit(
            &dir.join("greet/src/lib.rs"),
            &format!("\"{{}}, {{}}!{}\"", "!".repeat(n)),
            &format!("\"{{}}, {{}}!{}\"", "!".repeat(n + 1)),
        );
    }
    let (reload, before) = dev.expect_line("the burst's reload", |l| l.starts_with("reloaded"));
    assert!(reload.starts_with("reloaded greet "), "{reload}");
    let changes: Vec<_> = before.iter().filter(|l| l.starts_with("changed")).collect();
    let restarts = before
        .iter()
        .filter(|l| *l == "a newer change: building again")
        .count();
    assert!(
        !changes.is_empty()
            && changes.len() == restarts + 1
            && changes
                .iter()
                .all(|l| *l == "changed greet/src/lib.rs: building greet"),
        "{}",
        before.join("\n")
    );
    edit(&dir.join("count/src/lib.rs"), "step: 3", "step: 4");
    let (next, between) = dev.expect_line("the edit after the burst", |l| l.starts_with("changed"));
    assert_eq!(
        next,
        "changed count/src/lib.rs: building count",
        "{}",
        between.join("\n")
    );
    let (reload, _) = dev.expect_line("count's reload", |l| l.starts_with("reloaded"));
    assert!(reload.starts_with("reloaded count "), "{reload}");
    assert_eq!(greeting(dir, "cy"), "howdy, cy!!!!!!");
    assert_eq!(
        exec(dir, "count", json!({}))["events"][0]["data"]["step"],
        4
    );

    // wbx.toml: a bad change is refused and named, a good one applied.
    std::fs::write(dir.join("wbx.toml"), "[engine]\ncall-timeout = 5\n").unwrap();
    let (refused, _) = dev.expect_line("the refusal", |l| l.starts_with("wbx.toml refused"));
    assert!(
        refused.contains("wbx.toml:2:1: unknown field `call-timeout`"),
        "{refused}"
    );
    std::fs::write(dir.join("wbx.toml"), "[engine]\ncall-timeout-ms = 4000\n").unwrap();
    dev.expect_line("the new settings", |l| l == "wbx.toml: applied");

    assert!(dev.stop().success());
}
