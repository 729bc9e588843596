//! Failing stages: a trap on one element (found by re-running the batch
//! one element at a time, the stage restarted, the element set aside,
//! nothing else lost), an element's error, retries and dead letters, the
//! redrive once the bug is fixed, and the per-element timeout.

use serde_json::json;
use wbx_pipelines::FlowObservation;
use wbx_pipelines::element::NewElement;
use wbx_pipelines::info::FlowStatus;

use crate::{flows, number, stage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_traps_on_an_element_is_restarted_and_the_element_set_aside() {
    let toml = r#"
[flows.t]
start = false
[flows.t.nodes]
source = { module = "numbers", config = { count = 200 } }
pass = { module = "stage", config = { trap_on = 50 }, retries = 1 }
sink = "collect"
[[flows.t.edges]]
from = "source"
to = "pass"
[[flows.t.edges]]
from = "pass"
to = "sink"
"#;
    let mut flows = flows(
        &[
            ("numbers", "numbers"),
            ("stage", "stage"),
            ("collect", "collect"),
        ],
        toml,
    )
    .await;
    let seen = flows.tap("t", "pass", "sink");
    flows.start("t").await;
    // The batch fails as a whole first; alone, the element is named.
    let (sequence, error) = flows
        .observed(|o| match o {
            FlowObservation::StageRestarted {
                sequence: Some(sequence),
                error,
                ..
            } => Some((*sequence, error.clone())),
            _ => None,
        })
        .await;
    assert!(
        error.contains("panic") || error.contains("trap") || error.contains("unreachable"),
        "{error}"
    );
    let info = flows.finished("t").await;

    let expected: Vec<u64> = (1..=200).filter(|n| *n != 50).collect();
    assert_eq!(
        seen.numbers(),
        expected,
        "every other element once, in order"
    );
    let letters = flows.runtime.dead_letters("t").unwrap();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert_eq!(
        (number(&letters[0].element), letters[0].sequence),
        (50, sequence)
    );
    assert_eq!(
        (letters[0].stage.as_str(), letters[0].attempts),
        ("pass", 2)
    );
    let pass = stage(&info, "pass");
    // The batch, then the element alone twice (retries = 1).
    assert_eq!((pass.restarts, pass.dead_letters), (3, 1), "{pass:?}");
    let file = flows.dir.path().join(".wbx/flows/t/dead-letter.jsonl");
    assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 1);
    flows.shutdown().await;
}

const FAILING: &str = r#"
[flows.d]
start = false
[flows.d.nodes]
input = { source = "push" }
pass = { module = "stage", config = { fail_on = "\"n\":7}" } }
sink = "collect"
[[flows.d.edges]]
from = "input"
to = "pass"
[[flows.d.edges]]
from = "pass"
to = "sink"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_element_is_retried_set_aside_and_redriven_once_fixed() {
    let flows = flows(&[("stage", "stage"), ("collect", "collect")], FAILING).await;
    let seen = flows.tap("d", "pass", "sink");
    flows.start("d").await;
    let elements = (1..=10)
        .map(|n| NewElement::json(json!({ "n": n }).to_string()))
        .collect();
    flows.runtime.push("d", None, elements).await.unwrap();
    let info = flows
        .wait("d", "the element set aside", |i| {
            stage(i, "pass").dead_letters == 1
        })
        .await;
    flows.seen("d", &seen, 9).await;
    assert_eq!(seen.numbers(), [1, 2, 3, 4, 5, 6, 8, 9, 10]);
    // One failure in the batch, then two retries (the default).
    assert_eq!(stage(&info, "pass").errors, 3, "{info:#?}");
    let letters = flows.runtime.dead_letters("d").unwrap();
    assert_eq!((number(&letters[0].element), letters[0].attempts), (7, 3));
    assert!(letters[0].error.contains("fail_on"), "{}", letters[0].error);

    // The fixed version takes it, with the sequence number it had.
    flows.swap("stage", "stage-v2", "0.2.0");
    assert_eq!(flows.runtime.redrive("d").await.unwrap(), 1);
    flows.seen("d", &seen, 10).await;
    let redriven = seen.all().pop().unwrap();
    assert_eq!(number(&redriven), 7);
    assert_eq!(crate::payload(&redriven)["version"], json!(2));
    assert!(flows.runtime.dead_letters("d").unwrap().is_empty());
    assert_eq!(flows.runtime.redrive("d").await.unwrap(), 0);
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_element_over_its_timeout_fails_and_the_stage_goes_on() {
    let toml = r#"
[flows.slow]
start = false
[flows.slow.nodes]
input = { source = "push" }
pass = { module = "stage", config = { sleep_on = 3, sleep_ms = 60000 }, timeout-ms = 200, retries = 0 }
sink = "collect"
[[flows.slow.edges]]
from = "input"
to = "pass"
[[flows.slow.edges]]
from = "pass"
to = "sink"
"#;
    let flows = flows(&[("stage", "stage"), ("collect", "collect")], toml).await;
    let seen = flows.tap("slow", "pass", "sink");
    flows.start("slow").await;
    let elements = (1..=5)
        .map(|n| NewElement::json(json!({ "n": n }).to_string()))
        .collect();
    flows.runtime.push("slow", None, elements).await.unwrap();
    flows.seen("slow", &seen, 4).await;
    assert_eq!(seen.numbers(), [1, 2, 4, 5]);
    let letters = flows.runtime.dead_letters("slow").unwrap();
    assert_eq!(number(&letters[0].element), 3);
    assert!(letters[0].error.contains("timeout"), "{}", letters[0].error);
    assert_eq!(flows.info("slow").status, FlowStatus::Running);
    flows.shutdown().await;
}
