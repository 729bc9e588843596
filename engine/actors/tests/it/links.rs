//! Links, monitors and exit signals, with Erlang's rules: an abnormal exit
//! takes linked processes down unless they trap exits; `normal` does not;
//! `kill` cannot be trapped; monitors deliver `down` with the reason.

use serde_json::json;

use crate::{actors, exit_reason, exit_reasons};

#[tokio::test(flavor = "multi_thread")]
async fn an_abnormal_exit_takes_links_down_and_a_normal_one_does_not() {
    let a = actors(&[("probe", "probe")], "").await;
    let one = a.spawn("probe", json!({}), None).await;
    let two = a.spawn("probe", json!({}), None).await;
    a.call(&one, json!({"op": "link", "to": &two})).await;
    assert_eq!(
        a.runtime.detail(&two).await.unwrap().links,
        vec![one.clone()]
    );
    let mut stream = a.engine.subscribe();
    a.send(&one, json!({"op": "stop", "reason": "boom"}));
    assert_eq!(
        exit_reasons(&mut stream, &[&one, &two]).await,
        ["boom", "boom"],
        "the link carries the reason"
    );

    let three = a.spawn("probe", json!({}), None).await;
    let four = a.spawn("probe", json!({}), None).await;
    a.call(&three, json!({"op": "link", "to": &four})).await;
    a.send(&three, json!({"op": "stop", "reason": "normal"}));
    assert_eq!(exit_reason(&mut stream, &three).await, "normal");
    // The survivor still answers, and its link is gone.
    assert_eq!(a.call(&four, json!({"op": "count"})).await, json!(1));
    assert!(a.runtime.detail(&four).await.unwrap().links.is_empty());
    // Unlinked, a crash does not travel.
    let five = a.spawn("probe", json!({}), None).await;
    a.call(&four, json!({"op": "link", "to": &five})).await;
    a.call(&four, json!({"op": "unlink", "to": &five})).await;
    a.send(&five, json!({"op": "stop", "reason": "boom"}));
    assert_eq!(exit_reason(&mut stream, &five).await, "boom");
    assert_eq!(a.call(&four, json!({"op": "count"})).await, json!(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_trapping_exits_gets_them_as_messages_but_not_kill() {
    let a = actors(&[("probe", "probe")], "").await;
    let trapper = a.spawn("probe", json!({}), Some("trapper")).await;
    a.call(&trapper, json!({"op": "trap_exit", "on": true}))
        .await;
    let doomed = a.spawn("probe", json!({}), None).await;
    a.call(&trapper, json!({"op": "link", "to": &doomed})).await;
    let mut stream = a.engine.subscribe();
    a.send(&doomed, json!({"op": "panic"}));
    let why = exit_reason(&mut stream, &doomed).await;
    assert!(why.contains("probe panics"), "{why}");
    let events = a.state("trapper").await["events"].clone();
    assert_eq!(events[0]["kind"], json!("exit"));
    assert_eq!(events[0]["from"], json!(doomed));
    assert!(
        events[0]["reason"]
            .as_str()
            .unwrap()
            .contains("probe panics")
    );
    // kill cannot be trapped: the trapper dies as `killed`, and so does a
    // non-trapping process linked to it.
    let linked = a.spawn("probe", json!({}), None).await;
    a.call(&linked, json!({"op": "link", "to": "trapper"}))
        .await;
    a.runtime.kill("trapper").unwrap();
    assert_eq!(
        exit_reasons(&mut stream, &[&trapper, &linked]).await,
        ["killed", "killed"]
    );
    // An exit signal sent by a process.
    let target = a.spawn("probe", json!({}), None).await;
    let sender = a.spawn("probe", json!({}), None).await;
    a.call(
        &sender,
        json!({"op": "exit", "to": &target, "reason": "enough"}),
    )
    .await;
    assert_eq!(exit_reason(&mut stream, &target).await, "enough");
}

#[tokio::test(flavor = "multi_thread")]
async fn monitors_deliver_down_with_the_reason_and_demonitor_stops_them() {
    let a = actors(&[("probe", "probe")], "").await;
    let watcher = a.spawn("probe", json!({}), Some("watcher")).await;
    let watched = a.spawn("probe", json!({}), None).await;
    let monitor = a
        .call(&watcher, json!({"op": "monitor", "to": &watched}))
        .await;
    let other = a.spawn("probe", json!({}), None).await;
    let cancelled = a
        .call(&watcher, json!({"op": "monitor", "to": &other}))
        .await;
    a.call(&watcher, json!({"op": "demonitor", "ref": cancelled}))
        .await;
    let mut stream = a.engine.subscribe();
    a.send(&other, json!({"op": "stop", "reason": "quiet"}));
    assert_eq!(exit_reason(&mut stream, &other).await, "quiet");
    a.send(&watched, json!({"op": "trap"}));
    exit_reason(&mut stream, &watched).await;
    // A monitor of nothing is `down` at once, with `noproc`.
    let noproc = a
        .call(&watcher, json!({"op": "monitor", "to": "<0.999>"}))
        .await;
    let state = a.state("watcher").await;
    let events = state["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "only the kept monitors fired: {events:?}");
    assert_eq!(events[0]["kind"], json!("down"));
    assert_eq!(events[0]["ref"], monitor);
    assert_eq!(events[0]["from"], json!(watched));
    assert!(
        events[0]["reason"].as_str().unwrap().contains("trapped"),
        "{events:?}"
    );
    assert_eq!(events[1]["ref"], noproc);
    assert_eq!(events[1]["reason"], json!("noproc"));
    // The watcher itself was never linked: it lives.
    assert!(a.alive("watcher"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_that_exits_with_reason_kill_is_trapped_like_any_other() {
    let a = actors(&[("probe", "probe")], "").await;
    let trapper = a.spawn("probe", json!({}), Some("trapper")).await;
    a.call(&trapper, json!({"op": "trap_exit", "on": true}))
        .await;
    let linked = a.spawn("probe", json!({}), None).await;
    a.call(&trapper, json!({"op": "link", "to": &linked})).await;
    let mut stream = a.engine.subscribe();
    // Its own reason `kill`, not an exit signal `kill`: trappable.
    a.send(&linked, json!({"op": "stop", "reason": "kill"}));
    assert_eq!(exit_reason(&mut stream, &linked).await, "kill");
    let events = a.state("trapper").await["events"].clone();
    assert_eq!(events[0]["reason"], json!("kill"));
    assert!(a.alive(&trapper));
}
