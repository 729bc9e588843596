//! Commands and projectors over the event store, with real guests.

use crate::events_support::World;
use crate::stores::Backend;
use crate::support::{guest_bytes, wait_until};
use wbx_core::Observation;
use wbx_events::EventsLayout;
use wbx_events::command::{CommandError, CommandRequest};
use wbx_events::host_sql::rows_to_json;
use wbx_events::kinds::{COMMAND, PROJECTOR};
use wbx_events::projector::ProjectorState;
use wbx_events::{EventsRuntime, NewEvent, Query, ReadOptions};

on_both!(
    #[tokio::test] async a_command_appends_its_events_with_their_envelope,
    #[tokio::test] async rejection_and_invalid_input_append_nothing_and_differ,
    #[tokio::test] async an_idempotency_key_makes_a_repeat_do_nothing,
    #[tokio::test(flavor = "current_thread")] async a_write_between_read_and_append_makes_the_command_decide_again,
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async concurrent_commands_never_break_the_invariant,
    #[tokio::test] async a_projector_catches_up_and_follows_the_log,
    #[tokio::test] async a_trapping_projector_stops_and_a_fixed_version_applies_each_event_once,
    #[tokio::test] async a_deleted_read_model_rebuilt_by_replay_is_the_same,
    #[tokio::test] async a_new_major_version_rebuilds_the_read_model_and_a_minor_one_continues,
    #[tokio::test] async a_rebuild_on_request_replays_into_a_fresh_read_model,
    #[tokio::test] async a_projector_cannot_commit_or_move_its_own_position,
);

fn world(backend: Backend) -> World {
    crate::events_support::world_on(
        backend.world_store(),
        &[("counter", COMMAND), ("ledger", PROJECTOR)],
        Default::default(),
    )
}

fn increment(id: &str, by: i64) -> CommandRequest {
    CommandRequest {
        command: "counter".into(),
        input: format!(r#"{{"id":"{id}","by":{by}}}"#),
        ..CommandRequest::default()
    }
}

fn projector_state(runtime: &EventsRuntime, name: &str) -> Option<(u64, ProjectorState)> {
    runtime
        .projectors()
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| (p.position, p.state))
}

async fn wait_live_at(runtime: &EventsRuntime, position: u64) {
    wait_until(&format!("ledger live at {position}"), || {
        projector_state(runtime, "ledger") == Some((position, ProjectorState::Live))
    })
    .await;
}

/// `id, total, events` of every counter, as JSON rows.
fn ledger_rows(runtime: &EventsRuntime) -> serde_json::Value {
    let rows = runtime
        .query_read_model(
            "ledger",
            "SELECT id, total, events FROM counters ORDER BY id",
            &[],
        )
        .unwrap();
    rows_to_json(&rows)["rows"].clone()
}

