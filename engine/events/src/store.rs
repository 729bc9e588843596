//! The event store: one append-only log in SQLite (WAL), with DCB reads and
//! conditional appends.
//!
//! One writer connection behind a mutex makes every append, with its
//! condition check and idempotency check, a single `BEGIN IMMEDIATE`
//! transaction: no conflicting append can slip between check and write.
//! Readers use their own connections and never block the writer (WAL),
//! except a command's read, which borrows the writer's connection when it
//! is free (see [`EventStore::read_for_command`]).
//! Positions are SQLite rowids of a table that is never deleted from, so
//! they start at 1 and have no gaps. With WAL and `synchronous=NORMAL`, a
//! committed append survives the process being killed (not a power cut).
//!
//! Subscribers learn about new events from a `watch` channel carrying the
//! log's head, so waiting for events costs nothing while nothing happens.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params_from_iter};
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::bindings::Event;
use crate::envelope::{AppendMeta, NewEvent, StoredEvent, from_ms, to_ms};
use crate::query::{AppendCondition, Bound, Browse, Query, ReadOptions};
use wbx_core::sync::lock;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS events (
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
    CREATE INDEX IF NOT EXISTS events_type ON events (type, position);
    CREATE INDEX IF NOT EXISTS events_idempotency ON events (idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE TABLE IF NOT EXISTS event_tags (
        tag TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (tag, position)
    ) WITHOUT ROWID;
";

/// Tags are kept joined in the events row (for reading) and one per row in
/// `event_tags` (for matching). The separator cannot appear in a tag.
const TAG_SEPARATOR: char = '\u{1f}';

/// Columns every read selects, in `row_to_event`'s order.
const COLUMNS: &str = "e.position, e.id, e.type, e.tags, e.data, e.timestamp_ms, \
                       e.correlation_id, e.causation_id, e.triggering_event_id, e.idempotency_key";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Appended at positions `first..=last`.
    Appended { first: u64, last: u64 },
    /// An event matching the condition's query came after its `after`.
    ConditionFailed,
    /// An event with the append's idempotency key already exists.
    Duplicate,
}

#[derive(Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    head: watch::Sender<u64>,
}

