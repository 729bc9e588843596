//! `wbx flows`, `wbx flow`, `wbx push` and `wbx tap` against a running
//! engine whose project is the test guests `stage` (a processor) and
//! `collect` (a sink) of engine/tests/guests, as prebuilt components, in
//! two flows: `clicks` (a push source `input` → `stage` → `out`) and
//! `strict` (two push sources `a` and `b` into a slow sink through queues
//! of one element that refuse when full); and each command with no engine.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

use crate::guests::guest;
use crate::support::{Engine, exit_code, json, stderr, stdout, wait_for, wbx, wbx_command};

/// The project's wbx.toml: `stage` fails an element holding `poison`, and
/// with no retries it becomes a dead letter at once.
const MANIFEST: &str = r#"[modules.stage]
component = "components/stage.wasm"
kind = "processor"

[modules.collect]
component = "components/collect.wasm"
kind = "sink"

[flows.clicks]
retries = 0

[flows.clicks.nodes]
input = { source = "push" }
stage = { module = "stage", config = { fail_on = "poison" } }
out = "collect"

[[flows.clicks.edges]]
from = "input"
to = "stage"

[[flows.clicks.edges]]
from = "stage"
to = "out"

[flows.strict.nodes]
a = { source = "push" }
b = { source = "push" }
slow = { module = "collect", config = { delay_ms = 1000 } }

[[flows.strict.edges]]
from = "a"
to = "slow"
capacity = 1
low = 0
policy = "error"

[[flows.strict.edges]]
from = "b"
to = "slow"
capacity = 1
low = 0
policy = "error"
"#;

/// The project: its manifest, and the two guests as components.
fn flows_project() -> tempfile::TempDir {
    let dir = manifest_only();
    std::fs::create_dir(dir.path().join("components")).unwrap();
    for name in ["stage", "collect"] {
        std::fs::copy(
            guest(name),
            dir.path().join(format!("components/{name}.wasm")),
        )
        .unwrap();
    }
    dir
}

/// The project's manifest alone: enough for commands that stop before an
/// engine would load anything.
fn manifest_only() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wbx.toml"), MANIFEST).unwrap();
    dir
}

/// `wbx` that must succeed; its output.
fn ok(dir: &Path, args: &[&str]) -> Output {
    let output = wbx(dir, args);
    assert_eq!(exit_code(&output), 0, "{args:?}: {}", stderr(&output));
    output
}

/// `wbx` that must fail; what it said on stderr (nothing on stdout).
fn refused(dir: &Path, args: &[&str]) -> String {
    let output = wbx(dir, args);
    assert_ne!(exit_code(&output), 0, "{args:?}: {}", stdout(&output));
    assert_eq!(stdout(&output), "", "{args:?}");
    stderr(&output)
}

/// `wbx push` with `input` on standard input.
fn push_stdin(dir: &Path, flow: &str, input: &str) -> Output {
    let mut child = wbx_command(dir, &["push", flow])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `wbx flows --json`.
fn flows(dir: &Path) -> Vec<Value> {
    json(&ok(dir, &["flows", "--json"]))
        .as_array()
        .expect("an array")
        .clone()
}

/// The flow named `name` of `wbx flows --json`.
fn flow(dir: &Path, name: &str) -> Value {
    flows(dir)
        .into_iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no flow {name}"))
}

/// The stage named `name` of a flow.
fn stage<'a>(flow: &'a Value, name: &str) -> &'a Value {
    flow["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name} in {flow}"))
}

/// The edge `from` → `to` of a flow.
fn edge<'a>(flow: &'a Value, from: &str, to: &str) -> &'a Value {
    flow["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == from && e["to"] == to)
        .unwrap_or_else(|| panic!("no edge {from} → {to} in {flow}"))
}

/// `wbx tap` in the background: its stdout and stderr a line at a time.
struct Tap {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
}

