//! `wbx ps`, `wbx send`, `wbx tree` and `wbx kill` against a running engine
//! whose project is the test guest `probe` (engine/tests/guests), as a
//! prebuilt actor component, and a tree `root` that starts two probes
//! registered as `a` and `b`; and each of them with no engine.

use std::process::Output;

use serde_json::Value;

use crate::guests::guest;
use crate::support::{Engine, exit_code, json, stderr, stdout, wait_for, wbx};

/// The columns `wbx ps --json` promises (SPEC.md), and some it adds.
const PS_FIELDS: &[&str] = &[
    "pid",
    "name",
    "module",
    "version",
    "status",
    "mailbox",
    "handled",
    "restarts",
    "mailbox_high",
    "memory",
    "last_exit",
];

/// A project of one prebuilt actor module, `probe`, whose `[modules.probe]`
/// table also holds `settings`, and a one-for-one tree `root` of two probes,
/// `a` and `b`.
fn probe_project(settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("components")).unwrap();
    std::fs::copy(guest("probe"), dir.path().join("components/probe.wasm")).unwrap();
    std::fs::write(
        dir.path().join("wbx.toml"),
        format!(
            r#"[modules.probe]
component = "components/probe.wasm"
kind = "actor"
{settings}

[supervisors.root]
strategy = "one-for-one"
intensity = 10
period-s = 5
children = [
  {{ id = "a", module = "probe", register = "a" }},
  {{ id = "b", module = "probe", register = "b" }},
]
"#
        ),
    )
    .unwrap();
    dir
}

