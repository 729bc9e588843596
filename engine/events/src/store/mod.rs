//! The event store: one append-only log with DCB reads and conditional
//! appends, on one of two backends behind [`Backend`]:
//!
//! - [`sqlite`]: the embedded default, a file in the project's `.wbx/`.
//! - [`postgres`]: a PostgreSQL database that several engines share.
//!
//! [`EventStore`] is what the rest of the engine holds. It checks what is
//! appended, makes the envelopes (ids, compact data, timestamps) and keeps
//! the log's head, so both backends answer the same way; a backend stores
//! and reads rows, and makes each append one atomic step with its
//! condition. The store test-suite runs against both.
//!
//! Subscribers learn about new events from a `watch` channel carrying the
//! log's head, so waiting for events costs nothing while nothing happens.
//! On PostgreSQL the head also moves when another engine appends.
//!
//! - [`location`]: where the store is, from `wbx.toml` or `WBX_STORE_URL`.
//! - [`lease`]: a lease on a name, held by one engine of those sharing a store.
//! - [`doctor`]: `wbx doctor`'s check of the store.
//! - [`search`]: the SQLite store's text index, for browsing by text.

mod checkpoint;
pub mod doctor;
mod group;
pub mod lease;
pub mod location;
pub mod postgres;
mod search;
pub mod sqlite;

use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use serde_json::value::RawValue;
use tokio::sync::{broadcast, watch};
use wbx_core::BoxFuture;

use crate::bindings::Event;
use crate::envelope::{AppendMeta, NewEvent, StoredEvent, from_ms, to_ms};
use crate::query::{AppendCondition, Bound, Browse, Dialect, Param, Query, ReadOptions, SqlParams};
pub use lease::Lease;
pub use location::StoreLocation;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Appended at positions `first..=last`.
    Appended { first: u64, last: u64 },
    /// An event matching the condition's query came after its `after`.
    ConditionFailed,
    /// An event with the append's idempotency key already exists.
    Duplicate,
}

/// Columns every read selects, in the backends' row order.
pub(crate) const COLUMNS: &str = "e.position, e.id, e.type, e.tags, e.data, e.timestamp_ms, \
                       e.correlation_id, e.causation_id, e.triggering_event_id, e.idempotency_key";

/// The text a browse's text is looked for in: what a person sees of an
/// event (the index of [`search`] holds the same).
pub(crate) const SEARCHED_TEXT: &str = "e.type || ' ' || e.tags || ' ' || e.data || ' ' || e.id \
     || ' ' || COALESCE(e.correlation_id, '') || ' ' || COALESCE(e.idempotency_key, '')";

/// What a browse matches: a DCB query, and a text when it has one.
struct Filter<'a> {
    query: Query,
    text: Option<&'a str>,
    dialect: Dialect,
}

/// Tags are kept joined in the events row (for reading) and one per row in
/// `event_tags` (for matching). The separator cannot appear in a tag.
const TAG_SEPARATOR: char = '\u{1f}';

/// A `SELECT` of [`COLUMNS`] and its parameters.
#[derive(Clone)]
pub(crate) struct Select {
    pub sql: String,
    pub params: Vec<Param>,
}

/// The connection a read goes through.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Via {
    Reader,
    /// A command's read: on SQLite, the writer's connection when no append
    /// holds it (see [`EventStore::read_for_command`]).
    WriterWhenFree,
}

/// An append as a backend makes it: the events with their envelopes made
/// (positions still 0), and what must hold for it to happen.
#[derive(Clone)]
pub(crate) struct Append {
    pub events: Vec<StoredEvent>,
    /// A `SELECT 1` finding a row iff the append must fail.
    pub condition: Option<Select>,
    pub idempotency_key: Option<String>,
}

