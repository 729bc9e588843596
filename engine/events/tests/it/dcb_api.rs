//! The DCB adapter over real HTTP, with the public conformance workloads:
//! parallel conditional writers (no conflicting append slips through),
//! monotonic reads, and unrelated writers that never conflict; each on
//! both store backends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::events_support::engine_in;
use serde_json::{Value, json};
use wbx_core::Limits;
use wbx_core::api::Closing;
use wbx_core::project::StateLayout;
use wbx_events::{EventStore, EventsLayout, EventsRuntime, StoreLocation};

use crate::stores::Backend;

on_both!(
    conditional_writers_over_http_never_slip_through_and_reads_are_monotonic,
    unrelated_writers_over_http_never_conflict,
    bad_dcb_requests_are_clear_errors,
);

/// Serves the API for an empty project over a new store of `backend`;
/// returns its base URL.
fn serve(backend: Backend) -> (tempfile::TempDir, String, tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let store = backend
        .world_store()
        .unwrap_or_else(|| StoreLocation::Sqlite(state.events_db()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = rt.block_on(async {
        let engine = Arc::new(engine_in(state.dir(), Limits::default()));
        let store = EventStore::connect(&store).unwrap();
        let runtime = EventsRuntime::with_store(engine, state, Default::default(), store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (_, closing) = tokio::sync::watch::channel(false);
        let routes = wbx_events::api::routes(runtime, Closing(closing));
        tokio::spawn(async move { axum::serve(listener, routes).await });
        base
    });
    (dir, base, rt)
}

fn read(base: &str, query: &Value, options: &Value) -> Vec<Value> {
    ureq::get(format!("{base}/dcb/read"))
        .query("query", query.to_string())
        .query("options", options.to_string())
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap()
}

fn append(base: &str, body: Value) -> Value {
    ureq::post(format!("{base}/dcb/append"))
        .send_json(body)
        .unwrap()
        .into_body()
        .read_json()
        .unwrap()
}

fn conditional_writers_over_http_never_slip_through_and_reads_are_monotonic(backend: Backend) {
    let (_dir, base, _rt) = serve(backend);
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (base, done) = (base.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = 0;
            while !done.load(Ordering::SeqCst) {
                let last = read(
                    &base,
                    &json!({"items": []}),
                    &json!({"backwards": true, "limit": 1}),
                );
                let position = last.first().map_or(0, |e| e["position"].as_u64().unwrap());
                assert!(
                    position >= seen,
                    "a read went back from {seen} to {position}"
                );
                seen = position;
            }
        })
    };
    let writers: Vec<_> = (0..4u64)
        .map(|t| {
            let base = base.clone();
            std::thread::spawn(move || {
                let mut failed = 0;
                for i in 0..40u64 {
                    let key = ["a", "b"][((t + i) % 2) as usize];
                    let query = json!({"items": [{"types": ["Wrote"], "tags": [format!("key:{key}")]}]});
                    let last = read(&base, &query, &json!({"backwards": true, "limit": 1}));
                    let after = last.first().map_or(0, |e| e["position"].as_u64().unwrap());
                    let answer = append(&base, json!({
                        "events": [{"type": "Wrote", "tags": [format!("key:{key}")], "data": {"seen": after, "key": key}}],
                        "condition": {"failIfEventsMatch": query, "after": after},
                    }));
                    assert!(answer["durationInMicroseconds"].as_u64().is_some());
                    failed += u32::from(answer["appendConditionFailed"] == true);
                }
                failed
            })
        })
        .collect();
    let failed: u32 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    done.store(true, Ordering::SeqCst);
    reader.join().unwrap();

    let events = read(&base, &json!({"items": []}), &json!({}));
    assert_eq!(events.len() as u32 + failed, 160);
    let mut last_by_key: BTreeMap<String, u64> = BTreeMap::new();
    for event in &events {
        let key = event["data"]["key"].as_str().unwrap().to_owned();
        let real = last_by_key.get(&key).copied().unwrap_or(0);
        assert_eq!(
            event["data"]["seen"], real,
            "event {} slipped through",
            event["position"]
        );
        last_by_key.insert(key, event["position"].as_u64().unwrap());
    }
}

fn unrelated_writers_over_http_never_conflict(backend: Backend) {
    let (_dir, base, _rt) = serve(backend);
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let base = base.clone();
            std::thread::spawn(move || {
                let query = json!({"items": [{"tags": [format!("writer:{t}")]}]});
                let mut after = 0;
                for _ in 0..25 {
                    let answer = append(&base, json!({
                        "events": [{"type": "W", "tags": [format!("writer:{t}")], "data": null}],
                        "condition": {"failIfEventsMatch": query, "after": after},
                    }));
                    assert_eq!(answer["appendConditionFailed"], false, "writer {t}");
                    let mine = read(&base, &query, &json!({"backwards": true, "limit": 1}));
                    after = mine[0]["position"].as_u64().unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(read(&base, &json!({"items": []}), &json!({})).len(), 100);
}

fn bad_dcb_requests_are_clear_errors(backend: Backend) {
    let (_dir, base, _rt) = serve(backend);
    let answer = ureq::get(format!("{base}/dcb/read"))
        .query("query", "{not json")
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.into_body().read_json().unwrap();
    assert_eq!(body["error"], "bad-request");
    assert!(
        body["message"].as_str().unwrap().starts_with("query: "),
        "{body}"
    );

    let answer = ureq::post(format!("{base}/dcb/append"))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(json!({"events": []}))
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.into_body().read_json().unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("at least one event"),
        "{body}"
    );
}
