//! A sink's verdicts: throttle holds its input for a while, pause until the
//! flow is resumed; either way nothing is lost.

use wbx_pipelines::info::{FlowStatus, StageStatus};

use crate::{edge, flows, stage};

fn flow(sink_config: &str) -> String {
    format!(
        r#"
[flows.s]
start = false
batch = 10
[flows.s.nodes]
source = {{ module = "numbers", config = {{ count = 100 }} }}
sink = {{ module = "collect", config = {sink_config} }}
[[flows.s.edges]]
from = "source"
to = "sink"
capacity = 20
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_sink_is_sent_nothing_for_a_while_and_gets_everything() {
    let flows = flows(
        &[("numbers", "numbers"), ("collect", "collect")],
        &flow("{ throttle_ms = 100 }"),
    )
    .await;
    let seen = flows.tap("s", "source", "sink");
    flows.start("s").await;
    let throttled = flows
        .wait("s", "the sink to throttle", |i| {
            stage(i, "sink").status == StageStatus::Throttled
        })
        .await;
    // While it throttles, its queue fills and holds the source.
    assert!(stage(&throttled, "sink").taken < 100, "{throttled:#?}");
    flows
        .wait("s", "the source held", |i| edge(i, "source", "sink").held)
        .await;
    flows.finished("s").await;
    assert_eq!(seen.numbers(), (1..=100).collect::<Vec<u64>>());
    flows.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pausing_sink_waits_for_resume() {
    let flows = flows(
        &[("numbers", "numbers"), ("collect", "collect")],
        &flow("{ pause_after = 30 }"),
    )
    .await;
    flows.start("s").await;
    let paused = flows
        .wait("s", "the sink to pause", |i| {
            stage(i, "sink").status == StageStatus::Paused && edge(i, "source", "sink").held
        })
        .await;
    let taken = stage(&paused, "sink").taken;
    assert!((30..100).contains(&taken), "{paused:#?}");
    // Looked at again: a snapshot reads the flow's status before its
    // stages, so one taken just after the start may still say `starting`.
    assert_eq!(
        flows.info("s").status,
        FlowStatus::Running,
        "only the sink paused"
    );

    flows.runtime.resume_flow("s").await.unwrap();
    let info = flows.finished("s").await;
    assert_eq!(stage(&info, "sink").taken, 100);
    assert_eq!(stage(&info, "sink").out, 100);
    flows.shutdown().await;
}
