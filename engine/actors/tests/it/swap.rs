//! Hot swap that keeps identity: under a steady stream of numbered
//! messages, every process moves to the new version at a message boundary
//! with its pid, mailbox, name, links and state; none lost, none handled
//! twice. When the new version cannot take the state, the process starts
//! again through `init`, keeping its pid, and the swap says so. A swap
//! arriving while a handler waits applies after it returns. The swap under
//! a stream runs on both code tiers.

use std::time::Duration;

use serde_json::{Value, json};
use wbx_actors::ActorObservation;
use wbx_actors::kinds::ACTOR;
use wbx_core::observe::Subscription;

use crate::actors;
use crate::support::{guest, on_both_tiers, swap_in};
use wbx_core::Tier;

/// Waits for the swap observation of `pid`.
async fn swapped(stream: &mut Subscription, pid: &str) -> ActorObservation {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let Ok(observation) = stream.recv().await else {
                continue;
            };
            if let Some(swap @ ActorObservation::Swapped { pid: p, .. }) =
                observation.model::<ActorObservation>()
                && p == pid
            {
                return swap.clone();
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no swap of {pid} within 20 s"))
}

on_both_tiers!(
    #[tokio::test(flavor = "multi_thread")]
    a_swap_under_a_stream_of_messages_loses_and_repeats_none
);
async fn a_swap_under_a_stream_of_messages_loses_and_repeats_none(tier: Tier) {
    let a = actors(&[("probe", "probe")], "[modules.probe]\nmailbox = 100000\n").await;
    let pid = a
        .spawn("probe", json!({"keep": "me"}), Some("steady"))
        .await;
    let peer = a.spawn("probe", json!({}), None).await;
    a.call(&pid, json!({"op": "link", "to": &peer})).await;
    a.call(&pid, json!({"op": "count"})).await;
    let sender = {
        let runtime = a.runtime.clone();
        tokio::spawn(async move {
            for n in 0..3000u64 {
                runtime
                    .send("steady", &json!({"op": "seq", "n": n}).to_string())
                    .unwrap();
                if n % 100 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut stream = a.engine.subscribe();
    tokio::time::sleep(Duration::from_millis(5)).await;
    swap_in(&a.engine, tier, "probe", ACTOR, "probe-v2", "0.2.0");
    let swap = swapped(&mut stream, &pid).await;
    let ActorObservation::Swapped { carried, note, .. } = &swap else {
        unreachable!()
    };
    assert!(carried, "the state was handed over: {note:?}");
    sender.await.unwrap();
    let state = a.state("steady").await;
    assert_eq!(state["version"], json!("v2"), "the new version answers");
    assert_eq!(state["args"], json!({"keep": "me"}));
    assert_eq!(state["count"], json!(1), "the state came across");
    let seen: Vec<u64> = serde_json::from_value(state["seen"].clone()).unwrap();
    assert_eq!(
        seen,
        (0..3000).collect::<Vec<_>>(),
        "none lost, none twice, in order"
    );
    // Identity kept: pid, name, links.
    assert_eq!(a.call("steady", json!({"op": "self"})).await, json!(pid));
    let detail = a.runtime.detail("steady").await.unwrap();
    assert_eq!(detail.links, vec![peer.clone()]);
    assert_eq!(detail.info.restarts, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_restore_state_a_process_starts_again_through_init_and_keeps_its_pid() {
    let a = actors(&[("probe", "probe")], "").await;
    let pid = a.spawn("probe", json!({"n": 1}), Some("p")).await;
    a.call("p", json!({"op": "count"})).await;
    let mut stream = a.engine.subscribe();
    a.engine
        .load_file("probe", ACTOR, "0.2.0", &guest("probe-nostate"))
        .unwrap();
    let swap = swapped(&mut stream, &pid).await;
    let ActorObservation::Swapped { carried, note, .. } = swap else {
        unreachable!()
    };
    assert!(!carried);
    assert!(
        note.unwrap().contains("init"),
        "the swap says the process started again"
    );
    let state = a.state("p").await;
    assert_eq!(state["count"], json!(0), "init ran again");
    assert_eq!(state["args"], json!({"n": 1}), "with the same args");
    assert_eq!(a.call("p", json!({"op": "self"})).await, json!(pid));
    assert_eq!(a.row("p").unwrap().restarts, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_swap_while_a_handler_waits_applies_after_it_returns() {
    let a = actors(&[("probe", "probe")], "").await;
    let waiter = a.spawn("probe", json!({}), Some("waiter")).await;
    a.spawn("probe", json!({}), Some("slow")).await;
    let call = {
        let a_runtime = a.runtime.clone();
        tokio::spawn(async move {
            let message = json!({"op": "call", "to": "slow", "msg": {"op": "compute", "ms": 500}, "timeout_ms": 5000});
            a_runtime
                .call("waiter", &message.to_string(), Duration::from_secs(10))
                .await
        })
    };
    let runtime = a.runtime.clone();
    crate::support::wait_until("the waiter to wait", || {
        runtime
            .processes()
            .iter()
            .any(|p| p.pid == waiter && p.status == wbx_actors::table::Status::Waiting)
    })
    .await;
    let mut stream = a.engine.subscribe();
    a.engine
        .load_file("probe", ACTOR, "0.2.0", &guest("probe-v2"))
        .unwrap();
    let reply: Value = serde_json::from_str(&call.await.unwrap().unwrap()).unwrap();
    // The waiting handler finished on the old version...
    assert!(reply.get("ok").is_some(), "{reply}");
    // ... and only then did the waiter move.
    swapped(&mut stream, &waiter).await;
    assert_eq!(a.state("waiter").await["version"], json!("v2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_without_the_optional_exports_starts_again_through_init() {
    let a = actors(&[("probe", "probe")], "").await;
    let pid = a.spawn("probe", json!({}), Some("p")).await;
    a.call("p", json!({"op": "count"})).await;
    let mut stream = a.engine.subscribe();
    // Made without wbx's guest library: no `actor-state`, no `actor-inspect`.
    a.engine
        .load_file("probe", ACTOR, "0.2.0", &guest("plain-actor"))
        .unwrap();
    let swap = swapped(&mut stream, &pid).await;
    let ActorObservation::Swapped { carried, note, .. } = swap else {
        unreachable!()
    };
    assert!(!carried);
    assert_eq!(
        note.as_deref(),
        Some("the new version has no restore-state")
    );
    // The same pid, the new code (its own count, from init), and no state
    // to show.
    assert_eq!(a.call(&pid, json!("hello")).await, json!({"plain": 1}));
    let detail = a.runtime.detail("p").await.unwrap();
    assert_eq!(detail.state, None);
    assert_eq!(detail.info.restarts, 1);
}
