//! The DCB event store: semantics at every edge, concurrent writers with
//! conditions, durability across `kill -9`, and export/import. Every test
//! runs against both backends (`sqlite::…`, `postgres::…`, see
//! `on_both!`); the PostgreSQL-only ones follow them: appends from several
//! engines, gaps no reader may see, notifications.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use wbx_events::{
    AppendCondition, AppendMeta, AppendOutcome, Arrival, Browse, EventStore, NewEvent, Query,
    QueryItem, ReadOptions, StoreLocation, StoredEvent,
};

use crate::stores::{Backend, Fresh};

on_both!(
    positions_start_at_one_and_have_no_gaps,
    query_items_match_types_and_all_tags_and_are_ored,
    read_options_from_is_inclusive_backwards_and_limit,
    conditions_fail_only_on_a_match_after_the_given_position,
    appends_are_whole_or_nothing_and_checked,
    an_idempotency_key_is_used_once,
    no_conflicting_append_slips_through_parallel_writers,
    parallel_unrelated_writers_never_conflict,
    export_and_import_round_trip_exactly_into_the_other_backend,
    watching_the_head_wakes_on_append,
    every_acknowledged_append_survives_kill_9,
    an_import_with_a_gap_is_refused_whole,
    browsing_finds_text_in_any_case,
    browsing_by_text_finds_exactly_what_a_scan_finds,
    reading_from_past_the_end_finds_nothing,
    an_event_is_found_by_its_id,
    an_import_refuses_an_id_the_store_has,
);

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
fn sample(backend: Backend) -> (Fresh, EventStore) {
    let fresh = Fresh::new(backend);
    let store = fresh.open();
    append(&store, &[event("A", &["x"]), event("B", &["x", "y"])]);
    append(&store, &[event("A", &["y"])]);
    append(&store, &[event("C", &[])]);
    append(&store, &[event("B", &["y"])]);
    (fresh, store)
}