/// What each backend does. Each append is atomic with its checks: no
/// conflicting append slips between a check and its write, and positions
/// are given in commit order, so a reader never sees a gap filled later.
pub(crate) trait Backend: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// The highest position (0 when empty), read from the store itself.
    fn head(&self) -> Result<u64>;
    fn events(&self, select: Select, via: Via) -> Result<Vec<StoredEvent>>;
    fn guest_events(&self, select: Select, via: Via) -> Result<Vec<Event>>;
    fn has_idempotency_key(&self, key: &str) -> Result<bool>;
    /// Stores the appends of `group` in order in one transaction, each
    /// checked after those before it, filling in the positions of those
    /// appended; their outcomes in the same order. On an error, nothing of
    /// the group is stored.
    fn append(&self, group: &mut [Append]) -> Result<Vec<AppendOutcome>>;
    /// Stores whole envelopes as given, each at the next position.
    fn import(&self, events: &[StoredEvent]) -> Result<u64>;
    /// The backend's own check of what it stores: "ok" when sound.
    fn check(&self) -> Result<String>;
    /// Waits until this engine holds `name` among all engines sharing the
    /// store.
    fn lease(&self, name: &str) -> BoxFuture<'static, Result<Lease>>;
    /// The mark an effect saved in the store (`None` where marks are only
    /// the engine's own, as on SQLite).
    fn effect_mark(&self, effect: &str) -> Result<Option<u64>>;
    fn save_effect_mark(&self, effect: &str, position: u64) -> Result<()>;
    /// The index a browse looks its text up in, where the backend keeps one.
    fn text_index(&self) -> Option<&search::TextIndex> {
        None
    }
    /// Why the backend's text index could not be opened, where it keeps one.
    fn text_index_problem(&self) -> Option<String> {
        None
    }
}

#[derive(Clone)]
pub struct EventStore {
    backend: Arc<dyn Backend>,
    group_commit: Arc<group::GroupCommit>,
    head: Head,
    location: Arc<StoreLocation>,
}

impl EventStore {
    /// Opens (creating if needed) the SQLite store at `path`.
    pub fn open(path: &std::path::Path) -> Result<EventStore> {
        EventStore::connect(&StoreLocation::Sqlite(path.to_owned()))
    }

    /// Opens (creating its tables if needed) the store at `location`.
    pub fn connect(location: &StoreLocation) -> Result<EventStore> {
        let head = Head::default();
        let backend: Arc<dyn Backend> = match location {
            StoreLocation::Sqlite(path) => Arc::new(sqlite::SqliteBackend::open(path)?),
            StoreLocation::Postgres(url) => Arc::new(
                postgres::PostgresBackend::connect(url, head.clone())
                    .with_context(|| format!("cannot open the event store at {location}"))?,
            ),
        };
        head.advance(backend.head()?);
        Ok(EventStore {
            backend,
            group_commit: Arc::default(),
            head,
            location: Arc::new(location.clone()),
        })
    }

    /// The store at `location` if there is one to read: `None` for a
    /// SQLite file not made yet, since reading must not create it.
    pub fn connect_existing(location: &StoreLocation) -> Result<Option<EventStore>> {
        match location {
            StoreLocation::Sqlite(path) if !path.is_file() => Ok(None),
            _ => EventStore::connect(location).map(Some),
        }
    }

    /// Where the store is.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The highest position in the log (0 when empty).
    pub fn head(&self) -> u64 {
        self.head.get()
    }