impl EventStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<EventStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let writer = Connection::open(path)
            .with_context(|| format!("cannot open the event store {}", path.display()))?;
        writer
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .context("cannot set up the event store's journal")?;
        // Commands' reads share its statement cache with the appends.
        writer.set_prepared_statement_cache_capacity(64);
        writer
            .execute_batch(SCHEMA)
            .with_context(|| format!("{} is not a wbx event store", path.display()))?;
        let head: u64 =
            writer.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                r.get(0)
            })?;
        Ok(EventStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                head: watch::channel(head).0,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The highest position in the log (0 when empty).
    pub fn head(&self) -> u64 {
        *self.inner.head.borrow()
    }

    /// Follows the head: changes whenever events are appended.
    pub fn watch_head(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    fn with_connection<R>(&self, via: Via, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        if let Via::WriterWhenFree = via
            && let Ok(writer) = self.inner.writer.try_lock()
        {
            return f(&writer);
        }
        self.with_reader(f)
    }

    fn with_reader<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let pooled = lock(&self.inner.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.inner.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| format!("cannot open {}", self.inner.path.display()))?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        let result = f(&conn);
        lock(&self.inner.readers).push(conn);
        result
    }

    /// Events matching `query`, in position order (reversed when backwards).
    pub fn read(&self, query: &Query, options: ReadOptions) -> Result<Vec<StoredEvent>> {
        self.read_as(query, options, row_to_event, Via::Reader)
    }

    /// [`EventStore::read`] as guests see events: what commands fold and
    /// projectors handle, made straight from the rows (no envelope, and no
    /// second parse of data that was checked to be JSON when appended).
    pub fn read_for_guest(&self, query: &Query, options: ReadOptions) -> Result<Vec<Event>> {
        self.read_as(query, options, row_to_guest, Via::Reader)
    }

    /// [`EventStore::read_for_guest`] for a command's decision: through the
    /// writer connection when no append holds it, because a reader's page
    /// cache is dropped whenever another connection commits, so on a busy
    /// log every read came from the files again, while the writer's cache
    /// is the one the appends keep warm. An append waits for such a read to
    /// end: one fold batch at most.
    pub fn read_for_command(&self, query: &Query, options: ReadOptions) -> Result<Vec<Event>> {
        self.read_as(query, options, row_to_guest, Via::WriterWhenFree)
    }

    fn read_as<T>(
        &self,
        query: &Query,
        options: ReadOptions,
        map: RowMap<T>,
        via: Via,
    ) -> Result<Vec<T>> {
        query.validate().map_err(anyhow::Error::msg)?;
        let mut params = Vec::new();
        let sql = format!(
            "SELECT {COLUMNS} FROM events e WHERE {}",
            query.to_sql(Bound::of(&options), &mut params)
        );
        self.select(sql, params, options, map, via)
    }

    /// Events a view looks for (see [`Browse`]), in position order (reversed
    /// when backwards).
    pub fn browse(&self, browse: &Browse, options: ReadOptions) -> Result<Vec<StoredEvent>> {
        let mut params = Vec::new();
        // An item without types and tags is meaningless in a DCB query but
        // harmless here: it matches everything.
        let query = Query::new(
            browse
                .query
                .items
                .iter()
                .filter(|i| !i.types.is_empty() || !i.tags.is_empty())
                .cloned()
                .collect(),
        );
        let mut sql = format!(
            "SELECT {COLUMNS} FROM events e WHERE {}",
            query.to_sql(Bound::of(&options), &mut params)
        );
        if let Some(text) = browse.text.as_deref().filter(|t| !t.is_empty()) {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            sql.push_str(
                " AND (e.type || ' ' || e.tags || ' ' || e.data || ' ' || e.id || ' ' || \
                 COALESCE(e.correlation_id, '') || ' ' || COALESCE(e.idempotency_key, '')) \
                 LIKE ? ESCAPE '\\'",
            );
            params.push(format!("%{escaped}%"));
        }
        self.select(sql, params, options, row_to_event, Via::Reader)
    }

    fn select<T>(
        &self,
        mut sql: String,
        params: Vec<String>,
        options: ReadOptions,
        map: RowMap<T>,
        via: Via,
    ) -> Result<Vec<T>> {
        sql.push_str(if options.backwards {
            " ORDER BY e.position DESC"
        } else {
            " ORDER BY e.position"
        });
        if let Some(limit) = options.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        self.with_connection(via, |conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params_from_iter(params.iter()), map)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
        })
    }

    /// Whether any event carries `key` as its idempotency key.
    pub fn has_idempotency_key(&self, key: &str) -> Result<bool> {
        self.with_reader(|conn| {
            conn.prepare_cached("SELECT 1 FROM events WHERE idempotency_key = ? LIMIT 1")?
                .exists([key])
                .map_err(Into::into)
        })
    }

    /// The event with `id`, if any.
    pub fn get(&self, id: &str) -> Result<Option<StoredEvent>> {
        self.with_reader(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM events e WHERE e.id = ?"),
                [id],
                row_to_event,
            )
            .optional()
            .map_err(Into::into)
        })
    }

    /// Appends `events` atomically, if `condition` and the idempotency key allow.
    pub fn append(
        &self,
        events: &[NewEvent],
        condition: Option<&AppendCondition>,
        meta: &AppendMeta,
    ) -> Result<AppendOutcome> {
        self.append_stored(events, condition, meta)
            .map(|(outcome, _)| outcome)
    }

    /// [`EventStore::append`], also giving the events as stored (none when
    /// nothing was appended), so that a caller need not read them back.
    pub fn append_stored(
        &self,
        events: &[NewEvent],
        condition: Option<&AppendCondition>,
        meta: &AppendMeta,
    ) -> Result<(AppendOutcome, Vec<StoredEvent>)> {
        if events.is_empty() {
            bail!("an append needs at least one event");
        }
        for (n, event) in events.iter().enumerate() {
            check_event(event).with_context(|| format!("event {n} ('{}')", event.event_type))?;
        }
        if let Some(condition) = condition {
            condition
                .fail_if_events_match
                .validate()
                .map_err(anyhow::Error::msg)?;
        }
        let timestamp = to_ms(meta.timestamp.unwrap_or_else(SystemTime::now));

        let mut writer = lock(&self.inner.writer);
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(refused) = refusal(&tx, condition, meta)? {
            return Ok((refused, Vec::new()));
        }
        let stored = insert_new(&tx, events, timestamp, meta)?;
        tx.commit().context("cannot commit the append")?;
        drop(writer);
        let (first, last) = (stored[0].position, stored[stored.len() - 1].position);
        self.advance_head(last);
        Ok((AppendOutcome::Appended { first, last }, stored))
    }

    /// Appends whole envelopes exactly as given (an imported history), in one
    /// transaction: positions must go on from the current head without gaps,
    /// every id must be new. On any error nothing is written.
    pub fn import(&self, events: &[StoredEvent]) -> Result<u64> {
        let mut writer = lock(&self.inner.writer);
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut last: u64 =
            tx.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                r.get(0)
            })?;
        {
            let mut insert_event = tx.prepare_cached(
                "INSERT INTO events (position, id, type, tags, data, timestamp_ms, correlation_id, \
                 causation_id, triggering_event_id, idempotency_key) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?;
            let mut insert_tag = tx
                .prepare_cached("INSERT OR IGNORE INTO event_tags (tag, position) VALUES (?, ?)")?;
            for event in events {
                if event.position != last + 1 {
                    bail!(
                        "event at position {} (id {}): positions must go on from the store's \
                         head without gaps, so the next one is {}",
                        event.position,
                        event.id,
                        last + 1
                    );
                }
                check_tags(&event.tags)
                    .with_context(|| format!("event at position {}", event.position))?;
                insert_event
                    .execute(rusqlite::params![
                        event.position,
                        event.id,
                        event.event_type,
                        join_tags(&event.tags),
                        compact_json(event.data.get()),
                        event.timestamp_ms(),
                        event.correlation_id,
                        event.causation_id,
                        event.triggering_event_id,
                        event.idempotency_key,
                    ])
                    .with_context(|| {
                        format!(
                            "event at position {} (id {}) cannot be stored",
                            event.position, event.id
                        )
                    })?;
                for tag in &event.tags {
                    insert_tag.execute(rusqlite::params![tag, event.position])?;
                }
                last = event.position;
            }
        }
        tx.commit().context("cannot commit the import")?;
        drop(writer);
        self.advance_head(last);
        Ok(events.len() as u64)
    }

    /// Moves the head forward, never back: two appenders may report their
    /// commits out of order once the writer lock is released.
    fn advance_head(&self, last: u64) {
        self.inner.head.send_if_modified(|head| {
            let moved = last > *head;
            if moved {
                *head = last;
            }
            moved
        });
    }

    /// SQLite's own check of the file, for tests and `wbx doctor`.
    pub fn integrity_check(&self) -> Result<String> {
        self.with_reader(|conn| {
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(Into::into)
        })
    }
}

