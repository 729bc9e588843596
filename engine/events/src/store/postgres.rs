//! The PostgreSQL backend: one log shared by every engine that connects to
//! the database, in the schema `wbx`.
//!
//! - **Appends are serialised on a locked head row.** Each append takes
//!   `event_head` `FOR UPDATE` first, checks its idempotency key and its
//!   condition, inserts at the positions after the head, moves the head and
//!   commits. The next append waits for the lock, so under READ COMMITTED
//!   its checks see every event committed before it: no conflicting append
//!   slips through, positions are unique and increasing, and they are
//!   committed in order, so a reader never sees a gap that a later commit
//!   fills (which would make a projector skip an event).
//! - **New events reach every engine by `LISTEN`/`NOTIFY`.** The append's
//!   transaction notifies `wbx_events` with its last position (delivered on
//!   commit); a listener per store, on a connection of its own, moves the
//!   head, which wakes projectors and effects. When that connection breaks,
//!   the listener connects again and reads the head, so subscribers catch
//!   up from their last position: a notification lost meanwhile loses
//!   nothing.
//! - **Leases** are session advisory locks, each on a connection of its
//!   own outside the pool, so the server frees one when its engine dies.
//!   Effects keep their marks here too (`effect_marks`), so the engine that
//!   takes an effect over goes on from where the last one left off.
//!
//! The store's methods are blocking, like SQLite's: each runs its queries on
//! this backend's own small runtime and waits, so it can be called from any
//! thread, inside an async runtime or not.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::watch;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Config, NoTls, Row};
use wbx_core::BoxFuture;

use super::{
    Append, AppendOutcome, Arrival, Backend, Head, Lease, Select, Via, check_next, join_tags,
};
use super::{split_tags, stored_data};
use crate::bindings::Event;
use crate::envelope::{StoredEvent, from_ms};
use crate::query::{Dialect, Param};

/// The schema wbx's tables live in, apart from anything else in the database.
const SCHEMA_NAME: &str = "wbx";