    /// Follows the head: changes whenever events are appended.
    pub fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.head.subscribe()
    }

    /// Hears of the events other engines sharing the store append (never,
    /// on SQLite); this engine's own appends are not among them.
    pub fn watch_arrivals(&self) -> broadcast::Receiver<Arrival> {
        self.head.arrivals.subscribe()
    }

    /// Events matching `query`, in position order (reversed when backwards).
    pub fn read(&self, query: &Query, options: ReadOptions) -> Result<Vec<StoredEvent>> {
        let select = self.select(query, options)?;
        self.backend.events(select, Via::Reader)
    }

    /// [`EventStore::read`] as guests see events: what commands fold and
    /// projectors handle, made straight from the rows (no envelope, and no
    /// second parse of data that was checked to be JSON when appended).
    pub fn read_for_guest(&self, query: &Query, options: ReadOptions) -> Result<Vec<Event>> {
        let select = self.select(query, options)?;
        self.backend.guest_events(select, Via::Reader)
    }

    /// [`EventStore::read_for_guest`] for a command's decision. On SQLite it
    /// goes through the writer connection when no append holds it, because
    /// a reader's page cache is dropped whenever another connection
    /// commits, so on a busy log every read came from the files again,
    /// while the writer's cache is the one the appends keep warm. An append
    /// waits for such a read to end: one fold batch at most.
    pub fn read_for_command(&self, query: &Query, options: ReadOptions) -> Result<Vec<Event>> {
        let select = self.select(query, options)?;
        self.backend.guest_events(select, Via::WriterWhenFree)
    }

    fn select(&self, query: &Query, options: ReadOptions) -> Result<Select> {
        query.validate().map_err(anyhow::Error::msg)?;
        let mut params = SqlParams::new(self.backend.dialect());
        let sql = format!(
            "SELECT {COLUMNS} FROM events e WHERE {}",
            query.to_sql(Bound::of(&options), &mut params)
        );
        Ok(ordered(sql, params, options))
    }

    /// Events a view looks for (see [`Browse`]), in position order (reversed
    /// when backwards). A text is looked up in the text index where the
    /// store has one (SQLite, see [`search`]) and scanned for otherwise.
    pub fn browse(&self, browse: &Browse, options: ReadOptions) -> Result<Vec<StoredEvent>> {
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
        let filter = Filter {
            query,
            text: browse.text.as_deref().filter(|t| !t.is_empty()),
            dialect: self.backend.dialect(),
        };
        // A text under three characters has no trigram: it is scanned for.
        match (
            filter.text.and_then(search::Lookup::of),
            self.backend.text_index(),
        ) {
            (Some(lookup), Some(index)) => self.browse_indexed(&filter, index, &lookup, options),
            _ => self.scan(&filter, |_| String::new(), options),
        }
    }

    /// [`EventStore::browse`] through `index`: its candidates up to the
    /// position it has reached, checked as a scan checks them, then a scan
    /// of the tail after that position (in the browse's order).
    fn browse_indexed(
        &self,
        filter: &Filter<'_>,
        index: &search::TextIndex,
        lookup: &search::Lookup,
        options: ReadOptions,
    ) -> Result<Vec<StoredEvent>> {
        let reached = index.position();
        let limit = options.limit.map_or(usize::MAX, |l| l as usize);
        // What is left of the browse's limit, if it has one.
        let with_limit = |left: usize| ReadOptions {
            limit: options.limit.map(|_| left as u64),
            ..options
        };
        let tail = |limit: usize| {
            self.scan(
                filter,
                |p| format!(" AND e.position > {}", p.position(reached)),
                with_limit(limit),
            )
        };
        let mut found = if options.backwards {
            tail(limit)?
        } else {
            Vec::new()
        };
        // The index's part of the range, taken in batches that grow, since
        // a candidate need not be a hit.
        let (mut low, mut high) = if options.backwards {
            (1, options.from.unwrap_or(u64::MAX).min(reached))
        } else {
            (options.from.unwrap_or(1).max(1), reached)
        };
        let mut batch = limit.clamp(64, 4096);
        while found.len() < limit && low <= high {
            let candidates = index.candidates(lookup, (low, high), options.backwards, batch)?;
            let Some(&last) = candidates.last() else {
                break;
            };
            let list = serde_json::to_string(&candidates)?;
            found.extend(self.scan(
                filter,
                |p| {
                    format!(
                        " AND e.position IN (SELECT value FROM json_each({}))",
                        p.text(&list)
                    )
                },
                with_limit(limit - found.len()),
            )?);
            if candidates.len() < batch {
                break;
            }
            (low, high) = if options.backwards {
                (low, last - 1)
            } else {
                (last + 1, high)
            };
            batch = (batch * 2).min(65_536);
        }
        if !options.backwards && found.len() < limit {
            found.extend(tail(limit - found.len())?);
        }
        Ok(found)
    }

    /// The events `filter` matches under `options`, among those `narrow`
    /// leaves (an SQL condition on `e`, or nothing).
    fn scan(
        &self,
        filter: &Filter<'_>,
        narrow: impl FnOnce(&mut SqlParams) -> String,
        options: ReadOptions,
    ) -> Result<Vec<StoredEvent>> {
        let mut params = SqlParams::new(filter.dialect);
        let mut sql = format!(
            "SELECT {COLUMNS} FROM events e WHERE {}",
            filter.query.to_sql(Bound::of(&options), &mut params)
        );
        sql.push_str(&narrow(&mut params));
        if let Some(text) = filter.text {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            // SQLite's LIKE ignores the case of ASCII letters; ILIKE is
            // PostgreSQL's spelling of it.
            let like = match params.dialect {
                Dialect::Sqlite => "LIKE",
                Dialect::Postgres => "ILIKE",
            };
            let pattern = params.text(&format!("%{escaped}%"));
            sql.push_str(&format!(
                " AND ({SEARCHED_TEXT}) {like} {pattern} ESCAPE '\\'"
            ));
        }
        self.backend
            .events(ordered(sql, params, options), Via::Reader)
    }

    /// Waits up to `timeout` for the store's text index to hold every
    /// event appended so far; whether it does (at once where the store
    /// keeps no index).
    pub fn wait_for_text_index(&self, timeout: std::time::Duration) -> bool {
        self.backend
            .text_index()
            .is_none_or(|index| index.wait_for(self.head(), timeout))
    }

    /// Why the store's text index could not be opened: search then scans
    /// the log, correctly but slowly. `None` when it is open, or where the
    /// store keeps none (PostgreSQL).
    pub fn text_index_problem(&self) -> Option<String> {
        self.backend.text_index_problem()
    }

    /// Whether any event carries `key` as its idempotency key.
    pub fn has_idempotency_key(&self, key: &str) -> Result<bool> {
        self.backend.has_idempotency_key(key)
    }

    /// The event with `id`, if any.
    pub fn get(&self, id: &str) -> Result<Option<StoredEvent>> {
        let select = by_id(self.backend.dialect(), id);
        Ok(self.backend.events(select, Via::Reader)?.pop())
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
        let condition = match condition {
            Some(condition) => {
                let query = &condition.fail_if_events_match;
                query.validate().map_err(anyhow::Error::msg)?;
                let mut params = SqlParams::new(self.backend.dialect());
                let bound = Bound::after(condition.after.unwrap_or(0));
                let matches = query.to_sql(Some(bound), &mut params);
                Some(Select {
                    sql: format!("SELECT 1 FROM events e WHERE {matches} LIMIT 1"),
                    params: params.params,
                })
            }
            None => None,
        };
        let timestamp = from_ms(to_ms(meta.timestamp.unwrap_or_else(SystemTime::now)));
        let events = events
            .iter()
            .map(|event| envelope(event, timestamp, meta))
            .collect::<Result<_>>()?;
        let append = Append {
            events,
            condition,
            idempotency_key: meta.idempotency_key.clone(),
        };
        let (outcome, stored) = self.group_commit.append(&*self.backend, append)?;
        if let AppendOutcome::Appended { last, .. } = outcome {
            self.head.advance(last);
        }
        Ok((outcome, stored))
    }

    /// Appends whole envelopes exactly as given (an imported history), in one
    /// transaction: positions must go on from the current head without gaps,
    /// every id must be new. On any error nothing is written.
    pub fn import(&self, events: &[StoredEvent]) -> Result<u64> {
        for event in events {
            check_tags(&event.tags)
                .with_context(|| format!("event at position {}", event.position))?;
        }
        let imported = self.backend.import(events)?;
        if let Some(last) = events.last() {
            self.head.advance(last.position);
        }
        Ok(imported)
    }

    /// The backend's own check of what it stores ("ok" when sound), for
    /// tests and `wbx doctor`.
    pub fn integrity_check(&self) -> Result<String> {
        self.backend.check()
    }

    /// Waits until this engine holds the lease on `name` among all engines
    /// sharing the store (at once on SQLite, which one engine has to
    /// itself). The lease ends when the [`Lease`] is dropped or the engine
    /// dies.
    pub async fn lease(&self, name: &str) -> Result<Lease> {
        self.backend.lease(name).await
    }

    /// How far `effect` got on whichever engine ran it last, where the
    /// store keeps that (PostgreSQL); `None` on SQLite, where the effect's
    /// own database is the only record.
    pub fn effect_mark(&self, effect: &str) -> Result<Option<u64>> {
        self.backend.effect_mark(effect)
    }

    /// Records how far `effect` got, for the next engine to hold its lease.
    pub fn save_effect_mark(&self, effect: &str, position: u64) -> Result<()> {
        self.backend.save_effect_mark(effect, position)
    }
}

