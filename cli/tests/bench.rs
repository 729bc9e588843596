//! A quick run of every `wbx bench` scenario at a tiny size: the output has
//! the documented shape and every ratio is a positive finite number. The
//! real figures come from `wbx bench` on a release build.

mod support;

use serde_json::Value;
use support::{repo_root, stderr, wbx};

#[test]
fn every_scenario_reports_a_value_its_baseline_and_their_ratio() {
    let output = wbx(
        &repo_root(),
        &["bench", "--json", "--scale", "0.005", "--repetitions", "1"],
    );
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

    let output = wbx(&repo_root(), &["bench", "nope"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no scenario named 'nope'"),
        "{}",
        stderr(&output)
    );
}
