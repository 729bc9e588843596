//! Effects over the event store: lanes, the contiguous position mark,
//! retries with backoff, and commands executed from an effect.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use crate::stores::Backend;
use crate::support::{guest, wait_until};
use wbx_core::Engine;
use wbx_core::project::StateLayout;
use wbx_events::EventsLayout;
use wbx_events::EventsObservation;
use wbx_events::EventsRuntime;
use wbx_events::command::CommandRequest;
use wbx_events::effect::{EffectSettings, EffectStatus};
use wbx_events::host_sql::rows_to_json;
use wbx_events::kinds::{COMMAND, EFFECT};
use wbx_events::{Query, ReadOptions, StoreLocation};

on_both!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async an_effects_command_inherits_correlation_and_triggering_event,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async a_failing_event_is_retried_with_backoff_and_shown,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async out_of_order_completion_keeps_the_position_at_the_contiguous_mark,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async a_busy_lane_does_not_hold_up_the_other_lanes,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async an_effect_reaches_an_allowed_host,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async an_effect_is_denied_a_host_it_was_not_allowed,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async a_swapped_effect_resumes_from_its_saved_position,
);

fn settings() -> EffectSettings {
    EffectSettings {
        keyed_lanes: 8,
        retry_initial: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        ..EffectSettings::default()
    }
}

fn world(backend: Backend) -> (tempfile::TempDir, Arc<Engine>, Arc<EventsRuntime>) {
    world_with(backend, "auditor", settings())
}

/// The counter command and the effect `effect`, over a fresh store.
fn world_with(
    backend: Backend,
    effect: &str,
    settings: EffectSettings,
) -> (tempfile::TempDir, Arc<Engine>, Arc<EventsRuntime>) {
    world_over(backend.world_store(), effect, settings)
}

/// [`world_with`] over the store at `store`, which other worlds may share.
fn world_over(
    store: Option<StoreLocation>,
    effect: &str,
    settings: EffectSettings,
) -> (tempfile::TempDir, Arc<Engine>, Arc<EventsRuntime>) {
    let w =
        crate::events_support::world_on(store, &[("counter", COMMAND), (effect, EFFECT)], settings);
    (w.dir, w.engine, w.runtime)
}

fn increment(id: &str, by: i64) -> CommandRequest {
    CommandRequest {
        command: "counter".into(),
        input: format!(r#"{{"id":"{id}","by":{by}}}"#),
        ..CommandRequest::default()
    }
}

fn status(runtime: &EventsRuntime) -> Option<EffectStatus> {
    runtime.effects().into_iter().find(|e| e.name == "auditor")
}

fn handled(runtime: &EventsRuntime) -> Vec<u64> {
    let Ok(rows) = runtime.query_effect_state(
        "auditor",
        "SELECT position FROM handled ORDER BY position",
        &[],
    ) else {
        return Vec::new();
    };
    rows_to_json(&rows)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_u64().unwrap())
        .collect()
}

async fn an_effects_command_inherits_correlation_and_triggering_event(backend: Backend) {
    let (_dir, _engine, runtime) = world(backend);
    let request = CommandRequest {
        correlation_id: Some("corr-x".into()),
        ..increment("a", 1)
    };
    let trigger = runtime.execute(request).await.unwrap().events.remove(0);
    runtime.start();
    wait_until("the audit and its acknowledgement", || {
        runtime.store().head() == 2 && status(&runtime).is_some_and(|s| s.position == 2)
    })
    .await;

    let audit = runtime
        .store()
        .read(
            &Query::all(),
            ReadOptions {
                from: Some(2),
                ..ReadOptions::default()
            },
        )
        .unwrap()
        .remove(0);
    assert_eq!(audit.tags, ["counter:audit"]);
    assert_eq!(audit.correlation_id.as_deref(), Some("corr-x"));
    assert_eq!(
        audit.triggering_event_id.as_deref(),
        Some(trigger.id.as_str())
    );
    assert_eq!(audit.idempotency_key, Some(format!("audit-{}", trigger.id)));
    assert_eq!(handled(&runtime), [1]);
    runtime.shutdown().await;
}

async fn a_failing_event_is_retried_with_backoff_and_shown(backend: Backend) {
    let (_dir, engine, runtime) = world(backend);
    let mut observations = engine.subscribe();
    runtime.execute(increment("b", 7)).await.unwrap();
    runtime.start();
    wait_until("the third attempt to succeed", || handled(&runtime) == [1]).await;

    let mut retries = Vec::new();
    while let Ok(observation) = observations.try_recv() {
        if let Some(EventsObservation::EffectRetrying {
            module,
            position,
            attempt,
            error,
        }) = observation.model().cloned()
        {
            assert_eq!((module.as_str(), position), ("auditor", 1));
            assert!(
                error.contains(&format!("attempt {attempt} at position 1 fails on purpose")),
                "{error}"
            );
            retries.push(attempt);
        }
    }
    assert_eq!(retries, [1, 2]);
    wait_until("the retry notice to clear", || {
        status(&runtime).is_some_and(|s| s.retrying.is_none() && s.position == 2)
    })
    .await;
    runtime.shutdown().await;
}