/// The event with `id`. SQLite indexes ids behind the log
/// (`sqlite::index_ids`): its index, then the few events it has not reached.
fn by_id(dialect: Dialect, id: &str) -> Select {
    let mut params = SqlParams::new(dialect);
    let sql = match dialect {
        Dialect::Sqlite => format!(
            "SELECT {COLUMNS} FROM events e \
             WHERE e.position = (SELECT position FROM event_ids WHERE id = {}) \
             OR (e.position > (SELECT position FROM ids_indexed) AND e.id = {})",
            params.text(id),
            params.text(id)
        ),
        Dialect::Postgres => format!(
            "SELECT {COLUMNS} FROM events e WHERE e.id = {}",
            params.text(id)
        ),
    };
    Select {
        sql,
        params: params.params,
    }
}

/// `sql` with its order and limit.
fn ordered(mut sql: String, params: SqlParams, options: ReadOptions) -> Select {
    sql.push_str(if options.backwards {
        " ORDER BY e.position DESC"
    } else {
        " ORDER BY e.position"
    });
    if let Some(limit) = options.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    Select {
        sql,
        params: params.params,
    }
}

/// The log's head as this engine knows it, shared by the store and (on
/// PostgreSQL) the listener that hears of other engines' appends, and
/// those appends themselves.
#[derive(Clone)]
pub(crate) struct Head {
    head: Arc<watch::Sender<u64>>,
    arrivals: Arc<broadcast::Sender<Arrival>>,
}

