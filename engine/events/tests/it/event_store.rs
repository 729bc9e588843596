//! The DCB event store: semantics at every edge, concurrent writers with
//! conditions, durability across `kill -9`, and export/import.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use wbx_events::{
    AppendCondition, AppendMeta, AppendOutcome, EventStore, NewEvent, Query, QueryItem,
    ReadOptions, StoredEvent,
};

fn event(event_type: &str, tags: &[&str]) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        data: format!(r#"{{"type":"{event_type}"}}"#),
    }
}

fn append(store: &EventStore, events: &[NewEvent]) -> u64 {
    match store.append(events, None, &AppendMeta::default()).unwrap() {
        AppendOutcome::Appended { last, .. } => last,
        other => panic!("expected an append, got {other:?}"),
    }
}

fn positions(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|e| e.position).collect()
}

fn read(
    store: &EventStore,
    query: Query,
    from: Option<u64>,
    backwards: bool,
    limit: Option<u64>,
) -> Vec<u64> {
    positions(
        &store
            .read(
                &query,
                ReadOptions {
                    from,
                    backwards,
                    limit,
                },
            )
            .unwrap(),
    )
}

/// 1 A{x} 2 B{x,y} 3 A{y} 4 C{} 5 B{y}
fn sample() -> (tempfile::TempDir, EventStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(&dir.path().join("events.sqlite")).unwrap();
    append(&store, &[event("A", &["x"]), event("B", &["x", "y"])]);
    append(&store, &[event("A", &["y"])]);
    append(&store, &[event("C", &[])]);
    append(&store, &[event("B", &["y"])]);
    (dir, store)
}

#[test]
fn positions_start_at_one_and_have_no_gaps() {
    let (_dir, store) = sample();
    assert_eq!(
        read(&store, Query::all(), None, false, None),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(store.head(), 5);
    let ids: std::collections::HashSet<_> = store
        .read(&Query::all(), ReadOptions::default())
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 5, "every event has its own host-made id");
}

#[test]
fn query_items_match_types_and_all_tags_and_are_ored() {
    let (_dir, store) = sample();
    let q = |items: Vec<QueryItem>| read(&store, Query::new(items), None, false, None);
    assert_eq!(q(vec![QueryItem::types(["A"])]), [1, 3]);
    assert_eq!(q(vec![QueryItem::types(["A", "C"])]), [1, 3, 4]);
    assert_eq!(q(vec![QueryItem::tags(["y"])]), [2, 3, 5]);
    assert_eq!(
        q(vec![QueryItem::tags(["x", "y"])]),
        [2],
        "an item needs all its tags"
    );
    assert_eq!(q(vec![QueryItem::types(["B"]).with_tags(["y"])]), [2, 5]);
    assert_eq!(
        q(vec![
            QueryItem::types(["A"]).with_tags(["x"]),
            QueryItem::types(["C"])
        ]),
        [1, 4]
    );
    assert_eq!(q(vec![QueryItem::types(["Z"])]), Vec::<u64>::new());
    let error = store
        .read(
            &Query::new(vec![QueryItem::default()]),
            ReadOptions::default(),
        )
        .unwrap_err();
    assert!(
        error.to_string().contains("names no type and no tag"),
        "{error}"
    );
}

#[test]
fn read_options_from_is_inclusive_backwards_and_limit() {
    let (_dir, store) = sample();
    assert_eq!(read(&store, Query::all(), Some(3), false, None), [3, 4, 5]);
    assert_eq!(read(&store, Query::all(), Some(3), true, None), [3, 2, 1]);
    assert_eq!(read(&store, Query::all(), None, true, Some(2)), [5, 4]);
    assert_eq!(read(&store, Query::all(), Some(2), false, Some(2)), [2, 3]);
    let tagged = Query::new(vec![QueryItem::tags(["y"])]);
    assert_eq!(
        read(&store, tagged.clone(), None, true, Some(1)),
        [5],
        "the last matching event"
    );
    assert_eq!(read(&store, tagged, Some(4), true, Some(1)), [3]);
    assert_eq!(
        read(&store, Query::all(), Some(99), false, None),
        Vec::<u64>::new()
    );
}

