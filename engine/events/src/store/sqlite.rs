//! The SQLite backend: one append-only log in a file (WAL), the embedded
//! default.
//!
//! One writer connection behind a mutex makes every append, with its
//! condition check and idempotency check, a single `BEGIN IMMEDIATE`
//! transaction: no conflicting append can slip between check and write.
//! Readers use their own connections and never block the writer (WAL),
//! except a command's read, which borrows the writer's connection when it
//! is free (see [`super::EventStore::read_for_command`]).
//! Positions are SQLite rowids of a table that is never deleted from, so
//! they start at 1 and have no gaps. With WAL and `synchronous=NORMAL`, a
//! committed append survives the process being killed (not a power cut).
//! The log is copied back into the file by a thread of its own
//! ([`super::checkpoint`]), not by the appends, and another thread follows
//! it into the text index ([`super::search`]). Ids are indexed in a table
//! of their own a few hundred at a time, by the append that finds that
//! many unindexed ([`index_ids`]), not one by one.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params_from_iter};

use super::checkpoint::{Checkpointer, WRITER_THRESHOLD};
use super::search::TextIndex;
use super::{Append, AppendOutcome, Backend, Lease, Select, Via, check_next, join_tags};
use super::{split_tags, stored_data};
use crate::bindings::Event;
use crate::envelope::{StoredEvent, from_ms};
use crate::query::{Dialect, Param};
use wbx_core::BoxFuture;
use wbx_core::sync::lock;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY,
        id TEXT NOT NULL CHECK (id <> ''),
        type TEXT NOT NULL,
        tags TEXT NOT NULL,
        data TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        correlation_id TEXT,
        causation_id TEXT,
        triggering_event_id TEXT,
        idempotency_key TEXT
    );
    CREATE INDEX IF NOT EXISTS events_type ON events (type, position);
    CREATE INDEX IF NOT EXISTS events_idempotency ON events (idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE TABLE IF NOT EXISTS event_tags (
        tag TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (tag, position)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS event_ids (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ids_indexed (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        position INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO ids_indexed VALUES (1, 0);
";

/// The layout [`SCHEMA`] makes (`PRAGMA user_version`). Layout 0 kept a
/// unique index on `events.id`, written by every append; layout 1 indexes
/// ids in `event_ids`, behind the log (see [`index_ids`]).
const LAYOUT: i64 = 1;

/// How far `event_ids` may fall behind the log: an append that leaves more
/// events than this unindexed indexes them in its transaction.
const IDS_BEHIND: u64 = 256;

pub(crate) struct SqliteBackend {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Checkpointer,
    /// Why the index cannot be opened (a read-only directory, a damaged
    /// file): the store works, search scans, and `wbx doctor` says why.
    text_index: Result<TextIndex, String>,
}

impl SqliteBackend {
    /// Opens (creating if needed) the store at `path`.
    pub(crate) fn open(path: &Path) -> Result<SqliteBackend> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut writer = Connection::open(path)
            .with_context(|| format!("cannot open the event store {}", path.display()))?;
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA wal_autocheckpoint = {WRITER_THRESHOLD};"
            ))
            .context("cannot set up the event store's journal")?;
        // Commands' reads share its statement cache with the appends.
        writer.set_prepared_statement_cache_capacity(64);
        lay_out(&mut writer)
            .with_context(|| format!("{} is not a wbx event store", path.display()))?;
        Ok(SqliteBackend {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            checkpointer: Checkpointer::start(path)?,
            text_index: TextIndex::start(path).map_err(|e| format!("{e:#}")),
        })
    }

    fn with_connection<R>(&self, via: Via, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        if let Via::WriterWhenFree = via
            && let Ok(writer) = self.writer.try_lock()
        {
            return f(&writer);
        }
        self.with_reader(f)
    }

    fn with_reader<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| format!("cannot open {}", self.path.display()))?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        let result = f(&conn);
        lock(&self.readers).push(conn);
        result
    }

    fn select<T>(&self, select: Select, map: RowMap<T>, via: Via) -> Result<Vec<T>> {
        self.with_connection(via, |conn| {
            let mut statement = conn.prepare_cached(&select.sql)?;
            let rows = statement.query_map(params_from_iter(select.params.iter()), map)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
        })
    }
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn head(&self) -> Result<u64> {
        let writer = lock(&self.writer);
        writer
            .query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                r.get(0)
            })
            .map_err(Into::into)
    }

    fn events(&self, select: Select, via: Via) -> Result<Vec<StoredEvent>> {
        self.select(select, row_to_event, via)
    }

    fn guest_events(&self, select: Select, via: Via) -> Result<Vec<Event>> {
        self.select(select, row_to_guest, via)
    }

    fn has_idempotency_key(&self, key: &str) -> Result<bool> {
        self.with_reader(|conn| {
            conn.prepare_cached("SELECT 1 FROM events WHERE idempotency_key = ? LIMIT 1")?
                .exists([key])
                .map_err(Into::into)
        })
    }

    fn append(&self, group: &mut [Append]) -> Result<Vec<AppendOutcome>> {
        let mut writer = lock(&self.writer);
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(group.len());
        for append in group {
            if let Some(refused) = refusal(&tx, append)? {
                outcomes.push(refused);
                continue;
            }
            for event in &mut append.events {
                insert(&tx, event, None)?;
                event.position = tx.last_insert_rowid() as u64;
                insert_tags(&tx, event)?;
            }
            let (first, last) = (
                append.events[0].position,
                append.events[append.events.len() - 1].position,
            );
            outcomes.push(AppendOutcome::Appended { first, last });
        }
        if let Some(head) = appended_head(&outcomes) {
            index_ids(&tx, head, IDS_BEHIND)?;
        }
        tx.commit().context("cannot commit the append")?;
        self.checkpointer.committed();
        if let (Ok(index), Some(head)) = (&self.text_index, appended_head(&outcomes)) {
            index.committed(head);
        }
        Ok(outcomes)
    }

    fn import(&self, events: &[StoredEvent]) -> Result<u64> {
        let mut writer = lock(&self.writer);
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut last: u64 =
            tx.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                r.get(0)
            })?;
        // Every id there indexed first, so that each imported one is
        // checked against all of them as it goes in.
        index_ids(&tx, last, 0)?;
        for event in events {
            check_next(event, last)?;
            insert(&tx, event, Some(event.position))
                .and_then(|()| insert_id(&tx, &event.id, event.position))
                .with_context(|| {
                    format!(
                        "event at position {} (id {}) cannot be stored",
                        event.position, event.id
                    )
                })?;
            insert_tags(&tx, event)?;
            last = event.position;
        }
        tx.prepare_cached("UPDATE ids_indexed SET position = ?")?
            .execute([last])?;
        tx.commit().context("cannot commit the import")?;
        self.checkpointer.committed();
        if let Ok(index) = &self.text_index {
            index.committed(last);
        }
        Ok(events.len() as u64)
    }

    /// SQLite's own check of the file.
    fn check(&self) -> Result<String> {
        self.with_reader(|conn| {
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(Into::into)
        })
    }

    /// A SQLite store belongs to one engine: the lease is this engine's.
    fn lease(&self, _name: &str) -> BoxFuture<'static, Result<Lease>> {
        Box::pin(async { Ok(Lease::sole()) })
    }

    fn effect_mark(&self, _effect: &str) -> Result<Option<u64>> {
        Ok(None)
    }

    fn save_effect_mark(&self, _effect: &str, _position: u64) -> Result<()> {
        Ok(())
    }

    fn text_index(&self) -> Option<&TextIndex> {
        self.text_index.as_ref().ok()
    }

    fn text_index_problem(&self) -> Option<String> {
        self.text_index.as_ref().err().cloned()
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Text(text) => text.to_sql(),
            Param::Position(position) => position.to_sql(),
        }
    }
}