/// Why an append must not happen, checked inside its transaction: its
/// idempotency key was used, or an event matches its condition.
fn refusal(
    tx: &rusqlite::Transaction<'_>,
    condition: Option<&AppendCondition>,
    meta: &AppendMeta,
) -> Result<Option<AppendOutcome>> {
    if let Some(key) = &meta.idempotency_key {
        let seen = tx
            .prepare_cached("SELECT 1 FROM events WHERE idempotency_key = ? LIMIT 1")?
            .exists([key])?;
        if seen {
            return Ok(Some(AppendOutcome::Duplicate));
        }
    }
    if let Some(condition) = condition {
        let mut params = Vec::new();
        let matches = condition.fail_if_events_match.to_sql(
            Some(Bound::after(condition.after.unwrap_or(0))),
            &mut params,
        );
        let sql = format!("SELECT 1 FROM events e WHERE {matches} LIMIT 1");
        if tx
            .prepare_cached(&sql)?
            .exists(params_from_iter(params.iter()))?
        {
            return Ok(Some(AppendOutcome::ConditionFailed));
        }
    }
    Ok(None)
}

/// Inserts checked, non-empty `events` with their envelopes, returning them
/// as stored.
fn insert_new(
    tx: &rusqlite::Transaction<'_>,
    events: &[NewEvent],
    timestamp_ms: u64,
    meta: &AppendMeta,
) -> Result<Vec<StoredEvent>> {
    let mut insert_event = tx.prepare_cached(
        "INSERT INTO events (id, type, tags, data, timestamp_ms, correlation_id, \
         causation_id, triggering_event_id, idempotency_key) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?;
    let mut insert_tag =
        tx.prepare_cached("INSERT OR IGNORE INTO event_tags (tag, position) VALUES (?, ?)")?;
    let mut stored = Vec::with_capacity(events.len());
    for event in events {
        let id = uuid::Uuid::now_v7().to_string();
        let data = compact_json(&event.data);
        insert_event.execute(rusqlite::params![
            id,
            event.event_type,
            join_tags(&event.tags),
            data,
            timestamp_ms,
            meta.correlation_id,
            meta.causation_id,
            meta.triggering_event_id,
            meta.idempotency_key,
        ])?;
        let position = tx.last_insert_rowid() as u64;
        for tag in &event.tags {
            insert_tag.execute(rusqlite::params![tag, position])?;
        }
        stored.push(StoredEvent {
            position,
            id,
            event_type: event.event_type.clone(),
            tags: event.tags.clone(),
            data: RawValue::from_string(data.into_owned())?,
            timestamp: from_ms(timestamp_ms),
            correlation_id: meta.correlation_id.clone(),
            causation_id: meta.causation_id.clone(),
            triggering_event_id: meta.triggering_event_id.clone(),
            idempotency_key: meta.idempotency_key.clone(),
        });
    }
    Ok(stored)
}

fn check_event(event: &NewEvent) -> Result<()> {
    if event.event_type.is_empty() {
        bail!("an event needs a type");
    }
    check_tags(&event.tags)?;
    serde_json::from_str::<&RawValue>(&event.data).context("data is not JSON")?;
    Ok(())
}

/// `json` without the white space between its tokens, keys in their order:
/// one event is one line of an exported history, whatever the writer sent.
fn compact_json(json: &str) -> std::borrow::Cow<'_, str> {
    let (mut in_string, mut escaped) = (false, false);
    let needs = json.bytes().any(|b| {
        let outside = !in_string;
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            _ => {}
        }
        outside && b.is_ascii_whitespace()
    });
    if !needs {
        return json.into();
    }
    let (mut in_string, mut escaped) = (false, false);
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out.into()
}