/// The keyed lane an id lands in, as the runtime computes it.
fn lane(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish() % settings().keyed_lanes as u64
}

/// Lets the auditor finish the increment of 3 it is holding: it waits for
/// a `release` table in its database.
fn release_the_slow_event(dir: &tempfile::TempDir) {
    let db = StateLayout::new(dir.path().join(".wbx")).effect_db("auditor");
    wbx_events::host_sql::open_database(&db)
        .unwrap()
        .execute_batch("CREATE TABLE release (at INTEGER)")
        .unwrap();
}

async fn out_of_order_completion_keeps_the_position_at_the_contiguous_mark(backend: Backend) {
    let (dir, _engine, runtime) = world(backend);
    let fast = ["b", "c", "d", "e"]
        .into_iter()
        .find(|id| lane(id) != lane("slow"))
        .unwrap();
    runtime.execute(increment("slow", 3)).await.unwrap(); // position 1, held
    runtime.execute(increment(fast, 1)).await.unwrap(); // position 2
    runtime.start();

    wait_until("the quick event to finish and be acknowledged", || {
        handled(&runtime).contains(&2)
            && status(&runtime)
                .is_some_and(|s| s.in_flight.contains(&1) && !s.in_flight.contains(&2))
    })
    .await;
    let now = status(&runtime).unwrap();
    assert_eq!(handled(&runtime), [2], "position 1 is held until released");
    assert_eq!(now.position, 0, "position 2 is done but 1 is not: {now:?}");

    release_the_slow_event(&dir);
    wait_until("the slow event to finish", || handled(&runtime) == [1, 2]).await;
    wait_until("the mark to reach the head", || {
        status(&runtime)
            .is_some_and(|s| s.position == runtime.store().head() && s.in_flight.is_empty())
    })
    .await;
    assert_eq!(runtime.store().head(), 4, "two events and their two audits");
    runtime.shutdown().await;
}

async fn a_busy_lane_does_not_hold_up_the_other_lanes(backend: Backend) {
    let (dir, _engine, runtime) = world(backend);
    let fast = ["b", "c", "d", "e"]
        .into_iter()
        .find(|id| lane(id) != lane("slow"))
        .unwrap();
    // Position 1 is held until released; 100 more of its key queue behind
    // it, more than any one lane used to hold before the dispatcher waited.
    runtime.execute(increment("slow", 3)).await.unwrap();
    for _ in 0..100 {
        runtime.execute(increment("slow", 1)).await.unwrap();
    }
    runtime.execute(increment(fast, 1)).await.unwrap(); // position 102
    runtime.start();

    wait_until("the other key's event to finish", || {
        handled(&runtime).contains(&102)
    })
    .await;
    assert_eq!(handled(&runtime), [102], "the held lane handled nothing");
    let now = status(&runtime).unwrap();
    assert_eq!(now.position, 0, "{now:?}");

    // Released, the busy lane works through its queue.
    release_the_slow_event(&dir);
    wait_until("every event to be handled", || {
        handled(&runtime).len() == 102
    })
    .await;
    assert_eq!(handled(&runtime), (1..=102).collect::<Vec<_>>());
    runtime.shutdown().await;
}

/// A local HTTP server that keeps every body POSTed to `/hook`.
async fn hook_server() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, bodies)
}

fn webhook_world(
    backend: Backend,
    port: u16,
    allowed: &str,
) -> (tempfile::TempDir, Arc<Engine>, Arc<EventsRuntime>) {
    let mut settings = settings();
    settings
        .allow_http
        .insert("webhook".into(), vec![allowed.to_owned()]);
    let world = world_with(backend, "webhook", settings);
    let db = StateLayout::new(world.0.path().join(".wbx")).effect_db("webhook");
    wbx_events::host_sql::open_database(&db)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TABLE config (url TEXT NOT NULL); INSERT INTO config VALUES ('http://127.0.0.1:{port}/hook');"
        ))
        .unwrap();
    world
}

