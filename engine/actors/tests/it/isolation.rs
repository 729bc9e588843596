//! Untrusted guests: a looping handler is interrupted at its deadline
//! (reason `timeout`) while every other process goes on; a trap, a panic
//! or a memory bomb ends only that process; waiting for a reply does not
//! count against a handler's deadline; two processes calling each other
//! both end in their call timeouts.

use std::time::Duration;

use serde_json::json;
use wbx_core::Limits;

use crate::{actors, actors_with, exit_reason};

#[tokio::test(flavor = "multi_thread")]
async fn a_looping_process_does_not_stop_a_ping_pong_pair() {
    let limits = Limits {
        call_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let a = actors_with(&[("probe", "probe")], "", limits).await;
    let looper = a.spawn("probe", json!({}), None).await;
    let mut stream = a.engine.subscribe();
    a.send(&looper, json!({"op": "loop"}));
    let ping = a.spawn("probe", json!({}), None).await;
    let pong = a.spawn("probe", json!({}), None).await;
    let done = a.spawn("probe", json!({}), Some("done")).await;
    // 200 round trips while the looper spins.
    a.send(
        &ping,
        json!({"op": "ping", "peer": &pong, "left": 400, "done": "done"}),
    );
    let system = a.runtime.clone();
    crate::support::wait_until("the ping-pong to finish", || {
        system
            .processes()
            .iter()
            .any(|p| p.pid == done && p.handled >= 1)
    })
    .await;
    assert!(
        a.alive(&looper),
        "the pair finished while the looper still ran"
    );
    assert_eq!(exit_reason(&mut stream, &looper).await, "timeout");
    assert_eq!(a.state("done").await["count"], json!(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_a_panic_or_a_memory_bomb_ends_only_that_process() {
    let limits = Limits {
        memory_bytes: 16 << 20,
        ..Limits::default()
    };
    let a = actors_with(&[("probe", "probe")], "", limits).await;
    let bystander = a.spawn("probe", json!({}), None).await;
    let mut stream = a.engine.subscribe();
    for (op, expect) in [
        ("trap", "trapped"),
        ("panic", "probe panics"),
        ("bomb", "memory"),
    ] {
        let victim = a.spawn("probe", json!({}), None).await;
        a.send(&victim, json!({"op": op}));
        let why = exit_reason(&mut stream, &victim).await;
        assert!(why.contains(expect), "{op}: {why}");
        a.call(&bystander, json!({"op": "count"})).await;
    }
    assert_eq!(a.state(&bystander).await["count"], json!(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_a_reply_does_not_count_against_the_deadline() {
    let a = actors(&[("probe", "probe")], "[modules.probe]\ntimeout-ms = 500\n").await;
    let caller = a.spawn("probe", json!({}), None).await;
    let slow = a.spawn("probe", json!({}), Some("slow")).await;
    // The callee's handler takes 300 ms, three times: the caller's handler
    // waits 900 ms, more than its 500 ms deadline, and survives.
    let mut waits = Vec::new();
    for _ in 0..3 {
        waits.push(json!({"op": "call", "to": "slow", "msg": {"op": "compute", "ms": 300}, "timeout_ms": 2000}));
    }
    for wait in waits {
        let reply = a.call(&caller, wait).await;
        assert!(reply.get("ok").is_some(), "{reply}");
    }
    assert!(a.alive(&caller) && a.alive(&slow));
    // But its own computing does count.
    let mut stream = a.engine.subscribe();
    a.send(&caller, json!({"op": "compute", "ms": 2000}));
    assert_eq!(exit_reason(&mut stream, &caller).await, "timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_calling_each_other_both_time_out() {
    let a = actors(&[("probe", "probe")], "").await;
    let one = a.spawn("probe", json!({}), Some("one")).await;
    let two = a.spawn("probe", json!({}), Some("two")).await;
    // Both busy first, and each given its call behind that: when they
    // are done, each handler calls the other, whose mailbox has the call
    // behind the one it is handling, so neither can answer. After its
    // timeout each computes a while before it takes the other's call, so
    // the one that gives up first cannot answer the other in time.
    a.send("one", json!({"op": "compute", "ms": 300}));
    a.send("two", json!({"op": "compute", "ms": 300}));
    let call = |to: &str| json!({"op": "call", "to": to, "msg": {"op": "count"}, "timeout_ms": 500, "then_ms": 200});
    let (first, second) = tokio::join!(a.call(&one, call("two")), a.call(&two, call("one")));
    assert!(
        first["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timeout"),
        "{first}"
    );
    assert!(
        second["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timeout"),
        "{second}"
    );
    // Both live on, and each got the other's call after its own ended.
    assert!(a.alive(&one) && a.alive(&two));
    assert_eq!(a.state("one").await["count"], json!(1));
    assert_eq!(a.state("two").await["count"], json!(1));
}