fn applied(runtime: &EventsRuntime) -> Vec<u64> {
    let rows = runtime
        .query_read_model(
            "ledger",
            "SELECT position FROM applied ORDER BY position",
            &[],
        )
        .unwrap();
    serde_json::from_value(serde_json::Value::Array(
        rows_to_json(&rows)["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].clone())
            .collect(),
    ))
    .unwrap()
}

async fn a_command_appends_its_events_with_their_envelope(backend: Backend) {
    let w = world(backend);
    let outcome = w.runtime.execute(increment("a", 2)).await.unwrap();
    assert_eq!(outcome.position, Some(1));
    assert_eq!(outcome.attempts, 1);
    assert!(!outcome.duplicate);
    let event = &outcome.events[0];
    assert_eq!(
        (event.event_type.as_str(), event.tags.as_slice()),
        ("Incremented", &["counter:a".to_owned()][..])
    );
    assert_eq!(
        event.correlation_id.as_deref(),
        Some(outcome.causation_id.as_str()),
        "a new chain starts here"
    );
    assert_eq!(
        event.causation_id.as_deref(),
        Some(outcome.causation_id.as_str())
    );
    // The guest's clock was the execution's fixed clock, which stamps the event.
    let data: serde_json::Value = serde_json::from_str(event.data.get()).unwrap();
    assert_eq!(data["decided_at_ms"].as_u64(), Some(event.timestamp_ms()));
    assert_eq!(data["total"], 2);

    let chained = CommandRequest {
        correlation_id: Some("chain-1".into()),
        ..increment("a", 3)
    };
    let outcome = w.runtime.execute(chained).await.unwrap();
    let event = &outcome.events[0];
    assert_eq!(event.correlation_id.as_deref(), Some("chain-1"));
    assert_ne!(event.causation_id.as_deref(), Some("chain-1"));
    let data: serde_json::Value = serde_json::from_str(event.data.get()).unwrap();
    assert_eq!(data["total"], 5, "the decision folded the earlier event");
}

async fn rejection_and_invalid_input_append_nothing_and_differ(backend: Backend) {
    let w = world(backend);
    let bounded = |by| CommandRequest {
        input: format!(r#"{{"id":"a","by":{by},"max":3}}"#),
        ..increment("a", 0)
    };
    w.runtime.execute(bounded(2)).await.unwrap();
    match w.runtime.execute(bounded(2)).await {
        Err(CommandError::Rejected(m)) => {
            assert_eq!(m, "counter 'a' would reach 4, over its max of 3")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    match w.runtime.execute(bounded(0)).await {
        Err(CommandError::InvalidInput(m)) => assert_eq!(m, "by: must be positive"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let bad_json = CommandRequest {
        input: "{".into(),
        ..increment("a", 1)
    };
    assert!(matches!(
        w.runtime.execute(bad_json).await,
        Err(CommandError::InvalidInput(_))
    ));
    match w
        .runtime
        .execute(CommandRequest {
            command: "nope".into(),
            ..increment("a", 1)
        })
        .await
    {
        Err(CommandError::UnknownCommand(m)) => {
            assert_eq!(m, "no command named 'nope'; commands: counter")
        }
        other => panic!("expected unknown command, got {other:?}"),
    }
    assert_eq!(w.runtime.store().head(), 1);
}

async fn an_idempotency_key_makes_a_repeat_do_nothing(backend: Backend) {
    let w = world(backend);
    let keyed = || CommandRequest {
        idempotency_key: Some("order-7".into()),
        ..increment("a", 1)
    };
    let first = w.runtime.execute(keyed()).await.unwrap();
    assert_eq!(first.events[0].idempotency_key.as_deref(), Some("order-7"));
    let second = w.runtime.execute(keyed()).await.unwrap();
    assert!(second.duplicate);
    assert!(second.events.is_empty());
    assert_eq!(w.runtime.store().head(), 1);
}

async fn a_write_between_read_and_append_makes_the_command_decide_again(backend: Backend) {
    let w = world(backend);
    let mut observations = w.engine.subscribe();
    // The guest logs "deciding" after the command has read, then sleeps in
    // the host. On this single-threaded runtime the execution cannot go on
    // to its append until the test task yields, which it does only after
    // its write: the write lands in between however long the sleep is.
    let lingering = CommandRequest {
        input: r#"{"id":"a","by":1,"linger_ms":20}"#.into(),
        ..increment("a", 1)
    };
    let runtime = w.runtime.clone();
    let execution = tokio::spawn(async move { runtime.execute(lingering).await });
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match observations.recv().await {
                Ok(Observation::Log(line)) if line.text.starts_with("deciding") => break,
                Ok(_) | Err(_) => {}
            }
        }
    })
    .await
    .expect("the command to start deciding");
    assert!(!execution.is_finished());
    let sneaky = NewEvent {
        event_type: "Incremented".into(),
        tags: vec!["counter:a".into()],
        data: r#"{"id":"a","by":10}"#.into(),
    };
    w.runtime
        .store()
        .append(&[sneaky], None, &Default::default())
        .unwrap();
    assert_eq!(
        w.runtime.store().head(),
        1,
        "the command has not appended yet"
    );

    let outcome = execution.await.unwrap().unwrap();
    assert_eq!(
        outcome.attempts, 2,
        "the first append must have failed its condition"
    );
    let data: serde_json::Value = serde_json::from_str(outcome.events[0].data.get()).unwrap();
    assert_eq!(
        data["total"], 11,
        "the second attempt folded the sneaky event"
    );
    assert_eq!(outcome.position, Some(2));
}

async fn concurrent_commands_never_break_the_invariant(backend: Backend) {
    let w = world(backend);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let runtime = w.runtime.clone();
            tokio::spawn(async move {
                let request = CommandRequest {
                    input: r#"{"id":"a","by":1,"max":10}"#.into(),
                    ..increment("a", 1)
                };
                runtime.execute(request).await
            })
        })
        .collect();
    let (mut appended, mut rejected, mut conflicted) = (Vec::new(), 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => appended.push(outcome),
            Err(CommandError::Rejected(m)) => {
                // Only a command that read all ten increments says no.
                assert_eq!(m, "counter 'a' would reach 11, over its max of 10");
                rejected += 1;
            }
            Err(CommandError::Conflict { attempts, .. }) => {
                assert_eq!(attempts, 5);
                conflicted += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    let events = w
        .runtime
        .store()
        .read(&Query::all(), ReadOptions::default())
        .unwrap();
    // The store holds exactly the appends the commands reported, each at
    // the position its command was told, each total one more than the last.
    appended.sort_by_key(|o| o.position);
    let reported: Vec<_> = appended
        .iter()
        .map(|o| {
            assert_eq!(o.events.len(), 1);
            (o.position, o.events[0].id.clone())
        })
        .collect();
    let stored: Vec<_> = events
        .iter()
        .map(|e| (Some(e.position), e.id.clone()))
        .collect();
    assert_eq!(reported, stored, "the outcomes and the store disagree");
    for (n, event) in events.iter().enumerate() {
        let data: serde_json::Value = serde_json::from_str(event.data.get()).unwrap();
        assert_eq!(
            data["total"],
            n as u64 + 1,
            "a lost update at position {}",
            event.position
        );
    }
    assert!(
        events.len() <= 10,
        "the max of 10 was passed: {}",
        events.len()
    );
    // Every command that did not lose all its attempts appended or was
    // refused at the max: the counter reached its max unless too few were
    // left to get there.
    assert_eq!(
        events.len(),
        10.min(16 - conflicted),
        "{rejected} rejected, {conflicted} lost every attempt"
    );
}

async fn a_projector_catches_up_and_follows_the_log(backend: Backend) {
    let w = world(backend);
    for (id, by) in [("a", 1), ("b", 5), ("a", 2)] {
        w.runtime.execute(increment(id, by)).await.unwrap();
    }
    w.runtime.start();
    wait_live_at(&w.runtime, 3).await;
    assert_eq!(
        ledger_rows(&w.runtime),
        serde_json::json!([["a", 3, 2], ["b", 5, 1]])
    );

    w.runtime.execute(increment("b", 1)).await.unwrap();
    wait_live_at(&w.runtime, 4).await;
    assert_eq!(applied(&w.runtime), [1, 2, 3, 4]);

    let error = w
        .runtime
        .query_read_model("ledger", "DELETE FROM counters", &[])
        .unwrap_err();
    assert!(format!("{error:#}").contains("readonly"), "{error:#}");
    let error = w
        .runtime
        .query_read_model("counter", "SELECT 1", &[])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no projector named 'counter'; projectors: ledger"
    );
    w.runtime.shutdown().await;
}

async fn a_trapping_projector_stops_and_a_fixed_version_applies_each_event_once(backend: Backend) {
    let w = world(backend);
    w.runtime.execute(increment("a", 1)).await.unwrap();
    w.runtime.execute(increment("a", 2)).await.unwrap();
    w.runtime.start();
    wait_live_at(&w.runtime, 2).await;

    w.runtime.execute(increment("a", 13)).await.unwrap();
    w.runtime.execute(increment("b", 4)).await.unwrap();
    wait_until("the ledger to stop", || {
        matches!(
            projector_state(&w.runtime, "ledger"),
            Some((_, ProjectorState::Stopped { .. }))
        )
    })
    .await;
    let (position, state) = projector_state(&w.runtime, "ledger").unwrap();
    assert_eq!(position, 2, "the failed batch was rolled back whole");
    let ProjectorState::Stopped { error } = state else {
        unreachable!()
    };
    // The batch is 3..=3 or 3..=4, depending on how fast the projector saw event 3.
    assert!(error.contains("handling positions 3..="), "{error}");
    assert!(
        error.contains("the guest panicked at ledger/src/lib.rs"),
        "{error}"
    );
    assert!(error.contains("unlucky 13 at position 3"), "{error}");
    assert_eq!(applied(&w.runtime), [1, 2]);

    w.engine
        .load("ledger", PROJECTOR, "0.2.0", &guest_bytes("ledger-v2"))
        .unwrap();
    wait_live_at(&w.runtime, 4).await;
    assert_eq!(
        applied(&w.runtime),
        [1, 2, 3, 4],
        "every event exactly once"
    );
    assert_eq!(ledger_rows(&w.runtime)[0], serde_json::json!(["a", 16, 3]));
    w.runtime.shutdown().await;
}

async fn a_deleted_read_model_rebuilt_by_replay_is_the_same(backend: Backend) {
    let w = world(backend);
    for n in 1..=40 {
        w.runtime
            .execute(increment(["a", "b", "c"][n % 3], n as i64 % 7 + 1))
            .await
            .unwrap();
    }
    w.runtime.start();
    wait_live_at(&w.runtime, 40).await;
    let before = ledger_rows(&w.runtime);
    w.runtime.shutdown().await;

    let db = w.state.projector_db("ledger");
    std::fs::remove_file(&db).unwrap();
    let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
    let _ = std::fs::remove_file(db.with_extension("sqlite-shm"));
    let rebuilt = EventsRuntime::with_store(
        w.engine.clone(),
        w.state.clone(),
        Default::default(),
        w.runtime.store().clone(),
    );
    rebuilt.start();
    wait_live_at(&rebuilt, 40).await;
    assert_eq!(ledger_rows(&rebuilt), before);
    assert_eq!(applied(&rebuilt).len(), 40);
    rebuilt.shutdown().await;
}

/// Writes a row the projector never would, to tell a rebuilt read model
/// (where it is gone) from a continued one (where it stays).
fn mark_read_model(w: &World) {
    wbx_events::host_sql::open_database(&w.state.projector_db("ledger"))
        .unwrap()
        .execute(
            "INSERT INTO counters (id, total, events) VALUES ('marker', 0, 0)",
            [],
        )
        .unwrap();
}

fn has_marker(runtime: &EventsRuntime) -> bool {
    ledger_rows(runtime)
        .as_array()
        .unwrap()
        .iter()
        .any(|row| row[0] == "marker")
}

async fn a_new_major_version_rebuilds_the_read_model_and_a_minor_one_continues(backend: Backend) {
    let w = world(backend);
    for n in 1..=6 {
        w.runtime
            .execute(increment(["a", "b"][n % 2], 1))
            .await
            .unwrap();
    }
    w.runtime.start();
    wait_live_at(&w.runtime, 6).await;
    mark_read_model(&w);

    // 0.1.0 -> 0.2.0: same major, the projector continues where it was.
    let v2 = guest_bytes("ledger-v2");
    w.engine.load("ledger", PROJECTOR, "0.2.0", &v2).unwrap();
    w.runtime.execute(increment("a", 1)).await.unwrap();
    wait_live_at(&w.runtime, 7).await;
    assert!(
        has_marker(&w.runtime),
        "a minor version continues the read model"
    );

    // 0.2.0 -> 1.0.0: a new major version replays into a fresh read model.
    w.engine.load("ledger", PROJECTOR, "1.0.0", &v2).unwrap();
    wait_until("the rebuilt ledger", || !has_marker(&w.runtime)).await;
    wait_live_at(&w.runtime, 7).await;
    assert_eq!(applied(&w.runtime), (1..=7).collect::<Vec<_>>());
    assert_eq!(
        ledger_rows(&w.runtime),
        serde_json::json!([["a", 4, 4], ["b", 3, 3]])
    );
    w.runtime.shutdown().await;
}

async fn a_rebuild_on_request_replays_into_a_fresh_read_model(backend: Backend) {
    let w = world(backend);
    for _ in 0..3 {
        w.runtime.execute(increment("a", 2)).await.unwrap();
    }
    w.runtime.start();
    wait_live_at(&w.runtime, 3).await;
    mark_read_model(&w);
    w.runtime.rebuild_projector("ledger").unwrap();
    wait_until("the rebuilt ledger", || !has_marker(&w.runtime)).await;
    wait_live_at(&w.runtime, 3).await;
    assert_eq!(ledger_rows(&w.runtime), serde_json::json!([["a", 6, 3]]));
    let error = w.runtime.rebuild_projector("counter").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no running projector named 'counter'"),
        "{error}"
    );
    w.runtime.shutdown().await;
}

async fn a_projector_cannot_commit_or_move_its_own_position(backend: Backend) {
    let w = world(backend);
    w.runtime.execute(increment("a", 99)).await.unwrap();
    w.runtime.execute(increment("a", 1)).await.unwrap();
    w.runtime.start();
    // The guest's COMMIT and DELETE FROM _wbx_projector were refused, so it
    // handled the batch normally, in the host's one transaction.
    wait_live_at(&w.runtime, 2).await;
    assert_eq!(applied(&w.runtime), [1, 2]);
    assert_eq!(ledger_rows(&w.runtime), serde_json::json!([["a", 100, 2]]));
    w.runtime.shutdown().await;
}