impl Tap {
    /// Starts `wbx tap ARGS` and waits until it says it taps: from then on
    /// every element passing the edge reaches it.
    fn start(dir: &Path, args: &[&str]) -> Tap {
        let mut all = vec!["tap"];
        all.extend(args);
        let mut child = wbx_command(dir, &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let tap = Tap {
            out: lines(child.stdout.take().unwrap()),
            err: lines(child.stderr.take().unwrap()),
            child,
        };
        let said = tap.next_err();
        assert!(said.starts_with("tapping "), "{args:?}: {said}");
        tap
    }

    /// The next line on stdout.
    fn next(&self) -> String {
        self.out
            .recv_timeout(Duration::from_secs(30))
            .expect("a line from wbx tap within 30 s")
    }

    fn next_err(&self) -> String {
        self.err
            .recv_timeout(Duration::from_secs(30))
            .expect("a line from wbx tap on stderr within 30 s")
    }

    /// Waits for it to end by itself; its status and what it said last.
    fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let mut status = None;
        wait_for("wbx tap to end", || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        (status.unwrap(), self.err.try_iter().collect())
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines `stream` gives, as they come.
fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// What `wbx push` printed, checked to say `count` elements went into
/// `flow`: the first and last sequence numbers (the flow numbers what its
/// stages emit too, so a push's numbers need not follow each other).
fn accepted(printed: &str, count: u64, flow: &str) -> (u64, u64) {
    let noun = if count == 1 { "element" } else { "elements" };
    let range = printed
        .strip_prefix(&format!("accepted {count} {noun} into {flow} ("))
        .and_then(|rest| rest.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{printed}"));
    let numbers: Vec<u64> = match range.strip_prefix("sequence ") {
        Some(one) => vec![one.parse().unwrap()],
        None => range
            .strip_prefix("sequences ")
            .unwrap_or_else(|| panic!("{printed}"))
            .split(" to ")
            .map(|n| n.parse().unwrap())
            .collect(),
    };
    let (first, last) = (numbers[0], *numbers.last().unwrap());
    assert!(
        (count == 1 && numbers.len() == 1) || (numbers.len() == 2 && last - first + 1 >= count),
        "{printed}"
    );
    (first, last)
}

/// A line of `wbx tap` as its four parts: `#SEQUENCE`, key, content type
/// and the payload.
fn tapped(line: &str) -> (u64, String, String, Value) {
    let parts: Vec<&str> = line.splitn(4, ' ').collect();
    assert_eq!(parts.len(), 4, "{line}");
    let sequence = parts[0]
        .strip_prefix('#')
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no #SEQUENCE: {line}"));
    let payload =
        serde_json::from_str(parts[3]).unwrap_or_else(|e| panic!("payload not JSON ({e}): {line}"));
    (sequence, parts[1].to_owned(), parts[2].to_owned(), payload)
}

#[test]
fn flows_are_listed_pushed_into_tapped_and_controlled_through_the_running_engine() {
    let project = flows_project();
    let dir = project.path();
    let engine = Engine::start(dir, &["run"]);
    wait_for("both flows to run", || {
        flows(dir).iter().all(|f| f["status"] == "running")
    });

    // --json: the engine's array as it wrote it, the SPEC's fields.
    let listed = ok(dir, &["flows", "--json"]);
    assert!(
        stdout(&listed).starts_with(r#"[{"name":"clicks","status":"running","#),
        "keys in the engine's order: {}",
        stdout(&listed)
    );
    let clicks = flow(dir, "clicks");
    let names: Vec<&str> = clicks["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["input", "stage", "out"], "{clicks}");
    for stage in clicks["stages"].as_array().unwrap() {
        for field in ["name", "module", "kind", "in", "out", "errors"] {
            assert!(stage.get(field).is_some(), "no {field} in {stage}");
        }
    }
    let input = stage(&clicks, "input");
    assert_eq!(
        (&input["module"], &input["kind"]),
        (&"push".into(), &"source".into())
    );
    assert_eq!(stage(&clicks, "stage")["kind"], "processor");
    assert_eq!(stage(&clicks, "out")["kind"], "sink");
    let first = edge(&clicks, "input", "stage");
    for field in [
        "from", "port", "to", "depth", "capacity", "policy", "dropped",
    ] {
        assert!(first.get(field).is_some(), "no {field} in {first}");
    }
    assert_eq!(first["port"], Value::Null);
    assert_eq!(first["capacity"], 64);
    assert_eq!(first["policy"], "block");

    // The table: each flow's line, its stages, its edges.
    let table = stdout(&ok(dir, &["flows"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "clicks  running", "{table}");
    for heading in ["STAGE", "KIND", "PER SECOND", "P50/P99", "DEAD LETTERS"] {
        assert!(lines[1].contains(heading), "no {heading}: {table}");
    }
    let row = |start: &str| {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?}: {table}"))
            .to_owned()
    };
    let input_row = row("input ");
    assert!(
        input_row.contains("push") && input_row.contains("source"),
        "{table}"
    );
    assert!(row("stage ").contains("processor"), "{table}");
    for heading in ["QUEUE", "HELD", "PRESSURE", "DROPPED"] {
        assert!(row("EDGE").contains(heading), "no {heading}: {table}");
    }
    let edge_row = row("input → stage");
    assert!(
        edge_row.contains("0/64") && edge_row.contains(" ok ") && edge_row.ends_with("block"),
        "{table}"
    );
    assert!(row("a → slow").contains("0/1"), "{table}");
    assert!(lines.contains(&"strict  running"), "{table}");

    // Two taps, from before the first push: the pushed elements as the
    // engine streams them, and the stage's outputs as lines.
    let raw = Tap::start(dir, &["clicks", "input", "stage", "--json"]);
    let shown = Tap::start(dir, &["clicks", "stage", "out"]);

    // --data: one element; its sequence number.
    let pushed = ok(dir, &["push", "clicks", "--data", r#"{"n":1}"#]);
    let (first, _) = accepted(&stdout(&pushed), 1, "clicks");
    // Standard input: a value a line, blank lines skipped.
    let piped = push_stdin(dir, "clicks", "{\"n\":2}\n\n  {\"n\": 3}  \n{\"n\":4}\n");
    assert_eq!(exit_code(&piped), 0, "{}", stderr(&piped));
    accepted(&stdout(&piped), 3, "clicks");
    // A file, one value over several lines; several --data.
    let file = dir.join("five.json");
    std::fs::write(&file, "{\n  \"n\": 5\n}\n").unwrap();
    let at = format!("@{}", file.display());
    let pushed = ok(dir, &["push", "clicks", "--data", &at, "-d", r#"{"n":6}"#]);
    let (_, last) = accepted(&stdout(&pushed), 2, "clicks");

    // A line that is not JSON: named by its number, nothing pushed.
    let bad = push_stdin(dir, "clicks", "{\"n\":7}\n\n{\"n\": 8,}\n");
    assert_ne!(exit_code(&bad), 0);
    let said = stderr(&bad);
    assert!(said.contains("nothing was pushed"), "{said}");
    assert!(
        said.contains("standard input is not JSON at line 3, column 9"),
        "{said}"
    );
    assert!(said.contains("  3 | {\"n\": 8,}"), "{said}");
    let bad = wbx(dir, &["push", "clicks", "--data", r#"{"n": }"#]);
    assert_ne!(exit_code(&bad), 0);
    assert!(
        stderr(&bad).contains("the element is not JSON at line 1, column 7"),
        "{}",
        stderr(&bad)
    );
    assert_eq!(
        stage(&flow(dir, "clicks"), "input")["out"],
        6,
        "only the six good elements went in"
    );

    // What the taps saw: the pushed elements with their sequence numbers,
    // in order, then what the stage made of them.
    let mut sequences = Vec::new();
    for n in 1..=6u64 {
        let line: Value = serde_json::from_str(&raw.next()).unwrap();
        sequences.push(line["sequence"].as_u64().unwrap());
        assert_eq!(line["content_type"], "application/json", "{line}");
        assert_eq!(line["payload"]["n"], n, "{line}");
        assert_eq!(line["key"], Value::Null, "{line}");
    }
    assert!(sequences.is_sorted(), "{sequences:?}");
    assert_eq!((sequences[0], sequences[5]), (first, last));
    for n in 1..=6u64 {
        let line = shown.next();
        let (sequence, key, content_type, payload) = tapped(&line);
        assert!(sequence > 0, "{line}");
        assert_eq!(key, "-", "{line}");
        assert_eq!(content_type, "application/json", "{line}");
        assert_eq!(payload["n"], n, "{line}");
        assert_eq!(payload["seen"], n, "{line}");
        assert_eq!(payload["version"], 1, "{line}");
        assert!(
            !line.contains(": "),
            "a JSON payload on one line, compact: {line}"
        );
    }
    wait_for("out to take the six elements", || {
        stage(&flow(dir, "clicks"), "out")["out"] == 6
    });

    // An element the stage fails: a dead letter, said by `wbx run`;
    // redrive sends it again (and it fails again).
    ok(
        dir,
        &["push", "clicks", "--data", r#"{"n":7,"bad":"poison"}"#],
    );
    let (line, _) = engine.expect_line("the dead letter", |l| l.contains("dead letter"));
    assert!(
        line.contains("flow clicks") && line.contains("stage stage"),
        "{line}"
    );
    assert!(line.contains("wbx flow redrive clicks"), "{line}");
    wait_for("the dead letter to be counted", || {
        stage(&flow(dir, "clicks"), "stage")["dead_letters"] == 1
    });
    let redriven = ok(dir, &["flow", "redrive", "clicks"]);
    assert_eq!(stdout(&redriven), "clicks: 1 dead letter re-sent\n");
    wait_for("the redriven element to fail again", || {
        stage(&flow(dir, "clicks"), "stage")["dead_letters"] == 2
    });

    // pause, resume, stop: the status after each.
    assert_eq!(
        stdout(&ok(dir, &["flow", "pause", "clicks"])),
        "clicks: paused\n"
    );
    assert_eq!(flow(dir, "clicks")["status"], "paused");
    let table = stdout(&ok(dir, &["flows"]));
    assert!(table.starts_with("clicks  paused\n"), "{table}");
    assert_eq!(
        stdout(&ok(dir, &["flow", "resume", "clicks"])),
        "clicks: running\n"
    );
    assert_eq!(
        stdout(&ok(dir, &["flow", "stop", "clicks"])),
        "clicks: stopped\n"
    );
    engine.expect_line("the flow stopped", |l| l == "flow clicks stopped");

    // A stopped flow takes nothing; the error says how to go on.
    let said = refused(dir, &["push", "clicks", "--data", "{}"]);
    assert!(
        said.contains("flow 'clicks' is stopped") && said.contains("wbx flow start clicks"),
        "{said}"
    );
    let said = refused(dir, &["flow", "pause", "clicks"]);
    assert!(said.contains("flow 'clicks' is stopped"), "{said}");

    // start: a new run; numbers go on from where they were.
    let started = stdout(&ok(dir, &["flow", "start", "clicks"]));
    assert!(
        ["clicks: starting\n", "clicks: running\n"].contains(&started.as_str()),
        "{started}"
    );
    let pushed = stdout(&ok(dir, &["push", "clicks", "--data", "{}"]));
    let (sequence, _) = accepted(&pushed, 1, "clicks");
    assert!(sequence > last, "{pushed}");

    // What names nothing is named.
    let said = refused(dir, &["flow", "start", "nope"]);
    assert!(said.contains("no flow named 'nope'"), "{said}");
    let said = refused(dir, &["push", "nope", "--data", "1"]);
    assert!(said.contains("no flow named 'nope'"), "{said}");
    let said = refused(dir, &["tap", "nope", "a", "b"]);
    assert!(said.contains("no flow named 'nope'"), "{said}");
    let said = refused(dir, &["tap", "clicks", "stage", "nowhere"]);
    assert!(
        said.contains("flow 'clicks' has no edge stage → nowhere"),
        "{said}"
    );
    let said = refused(dir, &["tap", "clicks", "stage", "out", "--port", "p"]);
    assert!(
        said.contains("flow 'clicks' has no edge stage:p → out"),
        "{said}"
    );

    // A flow of two push sources: one must be named, and be a push source.
    let said = refused(dir, &["push", "strict", "--data", "1"]);
    assert!(
        said.contains("flow 'strict'") && said.contains("several push sources"),
        "{said}"
    );
    assert!(said.contains("--node"), "{said}");
    let said = refused(dir, &["push", "strict", "--node", "nowhere", "--data", "1"]);
    assert!(
        said.contains("flow 'strict' has no stage named 'nowhere'"),
        "{said}"
    );
    let said = refused(dir, &["push", "strict", "--node", "slow", "--data", "1"]);
    assert!(
        said.contains("flow 'strict'") && said.contains("'slow' is not a push source"),
        "{said}"
    );
    // Into a queue of one that refuses when full, faster than the slow sink
    // takes: refused, and counted on the edge.
    let five: Vec<&str> = ["--data", "1"].repeat(5);
    let mut args = vec!["push", "strict", "--node", "a"];
    args.extend(five);
    let said = refused(dir, &args);
    assert!(
        said.contains("flow 'strict': the queue a → slow is full and its policy is error"),
        "{said}"
    );
    let strict = flow(dir, "strict");
    assert!(
        edge(&strict, "a", "slow")["dropped"].as_u64() >= Some(1),
        "{strict}"
    );
    ok(dir, &["push", "strict", "--node", "b", "--data", "1"]);

    // The engine stops: the taps end by themselves.
    engine.stop();
    for tap in [raw, shown] {
        let (status, said) = tap.wait();
        assert!(status.success(), "{status}: {said:?}");
        assert!(
            said.iter().any(|l| l.starts_with("the tap ended")),
            "{said:?}"
        );
    }
}

#[test]
fn without_an_engine_each_flow_command_says_so_and_fails() {
    let project = manifest_only();
    let dir = project.path();
    for args in [
        vec!["flows"],
        vec!["flows", "--json"],
        vec!["flow", "start", "clicks"],
        vec!["flow", "redrive", "clicks"],
        vec!["push", "clicks", "--data", "{}"],
        vec!["tap", "clicks", "input", "stage"],
    ] {
        let said = refused(dir, &args);
        assert!(
            said.contains("no engine runs for this project")
                && said.contains("wbx run")
                && said.contains("wbx dev"),
            "{args:?}: {said}"
        );
    }
    // JSON is checked before anything else: the engine is not even looked for.
    let said = refused(dir, &["push", "clicks", "--data", r#"{"n": }"#]);
    assert!(
        said.contains("nothing was pushed: the element is not JSON at line 1, column 7"),
        "{said}"
    );
    let said = refused(dir, &["flow", "halt", "clicks"]);
    assert!(said.contains("invalid value 'halt'"), "{said}");
}