/// Whoever creates the tables first, under an advisory lock (two engines
/// starting at once would otherwise race on `CREATE … IF NOT EXISTS`).
const SCHEMA: &str = "
    CREATE SCHEMA IF NOT EXISTS wbx;
    CREATE TABLE IF NOT EXISTS wbx.events (
        position BIGINT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        tags TEXT NOT NULL,
        data TEXT NOT NULL,
        timestamp_ms BIGINT NOT NULL,
        correlation_id TEXT,
        causation_id TEXT,
        triggering_event_id TEXT,
        idempotency_key TEXT
    );
    CREATE INDEX IF NOT EXISTS events_type ON wbx.events (type, position);
    CREATE INDEX IF NOT EXISTS events_idempotency ON wbx.events (idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE TABLE IF NOT EXISTS wbx.event_tags (
        tag TEXT NOT NULL,
        position BIGINT NOT NULL,
        PRIMARY KEY (tag, position)
    );
    CREATE TABLE IF NOT EXISTS wbx.event_head (
        one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        position BIGINT NOT NULL
    );
    INSERT INTO wbx.event_head (one, position) VALUES (TRUE, 0) ON CONFLICT DO NOTHING;
    CREATE TABLE IF NOT EXISTS wbx.effect_marks (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    );
";

/// The key of the advisory lock taken while creating the schema.
const SCHEMA_LOCK: i64 = 0x7762_7873_6368_656d;

/// The channel appends notify with their last position.
const CHANNEL: &str = "wbx_events";

/// The `application_name` of the listening connection.
pub const LISTENER_NAME: &str = "wbx-listener";

/// Connections in the pool: enough for the commands and readers of one engine.
const POOL_SIZE: usize = 16;

/// How long a query may wait for a connection before it fails.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

/// The listener's longest wait between attempts to connect again.
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(5);

pub(crate) struct PostgresBackend {
    /// Runs the connections and the listener; `None` once dropped.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool,
    config: Config,
    /// Signs this store's notifications, so its listener can tell another
    /// engine's appends from its own.
    origin: String,
}

impl PostgresBackend {
    /// Connects to `url`, creates the schema if it is missing, and starts
    /// following other engines' appends into `head`.
    pub(crate) fn connect(url: &str, head: Head) -> Result<PostgresBackend> {
        let mut config: Config = url.parse().context("not a PostgreSQL URL")?;
        let options = config.get_options().unwrap_or_default().to_owned();
        config.options(format!("{options} -c search_path={SCHEMA_NAME}").trim());
        if config.get_application_name().is_none() {
            config.application_name("wbx");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // A listener on a dead network notices within a minute: 30 s of
        // silence, then three probes 10 s apart.
        config.keepalives_idle(Duration::from_secs(30));
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("wbx-postgres")
            .enable_all()
            .build()
            .context("cannot start the PostgreSQL store's runtime")?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(WAIT_FOR_CONNECTION))
            .build()
            .context("cannot make the PostgreSQL connection pool")?;
        let backend = PostgresBackend {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            pool,
            config,
            origin: uuid::Uuid::now_v7().simple().to_string(),
        };
        backend.create_schema()?;
        // Known before listening, so that the events already there are
        // never taken for another engine's new ones.
        head.advance(backend.head()?);
        let listener = Listener {
            config: backend.config.clone(),
            head,
            origin: backend.origin.clone(),
        };
        backend.handle.spawn(listener.listen());
        Ok(backend)
    }

    /// Runs `work` on this backend's runtime and waits for it.
    fn block<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| anyhow!("the PostgreSQL store stopped during a query"))?
    }

    /// Creates the tables unless they are there: an engine starting while
    /// others append must not wait for their head row.
    fn create_schema(&self) -> Result<()> {
        let pool = self.pool.clone();
        self.block(async move {
            let mut client = connection(&pool).await?;
            // The last table the schema makes.
            let ready = "SELECT 1 FROM pg_tables \
                         WHERE schemaname = 'wbx' AND tablename = 'effect_marks'";
            if client.query_opt(ready, &[]).await?.is_some() {
                return Ok(());
            }
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
                .await?;
            tx.batch_execute(SCHEMA)
                .await
                .context("cannot create wbx's tables (does the user own the database?)")?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn query(&self, select: Select) -> Result<Vec<Row>> {
        let pool = self.pool.clone();
        self.block(async move {
            let client = connection(&pool).await?;
            let statement = client.prepare_cached(&select.sql).await?;
            Ok(client.query(&statement, &params(&select.params)).await?)
        })
    }
}

impl Drop for PostgresBackend {
    /// Stops the runtime without waiting: the store may be dropped on an
    /// async worker, where a runtime must not block.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn head(&self) -> Result<u64> {
        let rows = self.query(Select {
            sql: "SELECT position FROM event_head".to_owned(),
            params: Vec::new(),
        })?;
        let row = rows.first().context("the store has no head row")?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    fn events(&self, select: Select, _via: Via) -> Result<Vec<StoredEvent>> {
        self.query(select)?.iter().map(row_to_event).collect()
    }

    fn guest_events(&self, select: Select, _via: Via) -> Result<Vec<Event>> {
        Ok(self.query(select)?.iter().map(row_to_guest).collect())
    }

    fn has_idempotency_key(&self, key: &str) -> Result<bool> {
        let rows = self.query(Select {
            sql: "SELECT 1 FROM events WHERE idempotency_key = $1 LIMIT 1".to_owned(),
            params: vec![Param::Text(key.to_owned())],
        })?;
        Ok(!rows.is_empty())
    }

    fn append(&self, group: &mut [Append]) -> Result<Vec<AppendOutcome>> {
        let (pool, origin) = (self.pool.clone(), self.origin.clone());
        // The store's runtime needs the appends for its own: a copy goes, the
        // positions are filled in here from the outcomes.
        let appends = group.to_vec();
        let outcomes = self.block(async move {
            let mut client = connection(&pool).await?;
            let tx = client.transaction().await?;
            let mut head = locked_head(&tx).await?;
            let mut outcomes = Vec::with_capacity(appends.len());
            for mut append in appends {
                if let Some(refused) = refusal(&tx, &append).await? {
                    outcomes.push(refused);
                    continue;
                }
                for (n, event) in append.events.iter_mut().enumerate() {
                    event.position = head + 1 + n as u64;
                }
                let first = head + 1;
                head = insert(&tx, &append.events, &origin).await?;
                outcomes.push(AppendOutcome::Appended { first, last: head });
            }
            tx.commit().await.context("cannot commit the append")?;
            Ok(outcomes)
        })?;
        for (append, outcome) in group.iter_mut().zip(&outcomes) {
            if let AppendOutcome::Appended { first, .. } = outcome {
                for (n, event) in append.events.iter_mut().enumerate() {
                    event.position = first + n as u64;
                }
            }
        }
        Ok(outcomes)
    }

    fn import(&self, events: &[StoredEvent]) -> Result<u64> {
        let (pool, origin) = (self.pool.clone(), self.origin.clone());
        let events = events.to_vec();
        self.block(async move {
            let mut client = connection(&pool).await?;
            let tx = client.transaction().await?;
            let mut last = locked_head(&tx).await?;
            for event in &events {
                check_next(event, last)?;
                last = event.position;
            }
            if !events.is_empty() {
                insert(&tx, &events, &origin)
                    .await
                    .context("the events cannot be stored (is an id already there?)")?;
            }
            tx.commit().await.context("cannot commit the import")?;
            Ok(events.len() as u64)
        })
    }

    /// The head row is there and agrees with the events; positions have no
    /// gaps; every tag row points at an event.
    fn check(&self) -> Result<String> {
        let pool = self.pool.clone();
        self.block(async move {
            let client = connection(&pool).await?;
            let row = client
                .query_one(
                    "SELECT (SELECT position FROM event_head), \
                            COALESCE(MAX(position), 0), COUNT(*) FROM events",
                    &[],
                )
                .await?;
            let (head, max, count): (Option<i64>, i64, i64) = (row.get(0), row.get(1), row.get(2));
            let Some(head) = head else {
                return Ok("the head row (wbx.event_head) is missing".to_owned());
            };
            if head != max {
                return Ok(format!(
                    "the head row says {head} but the last event is at {max}"
                ));
            }
            if count != max {
                return Ok(format!("{count} events in positions 1..={max}: a gap"));
            }
            let orphans: i64 = client
                .query_one(
                    "SELECT COUNT(*) FROM event_tags t \
                     WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.position = t.position)",
                    &[],
                )
                .await?
                .get(0);
            if orphans > 0 {
                return Ok(format!("{orphans} tag rows point at no event"));
            }
            Ok("ok".to_owned())
        })
    }

    fn lease(&self, name: &str) -> BoxFuture<'static, Result<Lease>> {
        let (config, handle) = (self.config.clone(), self.handle.clone());
        let key = format!("wbx:{name}");
        Box::pin(async move {
            let taken = handle.spawn(async move {
                let (client, connection) = config
                    .connect(NoTls)
                    .await
                    .context("cannot connect to PostgreSQL for a lease")?;
                let (lost_tx, lost) = watch::channel(false);
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = lost_tx.send(true);
                });
                // Waits while another engine's session holds it.
                client
                    .execute("SELECT pg_advisory_lock(hashtext($1))", &[&key])
                    .await
                    .context("cannot take the lease")?;
                Ok::<_, anyhow::Error>(Lease::held(Box::new(client), lost))
            });
            taken.await.context("the PostgreSQL store stopped")?
        })
    }

    fn effect_mark(&self, effect: &str) -> Result<Option<u64>> {
        let rows = self.query(Select {
            sql: "SELECT position FROM effect_marks WHERE name = $1".to_owned(),
            params: vec![Param::Text(effect.to_owned())],
        })?;
        Ok(rows.first().map(|row| row.get::<_, i64>(0) as u64))
    }

    /// Never moves a mark back: a lane of the engine that lost the lease
    /// may still settle an old one.
    fn save_effect_mark(&self, effect: &str, position: u64) -> Result<()> {
        self.query(Select {
            sql: "INSERT INTO effect_marks (name, position) VALUES ($1, $2) \
                  ON CONFLICT (name) DO UPDATE \
                  SET position = GREATEST(effect_marks.position, EXCLUDED.position)"
                .to_owned(),
            params: vec![
                Param::Text(effect.to_owned()),
                Param::Position(position as i64),
            ],
        })
        .map(drop)
    }
}