/// Why an append must not happen, checked inside its transaction: its
/// idempotency key was used, or an event matches its condition.
fn refusal(tx: &rusqlite::Transaction<'_>, append: &Append) -> Result<Option<AppendOutcome>> {
    if let Some(key) = &append.idempotency_key {
        let seen = tx
            .prepare_cached("SELECT 1 FROM events WHERE idempotency_key = ? LIMIT 1")?
            .exists([key])?;
        if seen {
            return Ok(Some(AppendOutcome::Duplicate));
        }
    }
    if let Some(condition) = &append.condition
        && tx
            .prepare_cached(&condition.sql)?
            .exists(params_from_iter(condition.params.iter()))?
    {
        return Ok(Some(AppendOutcome::ConditionFailed));
    }
    Ok(None)
}

/// Inserts `event`'s row, at `position` when given (else the next rowid).
fn insert(
    tx: &rusqlite::Transaction<'_>,
    event: &StoredEvent,
    position: Option<u64>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO events (position, id, type, tags, data, timestamp_ms, correlation_id, \
         causation_id, triggering_event_id, idempotency_key) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        position,
        event.id,
        event.event_type,
        join_tags(&event.tags),
        event.data.get(),
        event.timestamp_ms(),
        event.correlation_id,
        event.causation_id,
        event.triggering_event_id,
        event.idempotency_key,
    ])?;
    Ok(())
}