fn positions_start_at_one_and_have_no_gaps(backend: Backend) {
    let (_fresh, store) = sample(backend);
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

fn query_items_match_types_and_all_tags_and_are_ored(backend: Backend) {
    let (_fresh, store) = sample(backend);
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

fn read_options_from_is_inclusive_backwards_and_limit(backend: Backend) {
    let (_fresh, store) = sample(backend);
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

fn conditions_fail_only_on_a_match_after_the_given_position(backend: Backend) {
    let (_fresh, store) = sample(backend);
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

fn appends_are_whole_or_nothing_and_checked(backend: Backend) {
    let (_fresh, store) = sample(backend);
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

fn an_idempotency_key_is_used_once(backend: Backend) {
    let (_fresh, store) = sample(backend);
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
///
/// On PostgreSQL the writers are split between two connections to the
/// database, as two engines on two machines would be.
fn no_conflicting_append_slips_through_parallel_writers(backend: Backend) {
    let fresh = Fresh::new(backend);
    let store = fresh.open();
    let engines = match backend {
        Backend::Sqlite => vec![store.clone()],
        Backend::Postgres => vec![store.clone(), fresh.open()],
    };
    let keys = ["k0", "k1", "k2"];
    let threads: Vec<_> = (0..6u64)
        .map(|t| {
            let store = engines[t as usize % engines.len()].clone();
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

fn parallel_unrelated_writers_never_conflict(backend: Backend) {
    let fresh = Fresh::new(backend);
    let store = fresh.open();
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

/// A history exported from one backend and imported into the other.
fn export_and_import_round_trip_exactly_into_the_other_backend(backend: Backend) {
    let (_fresh, store) = sample(backend);
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

    let other = Fresh::new(backend.other());
    let copy = other.open();
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

fn watching_the_head_wakes_on_append(backend: Backend) {
    let (_fresh, store) = sample(backend);
    let mut head = store.watch_head();
    head.mark_unchanged();
    let writer = store.clone();
    let appended = std::thread::spawn(move || append(&writer, &[event("A", &[])]));
    assert_eq!(wait_for_head(&mut head, 6), 6);
    assert_eq!(appended.join().unwrap(), 6);
}

/// Waits (30 s at most) until `head` reaches `position`.
fn wait_for_head(head: &mut tokio::sync::watch::Receiver<u64>, position: u64) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let reached = head.wait_for(|h| *h >= position);
        tokio::time::timeout(std::time::Duration::from_secs(30), reached)
            .await
            .unwrap_or_else(|_| panic!("the head did not reach {position}"))
            .map(|h| *h)
            .unwrap()
    })
}

/// The child side of the kill test: appends until killed, printing each
/// acknowledged position.
#[test]
#[ignore = "run as a child process by every_acknowledged_append_survives_kill_9"]
fn append_until_killed() {
    let Ok(location) = std::env::var("WBX_KILL_STORE") else {
        return;
    };
    let location =
        StoreLocation::parse(&location).unwrap_or_else(|_| StoreLocation::Sqlite(location.into()));
    let store = EventStore::connect(&location).unwrap();
    let mut out = std::io::stdout().lock();
    loop {
        let last = append(&store, &[event("A", &["k"]), event("B", &[])]);
        use std::io::Write;
        writeln!(out, "{last}").unwrap();
        out.flush().unwrap();
    }
}

fn every_acknowledged_append_survives_kill_9(backend: Backend) {
    let fresh = Fresh::new(backend);
    let location = match &fresh.location {
        StoreLocation::Sqlite(path) => path.display().to_string(),
        StoreLocation::Postgres(url) => url.clone(),
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "event_store::append_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WBX_KILL_STORE", &location)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        // The harness writes "test NAME ... " before the first number.
        let line = line.unwrap();
        let Ok(last) = line.rsplit(' ').next().unwrap_or_default().parse::<u64>() else {
            continue;
        };
        acknowledged = last;
        if acknowledged >= 2000 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(acknowledged >= 2000, "the child appended: {acknowledged}");

    let store = Arc::new(fresh.open());
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

fn an_import_with_a_gap_is_refused_whole(backend: Backend) {
    let (_fresh, store) = sample(backend);
    let events = store.read(&Query::all(), ReadOptions::default()).unwrap();
    let other = Fresh::new(backend);
    let copy = other.open();
    let gapped: Vec<_> = events.into_iter().filter(|e| e.position != 3).collect();
    let error = copy.import(&gapped).unwrap_err();
    assert!(
        error.to_string().starts_with("event at position 4 (id "),
        "{error}"
    );
    assert_eq!(copy.head(), 0, "nothing was written");
}

/// On SQLite, ids are indexed a few hundred at a time behind the log: an
/// event is found by its id before and after its id is indexed.
fn an_event_is_found_by_its_id(backend: Backend) {
    let fresh = Fresh::new(backend);
    let store = fresh.open();
    for n in 0..300 {
        append(&store, &[event(&format!("E{n}"), &[])]);
    }
    let events = store.read(&Query::all(), ReadOptions::default()).unwrap();
    for position in [1, 2, 256, 257, 258, 299, 300] {
        let wanted = &events[position - 1];
        let found = store.get(&wanted.id).unwrap();
        assert_eq!(found.as_ref(), Some(wanted), "the event at {position}");
    }
    assert_eq!(store.get("no-such-id").unwrap(), None);
}

/// Ids stay unique across an import: one the store has already is refused,
/// named, and nothing of the import is written.
fn an_import_refuses_an_id_the_store_has(backend: Backend) {
    let (_fresh, store) = sample(backend);
    let events = store.read(&Query::all(), ReadOptions::default()).unwrap();
    let mut again = events[2].clone();
    again.position = 6;
    let error = store.import(&[again.clone()]).unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains(&again.id), "names the id: {message}");
    assert_eq!(store.head(), 5, "nothing was written");
    let mut fresh_id = again;
    fresh_id.id = "a-new-id".to_owned();
    assert_eq!(store.import(&[fresh_id]).unwrap(), 1);
    assert_eq!(store.get("a-new-id").unwrap().map(|e| e.position), Some(6));
}

fn browsing_finds_text_in_any_case(backend: Backend) {
    let (_fresh, store) = sample(backend);
    let found = |text: &str| {
        let browse = Browse {
            query: Query::all(),
            text: Some(text.to_owned()),
        };
        positions(&store.browse(&browse, ReadOptions::default()).unwrap())
    };
    assert_eq!(found("\"type\":\"a\""), [1, 3], "in the data, any case");
    assert_eq!(found("X"), [1, 2], "in the tags, any case");
    assert_eq!(found("100%"), Vec::<u64>::new(), "% is no wildcard");
}

/// The text index (SQLite) and the scan (PostgreSQL) find the same events
/// as a plain substring test, ASCII letters in any case and others as they
/// are, in both directions and in pages, including while the index is still
/// behind the log.
fn browsing_by_text_finds_exactly_what_a_scan_finds(backend: Backend) {
    let fresh = Fresh::new(backend);
    let store = fresh.open();
    let names = [
        "Été", "été", "BookLent", "booklent", "Quote\"d", "100%", "a_b",
    ];
    let events: Vec<NewEvent> = (0..30_000)
        .map(|n| NewEvent {
            event_type: names[n % names.len()].to_owned(),
            tags: vec![format!("shelf:S{}", n % 13)],
            data: serde_json::json!({"title": format!("Book number {n}"), "note": names[n % 5]})
                .to_string(),
        })
        .collect();
    // One append far larger than a batch of the index's follower, so the
    // first searches find the index behind.
    append(&store, &events);
    let all = store.read(&Query::all(), ReadOptions::default()).unwrap();
    // What a person sees of each event, ASCII letters in lower case.
    let seen: Vec<(u64, String, &[String])> = all
        .iter()
        .map(|e| {
            let text = format!(
                "{} {} {} {} {} {}",
                e.event_type,
                e.tags.join("\u{1f}"),
                e.data.get(),
                e.id,
                e.correlation_id.as_deref().unwrap_or(""),
                e.idempotency_key.as_deref().unwrap_or("")
            );
            (e.position, text.to_ascii_lowercase(), &e.tags[..])
        })
        .collect();
    let expected = |text: &str, shelf: Option<&str>| -> Vec<u64> {
        let needle = text.to_ascii_lowercase();
        seen.iter()
            .filter(|(_, text, tags)| {
                text.contains(&needle) && shelf.is_none_or(|s| tags.iter().any(|t| t == s))
            })
            .map(|(position, ..)| *position)
            .collect()
    };
    let texts = [
        "booklent",
        "ÉTÉ",
        "été",
        "e\"d",
        "100%",
        "a_b",
        "number 2999",
        "number 29999",
        "nowhere at all",
        "Bo",
        "t\u{1f}",
        "lent shelf:s1",
    ];
    let mut while_behind = 0;
    for round in 0.. {
        let caught_up = store.wait_for_text_index(std::time::Duration::ZERO);
        for text in texts {
            for shelf in [None, Some("shelf:S4")] {
                let query = match shelf {
                    Some(tag) => Query::new(vec![QueryItem::default().with_tags([tag])]),
                    None => Query::all(),
                };
                let browse = Browse {
                    query,
                    text: Some(text.to_owned()),
                };
                let want = expected(text, shelf);
                let forwards = store.browse(&browse, ReadOptions::default()).unwrap();
                assert_eq!(positions(&forwards), want, "'{text}' {shelf:?}");
                let page = ReadOptions {
                    from: want.get(want.len() / 2).copied(),
                    backwards: true,
                    limit: Some(7),
                };
                let backwards: Vec<u64> = want[..want.len().min(want.len() / 2 + 1)]
                    .iter()
                    .rev()
                    .take(7)
                    .copied()
                    .collect();
                assert_eq!(
                    positions(&store.browse(&browse, page).unwrap()),
                    backwards,
                    "'{text}' {shelf:?} backwards from the middle"
                );
            }
        }
        if caught_up {
            break;
        }
        while_behind += 1;
        assert!(round < 10_000, "the text index never caught up");
    }
    if let Backend::Sqlite = backend {
        assert!(while_behind > 0, "every search ran on a complete index");
        assert!(
            store.wait_for_text_index(std::time::Duration::from_secs(60)),
            "the text index holds the whole log"
        );
    }
}

/// A client of the tests' own on `location`'s database, beside the store's,
/// on `runtime`.
fn raw_client(
    runtime: &tokio::runtime::Runtime,
    location: &StoreLocation,
) -> tokio_postgres::Client {
    let StoreLocation::Postgres(url) = location else {
        panic!("not a PostgreSQL store: {location}");
    };
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    })
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Waits (30 s at most) until `sql`, a count, gives at least `n`.
fn wait_for_count(
    runtime: &tokio::runtime::Runtime,
    client: &tokio_postgres::Client,
    sql: &str,
    n: i64,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let count: i64 = runtime.block_on(client.query_one(sql, &[])).unwrap().get(0);
        if count >= n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "never {n}: {sql}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Append A has its position and is not committed (the test holds it, as
/// an append does: head row locked, event inserted, head moved); B comes
/// after it. No reader may see B while A is open, or a projector that read
/// B would skip A for good: B waits for A's lock, so it gets the next
/// position and commits after A.
#[test]
fn postgres_a_reader_never_sees_an_append_before_an_earlier_one_commits() {
    let fresh = Fresh::new(Backend::Postgres);
    let store = fresh.open();
    let writer = fresh.open();
    append(&store, &[event("First", &[])]);
    let runtime = current_thread();
    let holder = raw_client(&runtime, &fresh.location);
    runtime
        .block_on(holder.batch_execute(
            "BEGIN; SELECT position FROM wbx.event_head FOR UPDATE; \
             INSERT INTO wbx.events (position, id, type, tags, data, timestamp_ms) \
             VALUES (2, 'held', 'A', '', '{}', 0); \
             UPDATE wbx.event_head SET position = 2",
        ))
        .unwrap();
    let b = std::thread::spawn(move || append(&writer, &[event("B", &[])]));
    let watcher = raw_client(&runtime, &fresh.location);
    wait_for_count(
        &runtime,
        &watcher,
        "SELECT COUNT(*) FROM pg_locks WHERE NOT granted",
        1,
    );
    assert!(!b.is_finished(), "B waits for A");
    assert_eq!(read(&store, Query::all(), None, false, None), [1]);
    runtime.block_on(holder.batch_execute("COMMIT")).unwrap();
    assert_eq!(b.join().unwrap(), 3, "B comes after A");
    assert_eq!(read(&store, Query::all(), None, false, None), [1, 2, 3]);
}

/// Another engine's append reaches this one's head by NOTIFY, and after
/// the listening connection is cut, the head catches up with what was
/// appended meanwhile.
#[test]
fn postgres_another_engines_appends_move_the_head_even_across_a_lost_listener() {
    let fresh = Fresh::new(Backend::Postgres);
    let (here, there) = (fresh.open(), fresh.open());
    let mut head = here.watch_head();
    let mut arrivals = here.watch_arrivals();
    append(&there, &[event("A", &[])]);
    assert_eq!(wait_for_head(&mut head, 1), 1, "notified");
    // Heard of as another engine's; this engine's own appends are not.
    append(&here, &[event("Own", &[])]);
    append(&there, &[event("B", &[]), event("C", &[])]);
    let heard = [next_arrival(&mut arrivals), next_arrival(&mut arrivals)];
    assert_eq!(
        heard,
        [Arrival { first: 1, last: 1 }, Arrival { first: 3, last: 4 }]
    );

    let runtime = current_thread();
    let admin = raw_client(&runtime, &fresh.location);
    let listeners = "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE application_name = 'wbx-listener' AND datname = current_database()";
    wait_for_count(&runtime, &admin, listeners, 2);
    let cut: i64 = runtime
        .block_on(admin.query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'wbx-listener' AND datname = current_database()",
            &[],
        ))
        .unwrap()
        .get(0);
    assert_eq!(cut, 2, "both engines' listeners were cut");
    append(&there, &[event("D", &[]), event("E", &[])]);
    assert_eq!(wait_for_head(&mut head, 6), 6, "caught up");
    wait_for_count(&runtime, &admin, listeners, 2);
    append(&there, &[event("F", &[])]);
    assert_eq!(wait_for_head(&mut head, 7), 7, "listening again");
}

/// The next arrival `arrivals` hears of (30 s at most).
fn next_arrival(arrivals: &mut tokio::sync::broadcast::Receiver<Arrival>) -> Arrival {
    current_thread().block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(30), arrivals.recv())
            .await
            .expect("an arrival")
            .unwrap()
    })
}

/// The child side of the lease test: takes the lease, says so, and holds
/// it until killed.
#[test]
#[ignore = "run as a child process by postgres_a_lease_passes_to_a_waiting_engine_when_its_holder_is_killed"]
fn hold_a_lease_until_killed() {
    let Ok(url) = std::env::var("WBX_LEASE_STORE") else {
        return;
    };
    let store = EventStore::connect(&StoreLocation::Postgres(url)).unwrap();
    let runtime = current_thread();
    let _lease = runtime.block_on(store.lease("effect:notify")).unwrap();
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "held").unwrap();
    out.flush().unwrap();
    drop(out);
    loop {
        std::thread::park();
    }
}

#[test]
fn postgres_a_lease_passes_to_a_waiting_engine_when_its_holder_is_killed() {
    let fresh = Fresh::new(Backend::Postgres);
    let StoreLocation::Postgres(url) = &fresh.location else {
        unreachable!()
    };
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "event_store::hold_a_lease_until_killed",
            "--ignored",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env("WBX_LEASE_STORE", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(
        // The harness writes "test NAME ... " before it, on the same line.
        lines.any(|l| l.unwrap().trim_end().ends_with("held")),
        "the first engine took the lease"
    );
    let store = fresh.open();
    let runtime = current_thread();
    let admin = raw_client(&runtime, &fresh.location);
    let waiting = runtime.spawn({
        let store = store.clone();
        async move { store.lease("effect:notify").await }
    });
    wait_for_count(
        &runtime,
        &admin,
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        1,
    );
    assert!(!waiting.is_finished(), "the second engine waits");
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let lease = runtime
        .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(30), waiting).await })
        .expect("the lease passed on")
        .unwrap()
        .unwrap();
    assert!(!lease.is_lost());
    // Another name is free all along.
    runtime.block_on(store.lease("effect:other")).unwrap();
}

fn reading_from_past_the_end_finds_nothing(backend: Backend) {
    let (_fresh, store) = sample(backend);
    assert_eq!(
        read(&store, Query::all(), Some(u64::MAX), false, None),
        Vec::<u64>::new()
    );
    assert_eq!(
        read(&store, Query::all(), Some(u64::MAX), true, Some(2)),
        [5, 4]
    );
}

/// The SQLite store's log is copied back into the database file by the
/// checkpointer while appends go on, long before the writer's own
/// threshold (4 096 pages, which 600 single appends do not reach).
#[test]
fn sqlite_the_log_is_checkpointed_off_the_append_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    let store = EventStore::open(&path).unwrap();
    let empty = std::fs::metadata(&path).unwrap().len();
    for i in 0..600 {
        append(&store, &[event("Wrote", &[&format!("key:{}", i % 100)])]);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let size = std::fs::metadata(&path).unwrap().len();
        // 600 small events take about 100 KiB of pages.
        if size > empty + (40 << 10) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file is still {size} bytes: nothing was checkpointed"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(store.head(), 600);
}

/// A store of the first layout, whose events table kept a unique index on
/// ids, is brought to the current one when opened: every event kept at its
/// position, found by its tags and its id, its ids still unique.
#[test]
fn sqlite_a_store_of_the_first_layout_is_brought_to_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE events (
                 position INTEGER PRIMARY KEY,
                 id TEXT NOT NULL UNIQUE,
                 type TEXT NOT NULL,
                 tags TEXT NOT NULL,
                 data TEXT NOT NULL,
                 timestamp_ms INTEGER NOT NULL,
                 correlation_id TEXT,
                 causation_id TEXT,
                 triggering_event_id TEXT,
                 idempotency_key TEXT
             );
             CREATE INDEX events_type ON events (type, position);
             CREATE INDEX events_idempotency ON events (idempotency_key)
                 WHERE idempotency_key IS NOT NULL;
             CREATE TABLE event_tags (
                 tag TEXT NOT NULL,
                 position INTEGER NOT NULL,
                 PRIMARY KEY (tag, position)
             ) WITHOUT ROWID;
             INSERT INTO events (position, id, type, tags, data, timestamp_ms)
                 VALUES (1, 'first', 'Opened', 'account:a', '{}', 1000),
                        (2, 'second', 'Closed', 'account:a', '{}', 2000);
             INSERT INTO event_tags VALUES ('account:a', 1), ('account:a', 2);",
        )
        .unwrap();
    }
    let store = EventStore::open(&path).unwrap();
    assert_eq!(store.get("second").unwrap().map(|e| e.position), Some(2));
    assert_eq!(
        positions(
            &store
                .read(
                    &Query::new(vec![QueryItem::types(["Closed"]).with_tags(["account:a"])]),
                    ReadOptions::default()
                )
                .unwrap()
        ),
        [2]
    );
    assert_eq!(append(&store, &[event("Opened", &["account:b"])]), 3);
    let mut copy = store.read(&Query::all(), ReadOptions::default()).unwrap()[0].clone();
    copy.position = 4;
    let error = store.import(&[copy]).unwrap_err();
    assert!(format!("{error:#}").contains("(id first)"), "{error:#}");
    drop(store);

    let file = rusqlite::Connection::open(&path).unwrap();
    let layout: i64 = file
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let indexes: Vec<String> = file
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(layout, 1);
    assert_eq!(
        indexes,
        ["events_idempotency", "events_type"],
        "no unique index on ids"
    );
    let integrity: String = file
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

/// The text index is a cache of the log beside it: when the log it was made
/// from is replaced, it starts over instead of answering from the old one.
#[test]
fn sqlite_a_text_index_of_a_replaced_log_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    let wait = std::time::Duration::from_secs(60);
    let found = |store: &EventStore, text: &str| {
        let browse = Browse {
            query: Query::all(),
            text: Some(text.to_owned()),
        };
        positions(&store.browse(&browse, ReadOptions::default()).unwrap())
    };
    {
        let store = EventStore::open(&path).unwrap();
        append(&store, &[event("OldShelf", &[]), event("OldShelf", &[])]);
        assert!(store.wait_for_text_index(wait));
        assert_eq!(found(&store, "oldshelf"), [1, 2]);
    }
    for file in ["events.sqlite", "events.sqlite-wal", "events.sqlite-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let store = EventStore::open(&path).unwrap();
    append(&store, &[event("NewShelf", &[])]);
    assert!(store.wait_for_text_index(wait));
    assert_eq!(found(&store, "oldshelf"), Vec::<u64>::new());
    assert_eq!(found(&store, "newshelf"), [1]);
    assert!(
        dir.path().join("events.search.sqlite").is_file(),
        "the index lives beside the log"
    );
}