async fn connection(pool: &Pool) -> Result<deadpool_postgres::Object> {
    // The error's sources say why (refused, a password, a database).
    pool.get()
        .await
        .map_err(|e| anyhow::Error::new(e).context("cannot connect to PostgreSQL"))
}

/// Why `append` must not happen, checked inside its transaction: its
/// idempotency key was used, or an event matches its condition.
async fn refusal(
    tx: &deadpool_postgres::Transaction<'_>,
    append: &Append,
) -> Result<Option<AppendOutcome>> {
    if let Some(key) = &append.idempotency_key {
        let seen = tx
            .prepare_cached("SELECT 1 FROM events WHERE idempotency_key = $1 LIMIT 1")
            .await?;
        if tx.query_opt(&seen, &[key]).await?.is_some() {
            return Ok(Some(AppendOutcome::Duplicate));
        }
    }
    if let Some(condition) = &append.condition {
        let statement = tx.prepare_cached(&condition.sql).await?;
        if tx
            .query_opt(&statement, &params(&condition.params))
            .await?
            .is_some()
        {
            return Ok(Some(AppendOutcome::ConditionFailed));
        }
    }
    Ok(None)
}

/// The head, with its row locked until the transaction ends: the one
/// place appends wait for each other.
async fn locked_head(tx: &deadpool_postgres::Transaction<'_>) -> Result<u64> {
    let lock = tx
        .prepare_cached("SELECT position FROM event_head FOR UPDATE")
        .await?;
    let row = tx
        .query_one(&lock, &[])
        .await
        .context("cannot lock the store's head row")?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Inserts `events` (positions set, going on from the head), their tags and
/// the new head, and notifies the other engines on commit, signed with
/// `origin`. Returns the last position.
async fn insert(
    tx: &deadpool_postgres::Transaction<'_>,
    events: &[StoredEvent],
    origin: &str,
) -> Result<u64> {
    let column = |f: fn(&StoredEvent) -> Option<String>| -> Vec<Option<String>> {
        events.iter().map(f).collect()
    };
    let positions: Vec<i64> = events.iter().map(|e| e.position as i64).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let tags: Vec<String> = events.iter().map(|e| join_tags(&e.tags)).collect();
    let data: Vec<&str> = events.iter().map(|e| e.data.get()).collect();
    let times: Vec<i64> = events.iter().map(|e| e.timestamp_ms() as i64).collect();
    let correlations = column(|e| e.correlation_id.clone());
    let causations = column(|e| e.causation_id.clone());
    let triggers = column(|e| e.triggering_event_id.clone());
    let keys = column(|e| e.idempotency_key.clone());
    let insert_events = tx
        .prepare_cached(
            "INSERT INTO events (position, id, type, tags, data, timestamp_ms, correlation_id, \
             causation_id, triggering_event_id, idempotency_key) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[])",
        )
        .await?;
    tx.execute(
        &insert_events,
        &[
            &positions,
            &ids,
            &types,
            &tags,
            &data,
            &times,
            &correlations,
            &causations,
            &triggers,
            &keys,
        ],
    )
    .await?;
    let (tag_names, tag_positions): (Vec<&str>, Vec<i64>) = events
        .iter()
        .flat_map(|e| e.tags.iter().map(|t| (t.as_str(), e.position as i64)))
        .unzip();
    if !tag_names.is_empty() {
        let insert_tags = tx
            .prepare_cached(
                "INSERT INTO event_tags (tag, position) \
                 SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(&insert_tags, &[&tag_names, &tag_positions])
            .await?;
    }
    let last = positions[positions.len() - 1];
    // The new head and the notification (sent on commit) in one statement.
    let moved = tx
        .prepare_cached("UPDATE event_head SET position = $1 RETURNING pg_notify($2, $3)")
        .await?;
    let notice = Notice {
        first: positions[0] as u64,
        last: last as u64,
        origin: origin.to_owned(),
    };
    tx.execute(&moved, &[&last, &CHANNEL, &notice.to_string()])
        .await?;
    Ok(last as u64)
}

/// What an append notifies: its positions and the store that made it,
/// as `first last origin`.
struct Notice {
    first: u64,
    last: u64,
    origin: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.first, self.last, self.origin)
    }
}

