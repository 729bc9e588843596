//! Flows end to end: a linear flow, fan-out and fan-in, a router's ports,
//! backpressure with a slow sink, the push source, stop and pause.

use serde_json::json;
use wbx_pipelines::element::NewElement;
use wbx_pipelines::info::{FlowStatus, StageStatus};

use crate::{edge, flows, number, payload, stage};

const LINEAR: &str = r#"
[flows.line]
start = false
[flows.line.nodes]
source = { module = "numbers", config = { count = 500 } }
double = "stage"
sink = "collect"
[[flows.line.edges]]
from = "source"
to = "double"
[[flows.line.edges]]
from = "double"
to = "sink"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linear_flow_delivers_every_element_once_in_order() {
    let flows = flows(
        &[
            ("numbers", "numbers"),
            ("stage", "stage"),
            ("collect", "collect"),
        ],
        LINEAR,
    )
    .await;
    let seen = flows.tap("line", "double", "sink");
    flows.start("line").await;
    let info = flows.finished("line").await;

    assert_eq!(seen.numbers(), (1..=500).collect::<Vec<u64>>());
    let sequences: Vec<u64> = seen.all().iter().map(|e| e.sequence).collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "sequences increase: {sequences:?}"
    );
    let last = seen.all().pop().unwrap();
    assert_eq!(
        payload(&last)["seen"],
        json!(500),
        "the stage counted every element: {last:?}"
    );
    assert_eq!(stage(&info, "source").out, 500);
    assert_eq!(
        (stage(&info, "double").taken, stage(&info, "double").out),
        (500, 500)
    );
    assert_eq!(stage(&info, "sink").taken, 500);
    assert_eq!(stage(&info, "sink").status, StageStatus::Finished);
    assert!(
        info.edges.iter().all(|e| e.depth == 0 && e.dropped == 0),
        "{info:#?}"
    );
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_copies_each_element_and_fan_in_merges_them() {
    let toml = r#"
[flows.fan]
start = false
[flows.fan.nodes]
source = { module = "numbers", config = { count = 200 } }
left = "stage"
right = "stage"
sink = "collect"
[[flows.fan.edges]]
from = "source"
to = "left"
[[flows.fan.edges]]
from = "source"
to = "right"
[[flows.fan.edges]]
from = "left"
to = "sink"
[[flows.fan.edges]]
from = "right"
to = "sink"
"#;
    let flows = flows(
        &[
            ("numbers", "numbers"),
            ("stage", "stage"),
            ("collect", "collect"),
        ],
        toml,
    )
    .await;
    let from_left = flows.tap("fan", "left", "sink");
    let from_right = flows.tap("fan", "right", "sink");
    flows.start("fan").await;
    let info = flows.finished("fan").await;

    assert_eq!(from_left.numbers(), (1..=200).collect::<Vec<u64>>());
    assert_eq!(from_right.numbers(), (1..=200).collect::<Vec<u64>>());
    assert_eq!(stage(&info, "sink").taken, 400, "the sink took both inputs");
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_sends_each_element_to_its_port() {
    let toml = r#"
[flows.split]
start = false
[flows.split.nodes]
source = { module = "numbers", config = { count = 100 } }
route = { module = "stage", ports = ["even", "odd"], config = { route = true } }
evens = "collect"
odds = "collect"
[[flows.split.edges]]
from = "source"
to = "route"
[[flows.split.edges]]
from = "route"
port = "even"
to = "evens"
[[flows.split.edges]]
from = "route"
port = "odd"
to = "odds"
"#;
    let flows = flows(
        &[
            ("numbers", "numbers"),
            ("stage", "stage"),
            ("collect", "collect"),
        ],
        toml,
    )
    .await;
    let evens = flows.tap("split", "route", "evens");
    let odds = flows.tap("split", "route", "odds");
    flows.start("split").await;
    let info = flows.finished("split").await;

    assert_eq!(
        evens.numbers(),
        (1..=100).filter(|n| n % 2 == 0).collect::<Vec<u64>>()
    );
    assert_eq!(
        odds.numbers(),
        (1..=100).filter(|n| n % 2 == 1).collect::<Vec<u64>>()
    );
    assert!(
        evens
            .all()
            .iter()
            .all(|e| e.port.as_deref() == Some("even"))
    );
    let ports: Vec<Option<String>> = info.edges.iter().map(|e| e.port.clone()).collect();
    assert_eq!(ports, [None, Some("even".into()), Some("odd".into())]);
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sink_holds_the_source_and_the_queues_stay_bounded() {
    let toml = r#"
[flows.slow]
start = false
[flows.slow.nodes]
source = { module = "numbers", config = { count = 1000, size = 256 } }
pass = "stage"
sink = { module = "collect", config = { delay_ms = 2 } }
[[flows.slow.edges]]
from = "source"
to = "pass"
capacity = 16
[[flows.slow.edges]]
from = "pass"
to = "sink"
capacity = 16
"#;
    let flows = flows(
        &[
            ("numbers", "numbers"),
            ("stage", "stage"),
            ("collect", "collect"),
        ],
        toml,
    )
    .await;
    let seen = flows.tap("slow", "pass", "sink");
    flows.start("slow").await;
    let held = flows
        .wait("slow", "the source to be held", |i| {
            edge(i, "source", "pass").held
        })
        .await;
    assert!(edge(&held, "source", "pass").depth <= 16, "{held:#?}");
    let info = flows.finished("slow").await;

    assert_eq!(
        seen.numbers(),
        (1..=1000).collect::<Vec<u64>>(),
        "nothing lost or repeated"
    );
    for e in &info.edges {
        assert!(
            e.high_water <= 16,
            "{} → {} went over its capacity: {e:?}",
            e.from,
            e.to
        );
        assert_eq!(e.dropped, 0);
    }
    let first = edge(&info, "source", "pass");
    assert!(
        first.triggered >= 1 && first.relieved == first.triggered,
        "{first:?}"
    );
    assert!(first.blocked_ms > 0, "{first:?}");
    flows.shutdown().await;
}

const PUSHED: &str = r#"
[flows.pushed]
start = false
[flows.pushed.nodes]
input = { source = "push" }
pass = "stage"
sink = "collect"
[[flows.pushed.edges]]
from = "input"
to = "pass"
[[flows.pushed.edges]]
from = "pass"
to = "sink"
"#;

fn numbered(range: std::ops::RangeInclusive<u64>) -> Vec<NewElement> {
    range
        .map(|n| NewElement::json(json!({ "n": n }).to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_elements_go_through_and_stop_drains_the_flow() {
    let flows = flows(&[("stage", "stage"), ("collect", "collect")], PUSHED).await;
    let seen = flows.tap("pushed", "pass", "sink");
    flows.start("pushed").await;
    flows
        .wait("pushed", "the flow to run", |i| {
            i.status == FlowStatus::Running
        })
        .await;

    let sequences = flows
        .runtime
        .push("pushed", None, numbered(1..=20))
        .await
        .unwrap();
    // The flow's one counter also numbers what its stages emit meanwhile.
    assert_eq!(sequences.len(), 20);
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    flows.seen("pushed", &seen, 20).await;
    assert_eq!(seen.numbers(), (1..=20).collect::<Vec<u64>>());

    // Paused, nothing is taken; what is pushed waits in the queue.
    assert_eq!(
        flows.runtime.pause_flow("pushed").await.unwrap(),
        FlowStatus::Paused
    );
    flows
        .runtime
        .push("pushed", None, numbered(21..=30))
        .await
        .unwrap();
    let paused = flows
        .wait("pushed", "the stages to pause", |i| {
            stage(i, "pass").status == StageStatus::Paused
        })
        .await;
    assert_eq!(edge(&paused, "input", "pass").depth, 10, "{paused:#?}");
    assert_eq!(seen.count(), 20);

    // Stopped, the queued elements still go through, then the flow stops.
    assert_eq!(
        flows.runtime.stop_flow("pushed").await.unwrap(),
        FlowStatus::Stopped
    );
    assert_eq!(seen.numbers(), (1..=30).collect::<Vec<u64>>());
    let refused = flows.runtime.push("pushed", None, numbered(31..=31)).await;
    assert!(
        matches!(refused, Err(wbx_pipelines::FlowError::NotRunning { .. })),
        "{refused:?}"
    );
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_flow_starts_again_with_new_sequence_numbers() {
    let flows = flows(
        &[
            ("numbers", "numbers"),
            ("stage", "stage"),
            ("collect", "collect"),
        ],
        LINEAR,
    )
    .await;
    flows.start("line").await;
    flows.finished("line").await;
    flows.start("line").await;
    let seen = flows.tap("line", "double", "sink");
    let info = flows.finished("line").await;
    assert_eq!(
        stage(&info, "sink").taken,
        500,
        "a new run: its counts start again"
    );
    // The tap came after the start: it may have missed the first ones.
    assert!(
        seen.all().iter().all(|e| e.sequence > 1000),
        "{:?}",
        seen.all().first()
    );
    assert_eq!(seen.all().last().map(number), Some(500));
    flows.shutdown().await;
}