#[test]
fn conditions_fail_only_on_a_match_after_the_given_position() {
    let (_dir, store) = sample();
    let b_y = Query::new(vec![QueryItem::types(["B"]).with_tags(["y"])]); // matches 2 and 5
    let cond = |after| AppendCondition {
        fail_if_events_match: b_y.clone(),
        after,
    };
    let meta = AppendMeta::default();
    let try_append =
        |c: &AppendCondition| store.append(&[event("D", &[])], Some(c), &meta).unwrap();

    assert_eq!(
        try_append(&cond(None)),
        AppendOutcome::ConditionFailed,
        "any match fails without after"
    );
    assert_eq!(
        try_append(&cond(Some(4))),
        AppendOutcome::ConditionFailed,
        "5 > 4"
    );
    assert_eq!(
        try_append(&cond(Some(5))),
        AppendOutcome::Appended { first: 6, last: 6 },
        "after is exclusive"
    );
    assert_eq!(
        try_append(&cond(Some(100))),
        AppendOutcome::Appended { first: 7, last: 7 },
        "after may pass the last match"
    );
    let nothing = AppendCondition {
        fail_if_events_match: Query::new(vec![QueryItem::types(["Z"])]),
        after: None,
    };
    assert_eq!(
        try_append(&nothing),
        AppendOutcome::Appended { first: 8, last: 8 }
    );
    // A failed condition wrote nothing: still gapless.
    assert_eq!(
        read(&store, Query::all(), None, false, None),
        (1..=8).collect::<Vec<_>>()
    );
}

#[test]
fn appends_are_whole_or_nothing_and_checked() {
    let (_dir, store) = sample();
    let meta = AppendMeta::default();
    assert!(
        store.append(&[], None, &meta).is_err(),
        "an append needs events"
    );
    let bad_json = NewEvent {
        data: "{oops".into(),
        ..event("A", &[])
    };
    let error = store
        .append(&[event("A", &[]), bad_json], None, &meta)
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("event 1 ('A'): data is not JSON"),
        "{error:#}"
    );
    assert_eq!(store.head(), 5, "nothing of a refused append is written");
}

#[test]
fn an_idempotency_key_is_used_once() {
    let (_dir, store) = sample();
    let meta = AppendMeta {
        idempotency_key: Some("k1".into()),
        ..AppendMeta::default()
    };
    assert!(matches!(
        store.append(&[event("A", &[])], None, &meta).unwrap(),
        AppendOutcome::Appended { .. }
    ));
    assert_eq!(
        store.append(&[event("A", &[])], None, &meta).unwrap(),
        AppendOutcome::Duplicate
    );
    assert!(store.has_idempotency_key("k1").unwrap());
    assert_eq!(store.head(), 6);
}

/// The public consistency workload: writers read the last position matching
/// a random query and append with that as `after`, recording it. Afterwards
/// every event's recorded position must be the real last match before it.
#[test]
fn no_conflicting_append_slips_through_parallel_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(&dir.path().join("events.sqlite")).unwrap();
    let keys = ["k0", "k1", "k2"];
    let threads: Vec<_> = (0..6u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut appended = 0;
                let mut failed = 0;
                for i in 0..60u64 {
                    let key = keys[((t * 7 + i * 13) % 3) as usize];
                    let query = Query::new(vec![QueryItem::tags([format!("key:{key}")])]);
                    let last = store
                        .read(
                            &query,
                            ReadOptions {
                                from: None,
                                backwards: true,
                                limit: Some(1),
                            },
                        )
                        .unwrap()
                        .first()
                        .map_or(0, |e| e.position);
                    let new = NewEvent {
                        event_type: "Wrote".into(),
                        tags: vec![format!("key:{key}")],
                        data: format!(r#"{{"last_seen":{last},"key":"{key}"}}"#),
                    };
                    let cond = AppendCondition {
                        fail_if_events_match: query,
                        after: Some(last),
                    };
                    match store
                        .append(&[new], Some(&cond), &AppendMeta::default())
                        .unwrap()
                    {
                        AppendOutcome::Appended { .. } => appended += 1,
                        AppendOutcome::ConditionFailed => failed += 1,
                        AppendOutcome::Duplicate => unreachable!(),
                    }
                }
                (appended, failed)
            })
        })
        .collect();
    let (mut appended, mut failed) = (0, 0);
    for thread in threads {
        let (a, f) = thread.join().unwrap();
        appended += a;
        failed += f;
    }
    let events = store.read(&Query::all(), ReadOptions::default()).unwrap();
    assert_eq!(events.len(), appended);
    assert!(
        appended > 0 && failed > 0,
        "the race was real: {appended} appended, {failed} refused"
    );
    let mut last_by_key: BTreeMap<String, u64> = BTreeMap::new();
    for e in &events {
        let data: serde_json::Value = serde_json::from_str(e.data.get()).unwrap();
        let key = data["key"].as_str().unwrap().to_owned();
        let real_last = last_by_key.get(&key).copied().unwrap_or(0);
        assert_eq!(
            data["last_seen"].as_u64().unwrap(),
            real_last,
            "event {} slipped through",
            e.position
        );
        last_by_key.insert(key, e.position);
    }
}