fn check_tags(tags: &[String]) -> Result<()> {
    if let Some(tag) = tags
        .iter()
        .find(|t| t.is_empty() || t.contains(TAG_SEPARATOR))
    {
        bail!("tag {tag:?} is empty or holds a control character");
    }
    Ok(())
}

fn join_tags(tags: &[String]) -> String {
    let mut joined = String::new();
    for (n, tag) in tags.iter().enumerate() {
        if n > 0 {
            joined.push(TAG_SEPARATOR);
        }
        joined.push_str(tag);
    }
    joined
}

/// The connection a read goes through.
#[derive(Debug, Clone, Copy)]
enum Via {
    Reader,
    /// The writer's, when no append holds it; a reader's otherwise.
    WriterWhenFree,
}

/// Turns a row of [`COLUMNS`] into what a read returns.
type RowMap<T> = fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

fn split_tags(tags: &str) -> Vec<String> {
    if tags.is_empty() {
        Vec::new()
    } else {
        tags.split(TAG_SEPARATOR).map(str::to_owned).collect()
    }
}

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
    let data: String = row.get(4)?;
    Ok(StoredEvent {
        position: row.get(0)?,
        id: row.get(1)?,
        event_type: row.get(2)?,
        tags: split_tags(row.get_ref(3)?.as_str()?),
        data: RawValue::from_string(data).map_err(|e| {
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
    use crate::QueryItem;

    /// A command's read and its condition look at the events of its tags
    /// from the bound on, never at every event of its types.
    #[test]
    fn tagged_queries_are_driven_by_their_tags() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::open(&dir.path().join("events.sqlite")).unwrap();
        let query = Query::new(vec![
            QueryItem::types(["Incremented"]).with_tags(["counter:a"]),
        ]);
        let from = ReadOptions {
            from: Some(5),
            ..ReadOptions::default()
        };
        for bound in [Bound::after(5), Bound::of(&from).unwrap()] {
            let mut params = Vec::new();
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT 1 FROM events e WHERE {}",
                query.to_sql(Some(bound), &mut params)
            );
            let writer = store.inner.writer.lock().unwrap();
            let mut statement = writer.prepare(&sql).unwrap();
            let plan = statement
                .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
                .join("; ");
            assert!(
                plan.contains("event_tags USING PRIMARY KEY (tag=? AND position>?)"),
                "{plan}"
            );
            assert!(!plan.contains("events_type"), "{plan}");
        }
    }

    #[test]
    fn compacting_keeps_strings_and_key_order() {
        assert_eq!(compact_json(r#"{"b":1,"a":[1,2]}"#), r#"{"b":1,"a":[1,2]}"#);
        assert_eq!(
            compact_json("{\n  \"b\" : \"x y\\\" z\",\n  \"a\": [ 1, 2 ]\n}"),
            r#"{"b":"x y\" z","a":[1,2]}"#
        );
        assert_eq!(compact_json(" 7 "), "7");
    }
}