fn insert_tags(tx: &rusqlite::Transaction<'_>, event: &StoredEvent) -> Result<()> {
    let mut insert_tag =
        tx.prepare_cached("INSERT OR IGNORE INTO event_tags (tag, position) VALUES (?, ?)")?;
    for tag in &event.tags {
        insert_tag.execute(rusqlite::params![tag, event.position])?;
    }
    Ok(())
}

/// The last position appended among `outcomes`, if any was.
fn appended_head(outcomes: &[AppendOutcome]) -> Option<u64> {
    outcomes.iter().rev().find_map(|outcome| match outcome {
        AppendOutcome::Appended { last, .. } => Some(*last),
        _ => None,
    })
}

/// Indexes the ids of the events up to `head` when more than `behind` of
/// them are not indexed yet.
///
/// An append used to write its id into a unique index of the events
/// table, a page of its own in every commit (a fifth of an append's time);
/// indexed a few hundred at a time, they share their pages. Ids are made
/// unique by the appends themselves (UUIDv7), so an id already indexed is
/// passed over here rather than failing the append that happens to index
/// it; an import, whose ids come from elsewhere, has each checked as it
/// goes in ([`insert_id`]).
fn index_ids(tx: &rusqlite::Transaction<'_>, head: u64, behind: u64) -> Result<()> {
    let indexed: u64 = tx
        .prepare_cached("SELECT position FROM ids_indexed")?
        .query_row([], |r| r.get(0))?;
    if head.saturating_sub(indexed) <= behind {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT OR IGNORE INTO event_ids (id, position) \
         SELECT id, position FROM events WHERE position > ?1 AND position <= ?2",
    )?
    .execute([indexed, head])?;
    tx.prepare_cached("UPDATE ids_indexed SET position = ?")?
        .execute([head])?;
    Ok(())
}

fn insert_id(tx: &rusqlite::Transaction<'_>, id: &str, position: u64) -> Result<()> {
    tx.prepare_cached("INSERT INTO event_ids (id, position) VALUES (?, ?)")?
        .execute(rusqlite::params![id, position])
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                anyhow::anyhow!("another event already has this id")
            }
            _ => e.into(),
        })?;
    Ok(())
}

