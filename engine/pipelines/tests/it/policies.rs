//! Each overflow policy, with its counts: the flow is paused so the queue
//! fills from pushes, then resumed to see what it kept.

use serde_json::json;
use wbx_pipelines::FlowError;
use wbx_pipelines::element::NewElement;
use wbx_pipelines::info::FlowStatus;

use crate::{Flows, edge, flows};

fn policy_flow(policy: &str) -> String {
    format!(
        r#"
[flows.q]
start = false
[flows.q.nodes]
input = {{ source = "push" }}
sink = "collect"
[[flows.q.edges]]
from = "input"
to = "sink"
capacity = 4
low = 1
policy = "{policy}"
"#
    )
}

fn one(n: u64) -> Vec<NewElement> {
    vec![NewElement::json(json!({ "n": n }).to_string())]
}

/// A running flow of `policy`, paused, with 1..=4 pushed (the queue full).
async fn full(policy: &str) -> Flows {
    let flows = flows(&[("collect", "collect")], &policy_flow(policy)).await;
    flows.start("q").await;
    flows
        .wait("q", "the flow to run", |i| i.status == FlowStatus::Running)
        .await;
    flows.runtime.pause_flow("q").await.unwrap();
    for n in 1..=4 {
        flows.runtime.push("q", None, one(n)).await.unwrap();
    }
    flows
}

/// Pushes 5..=10 into the full queue of `policy`: six dropped and counted,
/// none of them passing the edge; resumed, the sink takes what was `kept`.
async fn dropping(policy: &str, kept: [u64; 4]) {
    let flows = full(policy).await;
    let seen = flows.tap("q", "input", "sink");
    for n in 5..=10 {
        flows.runtime.push("q", None, one(n)).await.unwrap();
    }
    let queue = edge(&flows.info("q"), "input", "sink").clone();
    assert_eq!((queue.depth, queue.dropped), (4, 6), "{queue:?}");
    if policy == "drop-newest" {
        assert!(seen.all().is_empty(), "nothing dropped passes the edge");
    }
    flows.runtime.resume_flow("q").await.unwrap();
    flows
        .wait("q", "the queue to drain", |i| {
            edge(i, "input", "sink").depth == 0
        })
        .await;
    let sink = flows.runtime.stage("q", "sink").unwrap();
    let taken: Vec<u64> = sink.last_in.iter().map(crate::number).collect();
    assert_eq!(taken, kept);
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_newest_drops_what_arrives_at_a_full_queue_and_counts_it() {
    dropping("drop-newest", [1, 2, 3, 4]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_oldest_keeps_the_latest_and_counts_the_rest() {
    dropping("drop-oldest", [7, 8, 9, 10]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_refuses_an_element_at_a_full_queue_to_its_pusher() {
    let flows = full("error").await;
    let refused = flows.runtime.push("q", None, one(5)).await;
    assert!(
        matches!(refused, Err(FlowError::QueueFull { .. })),
        "{refused:?}"
    );
    let info = flows.info("q");
    assert_eq!(
        (
            edge(&info, "input", "sink").depth,
            edge(&info, "input", "sink").dropped
        ),
        (4, 1)
    );
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_holds_the_pusher_until_the_queue_drains_to_its_low_watermark() {
    let flows = full("block").await;
    let runtime = flows.runtime.clone();
    let pushing = tokio::spawn(async move {
        for n in 5..=10 {
            runtime.push("q", None, one(n)).await.unwrap();
        }
    });
    let held = flows
        .wait("q", "the pusher to be held", |i| {
            edge(i, "input", "sink").held
        })
        .await;
    let queue = edge(&held, "input", "sink");
    assert_eq!(
        (queue.depth, queue.triggered, queue.dropped),
        (4, 1, 0),
        "{queue:?}"
    );
    assert!(!pushing.is_finished(), "the pusher waits");

    flows.runtime.resume_flow("q").await.unwrap();
    pushing.await.unwrap();
    let info = flows
        .wait("q", "every element taken", |i| {
            crate::stage(i, "sink").taken == 10
        })
        .await;
    let queue = edge(&info, "input", "sink");
    assert!(queue.relieved >= 1 && queue.dropped == 0, "{queue:?}");
    flows.shutdown().await;
}