#[test]
fn parallel_unrelated_writers_never_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(&dir.path().join("events.sqlite")).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for _ in 0..50 {
                    let query = Query::new(vec![QueryItem::tags([format!("writer:{t}")])]);
                    let cond = AppendCondition {
                        fail_if_events_match: query,
                        after: Some(last),
                    };
                    let new = NewEvent {
                        event_type: "W".into(),
                        tags: vec![format!("writer:{t}")],
                        data: "{}".into(),
                    };
                    match store
                        .append(&[new], Some(&cond), &AppendMeta::default())
                        .unwrap()
                    {
                        AppendOutcome::Appended { last: l, .. } => last = l,
                        other => panic!("writer {t} conflicted: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(store.head(), 200);
}

#[test]
fn export_and_import_round_trip_exactly() {
    let (_dir, store) = sample();
    let meta = AppendMeta {
        correlation_id: Some("c".into()),
        causation_id: Some("d".into()),
        triggering_event_id: Some("t".into()),
        idempotency_key: Some("i".into()),
        timestamp: None,
    };
    store.append(&[event("E", &["z"])], None, &meta).unwrap();
    let exported = store.read(&Query::all(), ReadOptions::default()).unwrap();
    let lines: Vec<String> = exported
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let copy = EventStore::open(&dir.path().join("copy.sqlite")).unwrap();
    let parsed: Vec<StoredEvent> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(copy.import(&parsed).unwrap(), 6);
    let reimported = copy.read(&Query::all(), ReadOptions::default()).unwrap();
    assert_eq!(reimported, exported);
    let relines: Vec<String> = reimported
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(relines, lines, "byte for byte");
    // Tags are matchable after import, and a second import of the same history is refused whole.
    assert_eq!(
        read(
            &copy,
            Query::new(vec![QueryItem::tags(["z"])]),
            None,
            false,
            None
        ),
        [6]
    );
    let error = copy.import(&parsed).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("without gaps, so the next one is 7"),
        "{error}"
    );
    assert_eq!(copy.head(), 6);
}

#[tokio::test]
async fn watching_the_head_wakes_on_append() {
    let (_dir, store) = sample();
    let mut head = store.watch_head();
    let writer = store.clone();
    let task = tokio::spawn(async move {
        head.changed().await.unwrap();
        *head.borrow()
    });
    tokio::task::yield_now().await;
    append(&writer, &[event("A", &[])]);
    assert_eq!(task.await.unwrap(), 6);
}

/// The child side of the kill test: appends until killed, printing each
/// acknowledged position.
#[test]
#[ignore = "run as a child process by every_acknowledged_append_survives_kill_9"]
fn append_until_killed() {
    let Some(path) = std::env::var_os("WBX_KILL_STORE") else {
        return;
    };
    let store = EventStore::open(std::path::Path::new(&path)).unwrap();
    let mut out = std::io::stdout().lock();
    loop {
        let last = append(&store, &[event("A", &["k"]), event("B", &[])]);
        use std::io::Write;
        writeln!(out, "{last}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn every_acknowledged_append_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "append_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WBX_KILL_STORE", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(last) = line.unwrap().trim().parse::<u64>() else {
            continue;
        };
        acknowledged = last;
        if acknowledged >= 2000 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store = Arc::new(EventStore::open(&path).unwrap());
    let events = store.read(&Query::all(), ReadOptions::default()).unwrap();
    assert!(
        events.len() as u64 >= acknowledged,
        "lost acknowledged events: {} < {acknowledged}",
        events.len()
    );
    assert_eq!(
        positions(&events),
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "gapless"
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(
        events.len() % 2,
        0,
        "an append of two events is whole or absent"
    );
}

#[test]
fn an_import_with_a_gap_is_refused_whole() {
    let (_dir, store) = sample();
    let events = store.read(&Query::all(), ReadOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = EventStore::open(&dir.path().join("copy.sqlite")).unwrap();
    let gapped: Vec<_> = events.into_iter().filter(|e| e.position != 3).collect();
    let error = copy.import(&gapped).unwrap_err();
    assert!(
        error.to_string().starts_with("event at position 4 (id "),
        "{error}"
    );
    assert_eq!(copy.head(), 0, "nothing was written");
}
