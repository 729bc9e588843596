//! Hot swap of a stateful processor under a steady flow: between two
//! batches, its state handed over; no element lost, repeated, or handled
//! half by one version, on both code tiers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use wbx_pipelines::FlowObservation;
use wbx_pipelines::element::NewElement;
use wbx_pipelines::info::FlowStatus;

use crate::support::on_both_tiers;
use crate::{flows, payload};
use wbx_core::Tier;

/// Elements pushed after the swap was seen.
const AFTER: u64 = 1000;

on_both_tiers!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_processor_swapped_mid_stream_loses_and_repeats_nothing_and_keeps_its_state
);
async fn a_processor_swapped_mid_stream_loses_and_repeats_nothing_and_keeps_its_state(tier: Tier) {
    let toml = r#"
[flows.live]
start = false
[flows.live.nodes]
input = { source = "push" }
count = "stage"
sink = "collect"
[[flows.live.edges]]
from = "input"
to = "count"
capacity = 16
[[flows.live.edges]]
from = "count"
to = "sink"
capacity = 16
"#;
    let mut flows = flows(&[("stage", "stage"), ("collect", "collect")], toml).await;
    let seen = flows.tap("live", "count", "sink");
    flows.start("live").await;

    // A steady stream, ten elements a push, until well after the swap.
    let swapped = Arc::new(AtomicBool::new(false));
    let pusher = tokio::spawn({
        let (runtime, swapped) = (flows.runtime.clone(), swapped.clone());
        async move {
            let (mut next, mut stop_at) = (1u64, None);
            while stop_at.is_none_or(|at| next < at) {
                let elements = (next..next + 10)
                    .map(|n| NewElement::json(json!({ "n": n }).to_string()))
                    .collect();
                runtime.push("live", None, elements).await.unwrap();
                next += 10;
                if stop_at.is_none() && swapped.load(Ordering::SeqCst) {
                    stop_at = Some(next + AFTER);
                }
            }
            next - 1
        }
    });
    flows.seen("live", &seen, 500).await;
    flows.swap_in(tier, "stage", "stage-v2", "0.2.0");
    let carried = flows
        .observed(|o| match o {
            FlowObservation::StageSwapped { carried, note, .. } => Some((*carried, note.clone())),
            _ => None,
        })
        .await;
    swapped.store(true, Ordering::SeqCst);
    assert_eq!(carried, (true, None));
    let pushed = pusher.await.unwrap();
    assert_eq!(
        flows.runtime.stop_flow("live").await.unwrap(),
        FlowStatus::Stopped
    );

    let all = seen.all();
    assert_eq!(
        seen.numbers(),
        (1..=pushed).collect::<Vec<u64>>(),
        "every element once, in order"
    );
    let versions: Vec<u64> = all
        .iter()
        .map(|e| payload(e)["version"].as_u64().unwrap())
        .collect();
    let first_v2 = versions
        .iter()
        .position(|v| *v == 2)
        .expect("the new version ran");
    assert!(
        first_v2 >= 500,
        "the swap came after 500 elements: {first_v2}"
    );
    assert!(
        versions[first_v2..].iter().all(|v| *v == 2),
        "no element went back to v1"
    );
    assert!(
        all.len() - first_v2 >= AFTER as usize,
        "v2 handled the stream after the swap: {first_v2} of {}",
        all.len()
    );
    // The count went on from where version 1 left it: the state was carried.
    let counts: Vec<u64> = all
        .iter()
        .map(|e| payload(e)["seen"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, (1..=pushed).collect::<Vec<u64>>());
    flows.shutdown().await;
}