/// `wbx ps --json`.
fn ps(dir: &std::path::Path) -> Vec<Value> {
    let output = wbx(dir, &["ps", "--json"]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    json(&output).as_array().expect("an array").clone()
}

/// The row of the process registered as `name`.
fn named(rows: &[Value], name: &str) -> Option<Value> {
    rows.iter().find(|r| r["name"] == name).cloned()
}

/// Waits until the tree and both probes are up and idle; returns `ps --json`.
fn started(dir: &std::path::Path) -> Vec<Value> {
    let mut rows = Vec::new();
    wait_for("root, a and b to start", || {
        rows = ps(dir);
        ["root", "a", "b"].iter().all(|name| {
            named(&rows, name).is_some_and(|r| r["status"] == "idle" || r["module"] != "probe")
        })
    });
    rows
}

/// `wbx send` that must succeed.
fn send(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["send"];
    all.extend(args);
    let output = wbx(dir, &all);
    assert_eq!(exit_code(&output), 0, "send {args:?}: {}", stderr(&output));
    output
}

#[test]
fn processes_are_listed_sent_to_called_drawn_and_killed_through_the_running_engine() {
    let project = probe_project("");
    let dir = project.path();
    let engine = Engine::start(dir, &["run"]);

    // ps: the SPEC's fields, the registered names, the supervisor among them.
    let rows = started(dir);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        for field in PS_FIELDS {
            assert!(row.get(*field).is_some(), "no {field} in {row}");
        }
        let pid = row["pid"].as_str().unwrap();
        assert!(pid.starts_with("<0.") && pid.ends_with('>'), "{pid}");
    }
    let a = named(&rows, "a").unwrap();
    assert_eq!(a["module"], "probe");
    assert!(a["version"].is_string(), "{a}");
    assert_eq!(a["restarts"], 0);
    let root = named(&rows, "root").unwrap();
    assert!(root["strategy"] == "one-for-one", "{root}");

    let table = stdout(&wbx(dir, &["ps"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for heading in [
        "PID",
        "NAME",
        "MODULE",
        "VERSION",
        "STATUS",
        "MAILBOX",
        "HANDLED",
        "MEMORY",
        "RESTARTS",
        "LAST EXIT",
    ] {
        assert!(lines[0].contains(heading), "no {heading}: {table}");
    }
    let line_a = lines
        .iter()
        .find(|l| l.contains(a["pid"].as_str().unwrap()))
        .unwrap();
    assert!(
        line_a.contains(" a ") && line_a.contains("probe"),
        "{table}"
    );
    assert!(
        line_a.contains(" 0/"),
        "the mailbox's depth/high-water: {table}"
    );

    // send: delivered, then counted in `handled`.
    let before = a["handled"].as_u64().unwrap();
    let sent = send(dir, &["a", r#"{"op":"count"}"#]);
    assert_eq!(stdout(&sent), "", "a send prints nothing on stdout");
    wait_for("a to handle the message", || {
        named(&ps(dir), "a").unwrap()["handled"] == before + 1
    });
    // By pid too, in each form a shell leaves it.
    let pid_a = a["pid"].as_str().unwrap();
    send(dir, &[pid_a, r#"{"op":"count"}"#]);
    send(dir, &[pid_a.trim_matches(['<', '>']), r#"{"op":"count"}"#]);

    // --call prints the reply; the three counts came first, in order.
    let reply = json(&send(dir, &["a", "--call", r#"{"op":"get"}"#]));
    assert_eq!(reply["count"], 3, "{reply}");
    let reply = json(&send(dir, &["a", "--call", r#"{"op":"count"}"#]));
    assert_eq!(reply, 4);
    // The message from a file and from standard input.
    let file = dir.join("count.json");
    std::fs::write(&file, "{\n  \"op\": \"count\"\n}\n").unwrap();
    let reply = json(&send(
        dir,
        &["a", "--call", &format!("@{}", file.display())],
    ));
    assert_eq!(reply, 5);
    let piped = crate::support::wbx_command(dir, &["send", "b", "--call", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(br#"{"op":"count"}"#)?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(exit_code(&piped), 0, "{}", stderr(&piped));
    assert_eq!(json(&piped), 1);

    // A call the handler does not answer in time; one whose callee exits.
    send(dir, &["b", r#"{"op":"compute","ms":1500}"#]);
    let late = wbx(
        dir,
        &[
            "send",
            "b",
            "--call",
            "--timeout-ms",
            "200",
            r#"{"op":"get"}"#,
        ],
    );
    assert_ne!(exit_code(&late), 0);
    let said = stderr(&late);
    assert!(said.contains("no reply from 'b' within 200 ms"), "{said}");
    assert!(said.contains("--timeout-ms"), "{said}");

    // A missing target is named; nothing was sent.
    for args in [
        vec!["send", "nobody", r#"{"op":"count"}"#],
        vec!["send", "nobody", "--call", r#"{"op":"count"}"#],
        vec!["send", "<0.999999>", r#"{"op":"count"}"#],
        vec!["kill", "nobody"],
    ] {
        let output = wbx(dir, &args);
        assert_ne!(exit_code(&output), 0, "{args:?}");
        let target = args[1];
        assert!(
            stderr(&output).contains(&format!("no process '{target}'")),
            "{args:?}: {}",
            stderr(&output)
        );
    }

    // Malformed JSON is refused here, located, before anything is sent.
    let malformed = wbx(dir, &["send", "a", r#"{"op": "count" "x"}"#]);
    assert_ne!(exit_code(&malformed), 0);
    let said = stderr(&malformed);
    assert!(said.contains("is not JSON at line 1, column 16"), "{said}");
    assert!(said.contains("{\"op\": \"count\" \"x\"}\n"), "{said}");

    // tree --json: root, its two children in start order.
    let trees = json(&wbx(dir, &["tree", "--json"]));
    let trees = trees.as_array().unwrap();
    assert_eq!(trees.len(), 1, "{trees:?}");
    let tree = &trees[0];
    assert_eq!(tree["name"], "root");
    assert_eq!(tree["strategy"], "one-for-one");
    let children: Vec<&Value> = tree["children"].as_array().unwrap().iter().collect();
    assert_eq!(children.len(), 2, "{tree}");
    assert_eq!(children[0]["name"], "a");
    assert_eq!(children[0]["id"], "a");
    assert_eq!(children[0]["module"], "probe");
    assert_eq!(children[1]["name"], "b");

    // kill: the supervisor starts b again, under a new pid and the same name
    // (once b is done with the work above, so the kill finds it between
    // messages).
    let mut b = Value::Null;
    wait_for("b to finish computing", || {
        b = named(&ps(dir), "b").unwrap();
        b["status"] == "idle" && b["mailbox"] == 0
    });
    let old_pid = b["pid"].as_str().unwrap().to_owned();
    let killed = wbx(dir, &["kill", "b"]);
    assert_eq!(exit_code(&killed), 0, "{}", stderr(&killed));
    assert_eq!(stdout(&killed), format!("killed {old_pid}\n"));
    let mut restarted = Value::Null;
    wait_for("root to restart b", || {
        restarted = named(&ps(dir), "b").unwrap_or_default();
        restarted["pid"].is_string() && restarted["pid"] != old_pid.as_str()
    });
    assert_eq!(restarted["restarts"], 1, "{restarted}");
    assert_eq!(restarted["module"], "probe");
    // What its links saw: `killed`.
    assert_eq!(restarted["last_exit"], "killed", "{restarted}");
    assert!(
        !ps(dir).iter().any(|r| r["pid"] == old_pid.as_str()),
        "{old_pid} is gone"
    );
    // A fresh process: its state began again.
    let reply = json(&send(dir, &["b", "--call", r#"{"op":"get"}"#]));
    assert_eq!(reply["count"], 0, "{reply}");

    // The tree drawn: root, then its children on branches.
    let drawn = stdout(&wbx(dir, &["tree"]));
    let lines: Vec<&str> = drawn.lines().collect();
    assert_eq!(lines.len(), 3, "{drawn}");
    assert!(
        lines[0].starts_with("<0.") && lines[0].contains("root"),
        "{drawn}"
    );
    assert!(lines[0].contains("supervisor one-for-one"), "{drawn}");
    assert!(
        lines[1].starts_with("├─ <0.") && lines[1].contains(" a "),
        "{drawn}"
    );
    assert!(
        lines[2].starts_with("└─ <0.") && lines[2].contains(" b "),
        "{drawn}"
    );
    assert!(
        lines[2].contains("restarts 1") && lines[2].contains("last exit: killed"),
        "{drawn}"
    );

    // --sort: restarts, largest first.
    let sorted = json(&wbx(dir, &["ps", "--json", "--sort", "restarts"]));
    assert_eq!(sorted[0]["name"], "b", "{sorted}");

    // A call whose callee exits before replying says so, with the reason.
    let exited = wbx(
        dir,
        &["send", "a", "--call", r#"{"op":"stop","reason":"bye"}"#],
    );
    assert_ne!(exit_code(&exited), 0);
    let said = stderr(&exited);
    // The engine names the pid; the target as given comes first.
    assert!(said.contains("a: '<0."), "{said}");
    assert!(said.contains("exited before replying: bye"), "{said}");

    engine.stop();
}

#[test]
fn a_send_to_a_full_mailbox_fails_naming_the_target() {
    let project = probe_project("mailbox = 1\ntimeout-ms = 20000");
    let dir = project.path();
    let engine = Engine::start(dir, &["run"]);
    started(dir);

    // a is busy in its handler; one message then fills its mailbox.
    send(dir, &["a", r#"{"op":"compute","ms":3000}"#]);
    wait_for("a to start computing", || {
        let a = named(&ps(dir), "a").unwrap();
        a["status"] == "running" && a["mailbox"] == 0
    });
    send(dir, &["a", r#"{"op":"count"}"#]);
    let refused = wbx(dir, &["send", "a", r#"{"op":"count"}"#]);
    assert_ne!(exit_code(&refused), 0);
    let said = stderr(&refused);
    assert!(said.contains("'a'") && said.contains("full"), "{said}");

    let a = named(&ps(dir), "a").unwrap();
    assert_eq!(a["mailbox"], 1, "{a}");
    assert_eq!(a["mailbox_capacity"], 1, "{a}");
    assert_eq!(a["refused"], 1, "the refusal is counted on a: {a}");
    // Once it caught up, it takes messages again; the refused one never came.
    wait_for("a to drain its mailbox", || {
        named(&ps(dir), "a").unwrap()["mailbox"] == 0
    });
    let reply = json(&send(dir, &["a", "--call", r#"{"op":"get"}"#]));
    assert_eq!(reply["count"], 1, "{reply}");

    engine.stop();
}

#[test]
fn without_an_engine_each_process_command_says_so_and_fails() {
    let project = probe_project("");
    let dir = project.path();
    for args in [
        vec!["ps"],
        vec!["ps", "--json"],
        vec!["tree"],
        vec!["send", "a", "{}"],
        vec!["send", "a", "--call", "{}"],
        vec!["kill", "a"],
    ] {
        let output = wbx(dir, &args);
        assert_ne!(exit_code(&output), 0, "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert!(
            stderr(&output).contains("no engine runs for this project"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