impl Notice {
    fn parse(payload: &str) -> Option<Notice> {
        let mut parts = payload.split(' ');
        Some(Notice {
            first: parts.next()?.parse().ok()?,
            last: parts.next()?.parse().ok()?,
            origin: parts.next()?.to_owned(),
        })
    }
}

/// Follows other engines' appends into the head.
struct Listener {
    config: Config,
    head: Head,
    /// This store's own notifications are signed with it.
    origin: String,
}

impl Listener {
    /// Listens for as long as the runtime runs, connecting again (and
    /// catching up) whenever the connection breaks.
    async fn listen(self) {
        let mut delay = Duration::from_millis(100);
        loop {
            let listened = self.follow(&mut delay).await;
            if listened.is_err() {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(LISTEN_RETRY_MAX);
            }
        }
    }

    /// One connection's worth of listening: `LISTEN`, then the head as it
    /// is now (what was appended while not listening), then every
    /// notification. `delay` is reset once listening.
    async fn follow(&self, delay: &mut Duration) -> Result<()> {
        let mut config = self.config.clone();
        // Named, so that an operator (or a test) can tell it from the pool's.
        config.application_name(LISTENER_NAME);
        let (client, mut connection) = config.connect(NoTls).await?;
        let (tx, mut notified) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                match message? {
                    AsyncMessage::Notification(n) => {
                        if tx.send(n.payload().to_owned()).is_err() {
                            break;
                        }
                    }
                    _ => continue,
                }
            }
            Ok::<_, tokio_postgres::Error>(())
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        let now = client
            .query_one("SELECT position FROM event_head", &[])
            .await?
            .get::<_, i64>(0) as u64;
        // What came while not listening; it may hold some of this engine's
        // own appends too, which it already has.
        let known = self.head.get();
        if now > known {
            self.head.arrived(Arrival {
                first: known + 1,
                last: now,
            });
        }
        *delay = Duration::from_millis(100);
        while let Some(payload) = notified.recv().await {
            match Notice::parse(&payload) {
                Some(notice) if notice.origin == self.origin => self.head.advance(notice.last),
                Some(notice) => self.head.arrived(Arrival {
                    first: notice.first,
                    last: notice.last,
                }),
                None => {}
            }
        }
        driver.await??;
        Err(anyhow!("the listening connection closed"))
    }
}

