//! A quick run of every `wbx bench` scenario at a tiny size: the output has
//! the documented shape and every ratio is a positive finite number. The
//! real figures come from `wbx bench` on a release build.

use std::process::Output;

use serde_json::Value;

use crate::support::{repo_root, stderr, wbx_command};

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
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let scenarios: Vec<_> = lines
        .iter()
        .map(|l| l["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        scenarios,
        [
            "command-execution",
            "projector-replay",
            "replay",
            "store-append",
            "cache-load",
            "hot-swap",
            "tui-frame",
            "tui-idle"
        ]
    );
    for line in &lines {
        let keys: Vec<_> = line.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["baseline", "ratio", "scenario", "unit", "value"],
            "{line}"
        );
        for field in ["value", "baseline", "ratio"] {
            let x = line[field].as_f64().unwrap();
            assert!(x.is_finite() && x > 0.0, "{field} of {line}");
        }
        let ratio = line["value"].as_f64().unwrap() / line["baseline"].as_f64().unwrap();
        assert!((ratio - line["ratio"].as_f64().unwrap()).abs() < 1e-9 * ratio.max(1.0));
    }

    let output = bench(&["nope"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no scenario named 'nope'"),
        "{}",
        stderr(&output)
    );
}