/// Makes the store's tables, or brings a store of an earlier layout to
/// [`LAYOUT`] in one transaction (once; a few seconds a million events).
fn lay_out(conn: &mut Connection) -> Result<()> {
    let layout = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    };
    if layout(conn)? >= LAYOUT {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have done it meanwhile.
    if layout(&tx)? >= LAYOUT {
        return Ok(());
    }
    let earlier: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events')",
        [],
        |r| r.get(0),
    )?;
    if earlier {
        // Layout 0's unique index on ids belongs to the table: the rows move
        // to a table made by SCHEMA without it, keeping every position. The
        // other indexes are made again there, under their names.
        tx.execute_batch(
            "ALTER TABLE events RENAME TO events_layout_0;
             DROP INDEX IF EXISTS events_type;
             DROP INDEX IF EXISTS events_idempotency;",
        )?;
    }
    tx.execute_batch(SCHEMA)?;
    if earlier {
        tx.execute_batch(
            "INSERT INTO events SELECT position, id, type, tags, data, timestamp_ms,
                 correlation_id, causation_id, triggering_event_id, idempotency_key
                 FROM events_layout_0;
             DROP TABLE events_layout_0;",
        )
        .context("cannot bring the store to its new layout")?;
    }
    let head: u64 = tx.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
        r.get(0)
    })?;
    index_ids(&tx, head, 0)?;
    tx.execute_batch(&format!("PRAGMA user_version = {LAYOUT}"))?;
    tx.commit()?;
    Ok(())
}

/// Turns a row of [`super::COLUMNS`] into what a read returns.
type RowMap<T> = fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

fn row_to_guest(row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        position: row.get(0)?,
        id: row.get(1)?,
        event_type: row.get(2)?,
        tags: split_tags(row.get_ref(3)?.as_str()?),
        data: row.get(4)?,
        timestamp_ms: row.get(5)?,
    })
}

fn row_to_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        position: row.get(0)?,
        id: row.get(1)?,
        event_type: row.get(2)?,
        tags: split_tags(row.get_ref(3)?.as_str()?),
        data: stored_data(row.get(4)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?,
        timestamp: from_ms(row.get(5)?),
        correlation_id: row.get(6)?,
        causation_id: row.get(7)?,
        triggering_event_id: row.get(8)?,
        idempotency_key: row.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Bound, Query, QueryItem, ReadOptions, SqlParams};

    /// A command's read and its condition look at the events of its tags
    /// from the bound on, never at every event of its types.
    #[test]
    fn tagged_queries_are_driven_by_their_tags() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteBackend::open(&dir.path().join("events.sqlite")).unwrap();
        let query = Query::new(vec![
            QueryItem::types(["Incremented"]).with_tags(["counter:a"]),
        ]);
        let from = ReadOptions {
            from: Some(5),
            ..ReadOptions::default()
        };
        for bound in [Bound::after(5), Bound::of(&from).unwrap()] {
            let mut params = SqlParams::new(Dialect::Sqlite);
            let sql = format!(
                "SELECT 1 FROM events e WHERE {}",
                query.to_sql(Some(bound), &mut params)
            );
            let plan = plan(&store, &sql, &params.params);
            assert!(
                plan.contains("event_tags USING PRIMARY KEY (tag=? AND position>?)"),
                "{plan}"
            );
            assert!(!plan.contains("events_type"), "{plan}");
        }
    }

    /// An event is looked up by its id in the ids' index and in the few
    /// events after it, never by scanning the log.
    #[test]
    fn an_id_is_looked_up_not_scanned_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteBackend::open(&dir.path().join("events.sqlite")).unwrap();
        let select = super::super::by_id(Dialect::Sqlite, "some-id");
        let plan = plan(&store, &select.sql, &select.params);
        assert!(
            plan.contains("SEARCH event_ids USING PRIMARY KEY (id=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN e"), "{plan}");
    }

    /// What SQLite plans for `sql`, its steps joined.
    fn plan(store: &SqliteBackend, sql: &str, params: &[Param]) -> String {
        let writer = store.writer.lock().unwrap();
        let mut statement = writer
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        statement
            .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("; ")
    }
}
