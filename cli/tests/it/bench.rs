//! A quick run of every `wbx bench` scenario at a tiny size: every scenario
//! is there with its unit, its value and baseline are positive and within
//! what the scenario can give (a figure has a value and no baseline), and
//! the ratio printed is value / baseline as printed, in JSON and in the
//! table. The real figures come from
//! `wbx bench` on a release build.

use std::process::Output;

use serde_json::Value;

use crate::support::{repo_root, stderr, stdout, wbx_command};

/// Each scenario, in the order they run, with its unit.
const SCENARIOS: [(&str, &str); 28] = [
    ("command-execution", "executions/s"),
    ("projector-replay", "events/s"),
    ("replay", "events/s"),
    ("store-append", "appends/s"),
    ("store-append-concurrent-1", "appends/s"),
    ("store-append-concurrent-8", "appends/s"),
    ("store-append-concurrent-64", "appends/s"),
    ("mesh-call", "calls/s"),
    ("mesh-call-p50", "ms"),
    ("mesh-call-p99", "ms"),
    ("gateway", "requests/s"),
    ("gateway-p50", "ms"),
    ("gateway-p99", "ms"),
    ("actor-spawn", "processes/s"),
    ("actor-ping-pong", "round trips/s"),
    ("actor-ring", "messages/s"),
    ("actor-fork-join", "messages/s"),
    ("actor-idle-memory", "KiB/process"),
    ("pipeline", "elements/s"),
    ("pipeline-overhead", "µs/element"),
    ("pipeline-json", "elements/s"),
    ("pipeline-backpressure", "% of the 1× peak memory at 10×"),
    ("cache-load", "loads/s"),
    ("hot-swap", "swaps/s"),
    ("instantiate", "instances/s"),
    ("tui-frame", "frames/s"),
    ("tui-idle", "% CPU left idle"),
    ("event-search", "ms"),
];

/// The scenarios that are figures with no bare baseline: latencies, the
/// actors' Savina workloads, memory per idle process, the pipelines'
/// per-element overhead and memory under a slow sink, the log's search.
const FIGURES: [&str; 10] = [
    "mesh-call-p50",
    "mesh-call-p99",
    "gateway-p50",
    "gateway-p99",
    "actor-ring",
    "actor-fork-join",
    "actor-idle-memory",
    "pipeline-overhead",
    "pipeline-backpressure",
    "event-search",
];

/// `wbx bench` as a user runs it in the repository: it builds its guests
/// into a target directory of its own, `target/wasm-guests`, which is also
/// the tests' shared build directory, so that is not named again (cargo
/// would lock the same directory twice under two names, and wait forever).
fn bench(args: &[&str]) -> Output {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    wbx_command(&repo_root(), &all)
        .env_remove("CARGO_BUILD_BUILD_DIR")
        .output()
        .unwrap()
}