/// `params` as the client takes them.
fn params(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(text) => text as &(dyn ToSql + Sync),
            Param::Position(position) => position as &(dyn ToSql + Sync),
        })
        .collect()
}

fn row_to_guest(row: &Row) -> Event {
    Event {
        position: row.get::<_, i64>(0) as u64,
        id: row.get(1),
        event_type: row.get(2),
        tags: split_tags(row.get(3)),
        data: row.get(4),
        timestamp_ms: row.get::<_, i64>(5) as u64,
    }
}

fn row_to_event(row: &Row) -> Result<StoredEvent> {
    Ok(StoredEvent {
        position: row.get::<_, i64>(0) as u64,
        id: row.get(1),
        event_type: row.get(2),
        tags: split_tags(row.get(3)),
        data: stored_data(row.get(4)).context("an event's data is not JSON")?,
        timestamp: from_ms(row.get::<_, i64>(5) as u64),
        correlation_id: row.get(6),
        causation_id: row.get(7),
        triggering_event_id: row.get(8),
        idempotency_key: row.get(9),
    })
}

/// A database made for one run on the server `url` names (`wbx bench
/// --store`), dropped with this value, so a measurement never touches what
/// the server already holds.
pub struct ScratchDatabase {
    /// The server's URL, for connecting to drop it.
    admin: Config,
    name: String,
    /// Its own URL.
    pub url: String,
}

impl ScratchDatabase {
    pub fn create(url: &str) -> Result<ScratchDatabase> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let admin: Config = url.parse().context("not a PostgreSQL URL")?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("wbx_bench_{}_{n}", std::process::id());
        run_alone(&admin, format!("CREATE DATABASE {name}")).with_context(|| {
            format!("cannot create the scratch database {name} (the user needs CREATEDB)")
        })?;
        // The same URL with the scratch database's name in place of its own.
        let base = url.split('?').next().unwrap_or(url);
        let query = url.strip_prefix(base).unwrap_or_default();
        let server = match base.rfind('/') {
            Some(slash) if slash > base.find("://").map_or(0, |i| i + 2) => &base[..slash],
            _ => base,
        };
        Ok(ScratchDatabase {
            admin,
            url: format!("{server}/{name}{query}"),
            name,
        })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ = run_alone(
            &self.admin,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on a connection of its own, on a thread of its own
/// (callers may be inside an async runtime, which must not block on another).
fn run_alone(config: &Config, sql: String) -> Result<()> {
    let config = config.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await?;
            Ok(())
        })
    })
    .join()
    .map_err(|_| anyhow!("the statement's thread panicked"))?
}