/// Events another engine appended, at positions `first..=last`, as this
/// engine heard of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub first: u64,
    pub last: u64,
}

/// Arrivals kept for a slow subscriber before it misses some (it then
/// learns the head from the `watch`).
const ARRIVALS_KEPT: usize = 256;

impl Default for Head {
    fn default() -> Self {
        Head {
            head: Arc::new(watch::channel(0).0),
            arrivals: Arc::new(broadcast::channel(ARRIVALS_KEPT).0),
        }
    }
}

impl Head {
    /// Moves the head forward, never back: two appenders may report their
    /// commits out of order.
    pub(crate) fn advance(&self, last: u64) {
        self.head.send_if_modified(|head| {
            let moved = last > *head;
            if moved {
                *head = last;
            }
            moved
        });
    }

    /// Another engine appended `arrival`: the head moves, and subscribers
    /// to arrivals hear of it.
    pub(crate) fn arrived(&self, arrival: Arrival) {
        self.advance(arrival.last);
        let _ = self.arrivals.send(arrival);
    }

    pub(crate) fn get(&self) -> u64 {
        *self.head.borrow()
    }
}

/// `event` with its envelope: a new id, compact data, `meta`'s fields.
fn envelope(event: &NewEvent, timestamp: SystemTime, meta: &AppendMeta) -> Result<StoredEvent> {
    Ok(StoredEvent {
        position: 0,
        id: uuid::Uuid::now_v7().to_string(),
        event_type: event.event_type.clone(),
        tags: event.tags.clone(),
        data: RawValue::from_string(compact_json(&event.data).into_owned())?,
        timestamp,
        correlation_id: meta.correlation_id.clone(),
        causation_id: meta.causation_id.clone(),
        triggering_event_id: meta.triggering_event_id.clone(),
        idempotency_key: meta.idempotency_key.clone(),
    })
}

/// Fails unless `event` goes on from `last` without a gap (an import).
pub(crate) fn check_next(event: &StoredEvent, last: u64) -> Result<()> {
    if event.position != last + 1 {
        bail!(
            "event at position {} (id {}): positions must go on from the store's \
             head without gaps, so the next one is {}",
            event.position,
            event.id,
            last + 1
        );
    }
    Ok(())
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
pub(crate) fn compact_json(json: &str) -> std::borrow::Cow<'_, str> {
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

pub(crate) fn join_tags(tags: &[String]) -> String {
    let mut joined = String::new();
    for (n, tag) in tags.iter().enumerate() {
        if n > 0 {
            joined.push(TAG_SEPARATOR);
        }
        joined.push_str(tag);
    }
    joined
}

pub(crate) fn split_tags(tags: &str) -> Vec<String> {
    if tags.is_empty() {
        Vec::new()
    } else {
        tags.split(TAG_SEPARATOR).map(str::to_owned).collect()
    }
}

/// What was read as an event's data: checked to be JSON when appended.
pub(crate) fn stored_data(data: String) -> Result<Box<RawValue>, serde_json::Error> {
    RawValue::from_string(data)
}

#[cfg(test)]
mod tests {
    use super::*;

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