#[test]
fn every_scenario_reports_a_value_its_baseline_and_their_ratio() {
    let output = bench(&["--json", "--scale", "0.005", "--repetitions", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let reported: Vec<_> = lines
        .iter()
        .map(|l| (l["scenario"].as_str().unwrap(), l["unit"].as_str().unwrap()))
        .collect();
    assert_eq!(reported, SCENARIOS);
    for line in &lines {
        let keys: Vec<_> = line.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["baseline", "ratio", "scenario", "unit", "value"],
            "{line}"
        );
        if FIGURES.contains(&line["scenario"].as_str().unwrap()) {
            // No bare baseline, so none and no ratio.
            assert!(
                line["baseline"].is_null() && line["ratio"].is_null(),
                "{line}"
            );
            let value = line["value"].as_f64().unwrap();
            assert!(value.is_finite() && value.abs() < 1e9, "{line}");
            // A difference of two costs may be below zero (the flow's
            // stages run at once on two cores, the direct loop one after
            // another); every other figure is a quantity.
            if line["scenario"] != "pipeline-overhead" {
                assert!(value > 0.0, "{line}");
            }
            if line["unit"] == "ms" {
                assert!(value < 60_000.0, "{line}");
            }
            continue;
        }
        let [value, baseline, ratio] =
            ["value", "baseline", "ratio"].map(|field| line[field].as_f64().unwrap());
        for x in [value, baseline] {
            // Rates of a machine: more than none, far less than a billion a second.
            assert!(x.is_finite() && x > 0.0 && x < 1e9, "{line}");
        }
        assert!(
            (ratio - value / baseline).abs() <= 1e-9 * ratio.abs().max(1.0),
            "the ratio is not value / baseline: {line}"
        );
    }
    let field = |scenario: &str, field: &str| {
        lines.iter().find(|l| l["scenario"] == scenario).unwrap()[field]
            .as_f64()
            .unwrap()
    };
    // A share of a CPU, against all of it.
    assert!(field("tui-idle", "value") <= 100.0);
    assert_eq!(field("tui-idle", "baseline"), 100.0);
    // `replay` is measured against the same baseline, measured once.
    assert_eq!(
        field("replay", "baseline"),
        field("projector-replay", "baseline")
    );

    let output = bench(&["nope"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no scenario named 'nope'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_table_prints_each_ratio_as_value_over_baseline() {
    let output = bench(&["tui-frame", "--scale", "0.005", "--repetitions", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let mut lines = printed.lines();
    let header: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["scenario", "value", "baseline", "ratio", "spread"]);
    let rows: Vec<_> = lines.collect();
    assert_eq!(rows.len(), 1, "{printed}");
    // tui-frame  1795.3 frames/s  2020.1  0.889  1795.3..1795.3
    let cells: Vec<_> = rows[0].split_whitespace().collect();
    assert_eq!(cells.len(), 6, "{printed}");
    assert_eq!([cells[0], cells[2]], ["tui-frame", "frames/s"]);
    let number = |cell: &str| cell.parse::<f64>().unwrap();
    let (value, baseline, ratio) = (number(cells[1]), number(cells[3]), number(cells[4]));
    assert!(value > 0.0 && baseline > 0.0, "{printed}");
    // The value and baseline are printed to 0.1 and the ratio to 0.001.
    let lowest = (value - 0.05) / (baseline + 0.05);
    let highest = (value + 0.05) / (baseline - 0.05);
    assert!(
        lowest - 0.0005 <= ratio && ratio <= highest + 0.0005,
        "{ratio} is not {value} / {baseline}: {printed}"
    );
    let (low, high) = cells[5].split_once("..").unwrap();
    assert!(number(low) <= value && value <= number(high), "{printed}");
}

/// `--store`: the event store's scenarios on a PostgreSQL server, each run
/// in a scratch database that is gone afterwards.
#[test]
fn the_store_scenarios_run_on_postgres_in_scratch_databases() {
    let url = crate::postgres_support::database();
    let output = bench(&[
        "command-execution",
        "store-append",
        "store-append-concurrent-8",
        "--json",
        "--repetitions",
        "1",
        "--scale",
        "0.01",
        "--store",
        &url,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let measured: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<_> = measured.iter().map(|m| m["scenario"].clone()).collect();
    assert_eq!(
        names,
        [
            "command-execution",
            "store-append",
            "store-append-concurrent-8"
        ]
    );
    for m in &measured {
        assert!(m["value"].as_f64().unwrap() > 0.0, "{m}");
        assert!(m["baseline"].as_f64().unwrap() > 0.0, "{m}");
    }
    let left = std::process::Command::new("psql")
        .args(["-X", "-A", "-t", &url, "-c"])
        .arg("SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'wbx_bench_%'")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0");

    let output = bench(&["store-append", "--store", "mysql://x/y"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--store: mysql://x/y is not a store URL"),
        "{}",
        stderr(&output)
    );
}
