//! Processes and messages: spawn, send and the order of delivery, call
//! with a reply and with a timeout, timers, the registry, bounded
//! mailboxes, sends to dead processes, a failing `init`.

use std::time::Duration;

use serde_json::json;
use wbx_actors::ActorError;

use crate::support::wait_until;
use crate::{actors, exit_reason};

#[tokio::test(flavor = "multi_thread")]
async fn a_spawned_process_keeps_its_args_and_handles_messages_in_order() {
    let a = actors(&[("probe", "probe")], "").await;
    let pid = a.spawn("probe", json!({"hello": "there"}), None).await;
    assert!(pid.starts_with("<0.") && pid.ends_with('>'), "{pid}");
    for n in 1..=50 {
        a.send(&pid, json!({"op": "seq", "n": n}));
    }
    let state = a.state(&pid).await;
    assert_eq!(state["args"], json!({"hello": "there"}));
    let seen: Vec<u64> = serde_json::from_value(state["seen"].clone()).unwrap();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<_>>(),
        "one sender's messages arrive in order"
    );
    let row = a.row(&pid).unwrap();
    assert_eq!(row.module, "probe");
    assert_eq!(row.handled, 51);
    assert!(row.version.is_some());
    assert!(row.memory > 0, "the instance's memory is shown");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_gets_the_handlers_reply_or_times_out() {
    let a = actors(&[("probe", "probe")], "").await;
    let caller = a.spawn("probe", json!({}), None).await;
    let callee = a.spawn("probe", json!({}), Some("callee")).await;
    a.call(&callee, json!({"op": "count"})).await;
    let reply = a
        .call(
            &caller,
            json!({"op": "call", "to": "callee", "msg": {"op": "count"}, "timeout_ms": 5000}),
        )
        .await;
    assert_eq!(
        reply,
        json!({"ok": 2}),
        "the callee's handler's value is the reply"
    );
    // The callee computes for longer than the caller waits.
    let reply = a
        .call(
            &caller,
            json!({"op": "call", "to": "callee", "msg": {"op": "compute", "ms": 600}, "timeout_ms": 100}),
        )
        .await;
    assert!(
        reply["error"].as_str().unwrap().contains("timeout"),
        "{reply}"
    );
    // From outside too.
    let error = a
        .runtime
        .call(
            &callee,
            r#"{"op":"compute","ms":600}"#,
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ActorError::Timeout { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timer_sent_to_a_pid_ends_with_that_process_and_one_sent_to_a_name_does_not() {
    let a = actors(&[("probe", "probe")], "").await;
    let setter = a.spawn("probe", json!({}), None).await;
    let target = a.spawn("probe", json!({}), Some("held")).await;
    // Far off: only the target's end can take the first one away now.
    let after = |to: &str| json!({"op": "send_after", "to": to, "msg": {"op": "seq", "n": 1}, "ms": 600_000});
    let to_pid = a.call(&setter, after(&target)).await;
    let to_name = a.call(&setter, after("held")).await;
    let mut stream = a.engine.subscribe();
    a.runtime.kill(&target).unwrap();
    assert_eq!(exit_reason(&mut stream, &target).await, "killed");
    let cancel = |timer: &serde_json::Value| json!({"op": "cancel_timer", "timer": timer});
    assert_eq!(a.call(&setter, cancel(&to_pid)).await, json!(false));
    // A name may be taken again: its timer waits for whoever holds it.
    assert_eq!(a.call(&setter, cancel(&to_name)).await, json!(true));
    // Set after the end: never pending.
    let late = a.call(&setter, after(&target)).await;
    assert_eq!(a.call(&setter, cancel(&late)).await, json!(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn timers_fire_once_and_cancelled_ones_never() {
    let a = actors(&[("probe", "probe")], "").await;
    let pid = a.spawn("probe", json!({}), Some("timed")).await;
    a.call(
        &pid,
        json!({"op": "send_after", "to": "timed", "msg": {"op": "seq", "n": 7}, "ms": 30}),
    )
    .await;
    let cancelled = a
        .call(
            &pid,
            json!({"op": "send_after", "to": "timed", "msg": {"op": "seq", "n": 8}, "ms": 300}),
        )
        .await;
    let was_pending = a
        .call(&pid, json!({"op": "cancel_timer", "timer": cancelled}))
        .await;
    assert_eq!(was_pending, json!(true));
    // A third timer, set after the cancelled one would have fired, proves
    // by its arrival that the cancelled one's time has passed.
    a.call(
        &pid,
        json!({"op": "send_after", "to": "timed", "msg": {"op": "seq", "n": 9}, "ms": 500}),
    )
    .await;
    let probe = a.runtime.clone();
    wait_until("the last timer", || {
        probe
            .processes()
            .iter()
            .any(|p| p.pid == pid && p.handled >= 6)
    })
    .await;
    let seen = a.state(&pid).await["seen"].clone();
    assert_eq!(seen, json!([7, 9]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_registry_resolves_names_and_frees_them_on_exit() {
    let a = actors(&[("probe", "probe")], "").await;
    let pid = a.spawn("probe", json!({}), None).await;
    assert_eq!(
        a.call(&pid, json!({"op": "register", "name": "alice"}))
            .await,
        json!({"ok": null})
    );
    assert_eq!(a.call("alice", json!({"op": "self"})).await, json!(pid));
    assert_eq!(
        a.call(&pid, json!({"op": "whereis", "name": "alice"}))
            .await,
        json!(pid)
    );
    assert_eq!(a.row("alice").unwrap().name.as_deref(), Some("alice"));
    // A second process cannot take the name.
    let other = a.spawn("probe", json!({}), None).await;
    let taken = a
        .call(&other, json!({"op": "register", "name": "alice"}))
        .await;
    assert!(
        taken["error"]
            .as_str()
            .unwrap()
            .contains("already registered"),
        "{taken}"
    );
    let error = a
        .runtime
        .spawn("probe", "{}", Some("alice".into()))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("already registered"), "{error}");
    // Its exit frees the name.
    let mut stream = a.engine.subscribe();
    a.send("alice", json!({"op": "stop", "reason": "normal"}));
    assert_eq!(exit_reason(&mut stream, &pid).await, "normal");
    assert!(!a.alive("alice"));
    assert_eq!(
        a.call(&other, json!({"op": "register", "name": "alice"}))
            .await,
        json!({"ok": null})
    );
    a.call(&other, json!({"op": "unregister", "name": "alice"}))
        .await;
    assert_eq!(
        a.call(&other, json!({"op": "whereis", "name": "alice"}))
            .await,
        json!(null)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_mailbox_refuses_and_counts_and_a_dead_pid_is_counted() {
    let a = actors(&[("probe", "probe")], "[modules.probe]\nmailbox = 2\n").await;
    let pid = a.spawn("probe", json!({}), Some("busy")).await;
    // Busy for a while, so the mailbox fills behind it.
    a.send("busy", json!({"op": "compute", "ms": 800}));
    let system = a.runtime.clone();
    wait_until("the probe to be computing", || {
        system
            .processes()
            .iter()
            .any(|p| p.pid == pid && p.mailbox == 0 && p.status != wbx_actors::table::Status::Idle)
    })
    .await;
    a.send("busy", json!({"op": "seq", "n": 1}));
    a.send("busy", json!({"op": "seq", "n": 2}));
    let error = a.runtime.send("busy", r#"{"op":"seq","n":3}"#).unwrap_err();
    assert!(
        matches!(error, ActorError::MailboxFull { capacity: 2, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("'busy'"),
        "the error names the target: {error}"
    );
    // A guest sender gets the error too.
    let sender = a.spawn("probe", json!({}), None).await;
    let refused = a
        .call(
            &sender,
            json!({"op": "send", "to": "busy", "msg": {"op": "seq", "n": 4}}),
        )
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("full"),
        "{refused}"
    );
    let row = a.row("busy").unwrap();
    assert_eq!(row.refused, 2, "both refusals are counted on the receiver");
    assert_eq!(row.mailbox_high, 2);
    // Nothing queued was lost.
    let system = a.runtime.clone();
    wait_until("the mailbox to drain", || {
        system
            .processes()
            .iter()
            .any(|p| p.pid == pid && p.handled == 3)
    })
    .await;
    assert_eq!(a.state("busy").await["seen"], json!([1, 2]));
    // A send to a pid that is gone is an error and is counted.
    assert!(a.runtime.send("<0.999>", "{}").is_err());
    assert!(a.runtime.send("nobody", "{}").is_err());
    let dead = a.runtime.dead_letters();
    assert_eq!(dead.total, 2);
    assert_eq!(dead.by_target.get("nobody"), Some(&1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_init_is_the_spawns_error_and_leaves_nothing() {
    let a = actors(&[("probe", "probe")], "").await;
    let error = a
        .runtime
        .spawn(
            "probe",
            r#"{"fail_init":"no database"}"#,
            Some("half".into()),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no database"), "{error}");
    assert!(!a.alive("half"), "the name is not kept");
    assert!(a.runtime.processes().is_empty());
    let error = a.runtime.spawn("nosuch", "{}", None).await.unwrap_err();
    assert!(
        error.to_string().contains("no actor module 'nosuch'"),
        "{error}"
    );
    let error = a.runtime.send("<0.1>", "not json").unwrap_err();
    assert!(error.to_string().contains("not JSON"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_spawns_sends_and_calls_other_processes() {
    let a = actors(&[("probe", "probe")], "").await;
    let parent = a.spawn("probe", json!({}), None).await;
    let spawned = a
        .call(
            &parent,
            json!({"op": "spawn", "module": "probe", "args": {"n": 1}, "register": "child"}),
        )
        .await;
    let child = spawned["pid"].as_str().unwrap().to_owned();
    assert_eq!(a.call("child", json!({"op": "self"})).await, json!(child));
    a.call(
        &parent,
        json!({"op": "send", "to": "child", "msg": {"op": "seq", "n": 5}}),
    )
    .await;
    let reply = a
        .call(
            &parent,
            json!({"op": "call", "to": &child, "msg": {"op": "get"}, "timeout_ms": 5000}),
        )
        .await;
    assert_eq!(reply["ok"]["seen"], json!([5]));
    assert_eq!(reply["ok"]["args"], json!({"n": 1}));
    let error = a
        .call(
            &parent,
            json!({"op": "spawn", "module": "nosuch", "args": {}}),
        )
        .await;
    assert!(
        error["error"].as_str().unwrap().contains("nosuch"),
        "{error}"
    );
    // The trace shows what went out and came in.
    let detail = a.runtime.detail(&parent).await.unwrap();
    assert!(
        detail
            .trace
            .iter()
            .any(|t| t.direction == "out" && t.peer.as_deref() == Some("child"))
    );
    assert_eq!(detail.state.unwrap()["args"], json!({}));
}