async fn an_effect_reaches_an_allowed_host(backend: Backend) {
    let (port, bodies) = hook_server().await;
    let (_dir, _engine, runtime) = webhook_world(backend, port, &format!("127.0.0.1:{port}"));
    let event = runtime
        .execute(increment("a", 4))
        .await
        .unwrap()
        .events
        .remove(0);
    runtime.start();
    wait_until("the webhook to be called", || {
        !bodies.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(bodies.lock().unwrap()[0], event.data.get());
    wait_until("the answer to be recorded", || {
        runtime
            .query_effect_state("webhook", "SELECT status FROM sent", &[])
            .is_ok_and(|rows| rows_to_json(&rows)["rows"] == serde_json::json!([[200]]))
    })
    .await;
    runtime.shutdown().await;
}

async fn an_effect_is_denied_a_host_it_was_not_allowed(backend: Backend) {
    let (port, bodies) = hook_server().await;
    let (_dir, engine, runtime) = webhook_world(backend, port, "hooks.example.org");
    let mut observations = engine.subscribe();
    runtime.execute(increment("a", 4)).await.unwrap();
    runtime.start();
    let error = loop {
        let observation = tokio::time::timeout(Duration::from_secs(20), observations.recv());
        if let Ok(observation) = observation.await.expect("no retry within 20 s")
            && let Some(EventsObservation::EffectRetrying { error, .. }) = observation.model()
        {
            break error.clone();
        }
    };
    assert!(error.contains("HttpRequestDenied"), "{error}");
    assert!(
        bodies.lock().unwrap().is_empty(),
        "nothing reached the server"
    );
    runtime.shutdown().await;
}

async fn a_swapped_effect_resumes_from_its_saved_position(backend: Backend) {
    let (_dir, engine, runtime) = world(backend);
    runtime.execute(increment("a", 1)).await.unwrap();
    runtime.start();
    wait_until("the first event", || handled(&runtime) == [1]).await;

    // A new version: the lanes finish, then it resumes where it was.
    let bytes = std::fs::read(guest("auditor")).unwrap();
    engine.load("auditor", EFFECT, "0.2.0", &bytes).unwrap();
    runtime.execute(increment("b", 1)).await.unwrap();
    let head = || runtime.store().head();
    wait_until("the second event and its audit", || {
        handled(&runtime) == [1, 3] && status(&runtime).is_some_and(|s| s.position == head())
    })
    .await;
    // `handled` has the position as its key: handling an event twice would
    // have failed and left the effect retrying.
    assert!(status(&runtime).unwrap().retrying.is_none());
    runtime.shutdown().await;
}

/// Two engines share a PostgreSQL store and both have the effect: one runs
/// it, the other waits, and takes over from the first one's mark when the
/// first stops, so no event is handled twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_effect_runs_on_one_engine_and_another_takes_over_where_it_stopped() {
    let store = Backend::Postgres.world_store();
    let (_a_dir, _a_engine, a) = world_over(store.clone(), "auditor", settings());
    let (_b_dir, b_engine, b) = world_over(store, "auditor", settings());
    let mut observations = b_engine.subscribe();
    a.start();
    wait_until("the first engine runs it", || {
        status(&a).is_some_and(|s| s.stopped.is_none())
    })
    .await;
    b.start();
    let waits = |runtime: &EventsRuntime| {
        status(runtime)
            .and_then(|s| s.stopped)
            .is_some_and(|why| why.contains("another engine sharing the event store runs"))
    };
    wait_until("the second engine waits", || waits(&b)).await;

    a.execute(increment("a", 1)).await.unwrap();
    wait_until("the first engine handled it", || handled(&a) == [1]).await;
    wait_until("the second engine sees it", || b.store().head() == 2).await;
    assert!(
        waits(&b) && handled(&b).is_empty(),
        "the second engine did not"
    );
    wait_until("the first engine's mark at the head", || {
        status(&a).is_some_and(|s| s.position == 2)
    })
    .await;

    a.shutdown().await;
    wait_until("the second engine takes over", || {
        status(&b).is_some_and(|s| s.stopped.is_none())
    })
    .await;
    // The second engine said it waited, then that it runs, from the mark.
    let mut said = Vec::new();
    while let Ok(observation) = observations.try_recv() {
        match observation.model::<EventsObservation>() {
            Some(EventsObservation::EffectWaiting { .. }) => said.push("waiting".to_owned()),
            Some(EventsObservation::EffectStarted { position, .. }) => {
                said.push(format!("started at {position}"))
            }
            _ => {}
        }
    }
    assert_eq!(said, ["waiting", "started at 2"]);
    b.execute(increment("b", 1)).await.unwrap();
    wait_until("the second engine handled only the new event", || {
        handled(&b) == [3]
    })
    .await;
    wait_until("its mark at the head", || {
        status(&b).is_some_and(|s| s.position == b.store().head())
    })
    .await;
    b.shutdown().await;
}
