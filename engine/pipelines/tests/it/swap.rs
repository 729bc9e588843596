//! Hot swap of a stateful processor under a steady flow: between two
//! batches, its state handed over; no element lost, repeated, or handled
//! half by one version.

use serde_json::json;
use wbx_pipelines::FlowObservation;

use crate::{flows, payload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_swapped_mid_stream_loses_and_repeats_nothing_and_keeps_its_state() {
    let toml = r#"
[flows.live]
start = false
[flows.live.nodes]
source = { module = "numbers", config = { count = 3000 } }
count = "stage"
sink = { module = "collect", config = { delay_ms = 1 } }
[[flows.live.edges]]
from = "source"
to = "count"
capacity = 16
[[flows.live.edges]]
from = "count"
to = "sink"
capacity = 16
"#;
    let mut flows =
        flows(&[("numbers", "numbers"), ("stage", "stage"), ("collect", "collect")], toml).await;
    let seen = flows.tap("live", "count", "sink");
    flows.start("live").await;
    flows.seen("live", &seen, 500).await;
    flows.swap("stage", "stage-v2", "0.2.0");
    let carried = flows
        .observed(|o| match o {
            FlowObservation::StageSwapped { carried, note, .. } => Some((*carried, note.clone())),
            _ => None,
        })
        .await;
    assert_eq!(carried, (true, None));
    flows.finished("live").await;

    let all = seen.all();
    assert_eq!(
        seen.numbers(),
        (1..=3000).collect::<Vec<u64>>(),
        "every element once, in order"
    );
    let versions: Vec<u64> = all.iter().map(|e| payload(e)["version"].as_u64().unwrap()).collect();
    let first_v2 = versions.iter().position(|v| *v == 2).expect("the new version ran");
    assert!(first_v2 >= 500, "the swap came after 500 elements: {first_v2}");
    assert!(versions[first_v2..].iter().all(|v| *v == 2), "no element went back to v1");
    // The count went on from where version 1 left it: the state was carried.
    let counts: Vec<u64> = all.iter().map(|e| payload(e)["seen"].as_u64().unwrap()).collect();
    assert_eq!(counts, (1..=3000).collect::<Vec<u64>>());
    assert_eq!(payload(&all[first_v2])["version"], json!(2));
    flows.shutdown().await;
}
