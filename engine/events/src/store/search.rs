//! The SQLite store's text index: what the Events pane's filter and
//! `wbx events --grep` look up instead of scanning the log.
//!
//! The index is a file of its own beside the store (`events.search.sqlite`
//! for `events.sqlite`), an FTS5 table with the trigram tokenizer over the
//! text a browse matches ([`super::SEARCHED_TEXT`]: type, tags, data and
//! ids). It is filled by a follower of the log, a thread that indexes what
//! was appended since it last looked, nudged after each commit, so the
//! append path never writes to it and never waits for it. A search asks the
//! index for the positions it has reached and scans only the tail it has
//! not.
//!
//! The index answers with candidates, never with hits: its table keeps no
//! positions within a text (`detail=none`, a third of the size and the
//! time), so a text's trigrams are looked up each on their own, and the
//! tokenizer folds case beyond ASCII. Every candidate is then checked with
//! the same `LIKE` a scan uses, so the hits are exactly a scan's. Texts
//! shorter than three characters have no trigram and are scanned.
//!
//! The index is a cache: it records the id of the last event it holds and
//! starts over when the store no longer has that event there (a store
//! replaced or deleted), or when its file will not open (damaged), and it
//! can be deleted at any time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::SEARCHED_TEXT;
use wbx_core::sync::lock;

/// Events indexed per transaction of the follower.
const BATCH: usize = 2_000;
/// How long the log must be still before the follower indexes what was
/// appended: indexing takes CPU time the appends would miss (a fifth of
/// their rate on two cores), so it waits for a pause in them...
const QUIET: Duration = Duration::from_millis(200);
/// ...or for this many events to wait, which bounds the tail a search
/// scans (about 15 ms for this many events).
const MAX_BEHIND: u64 = 50_000;

const SCHEMA: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS event_text
        USING fts5(text, content = '', detail = none, tokenize = 'trigram');
    CREATE TABLE IF NOT EXISTS indexed (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        position INTEGER NOT NULL,
        id TEXT NOT NULL
    );
";

pub(crate) struct TextIndex {
    progress: Arc<Progress>,
    reader: Mutex<Connection>,
    /// `None` once dropped, which ends the follower.
    nudge: Option<SyncSender<()>>,
    follower: Option<JoinHandle<()>>,
}

/// The last position the index holds, and a way to wait for it to move;
/// the log's head as the follower was last told.
#[derive(Default)]
struct Progress {
    position: Mutex<u64>,
    moved: Condvar,
    head: AtomicU64,
}

/// Where the index of the store at `events` lives.
pub(crate) fn index_path(events: &Path) -> PathBuf {
    events.with_extension("search.sqlite")
}

impl TextIndex {
    /// Opens (creating, or starting over, as needed) the index of the store
    /// at `events` and starts following the log.
    pub(crate) fn start(events: &Path) -> Result<TextIndex> {
        let path = index_path(events);
        // A damaged cache is deleted and made again; any other failure (a
        // read-only directory, a busy file) is the answer.
        let (mut writer, log) = open_for_indexing(events, &path)
            .or_else(|e| {
                if !damaged(&e) {
                    return Err(e);
                }
                delete_index(&path)?;
                open_for_indexing(events, &path)
            })
            .with_context(|| format!("cannot open the text index {}", path.display()))?;
        let reader = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open {}", path.display()))?;
        reader.busy_timeout(Duration::from_secs(5))?;
        let progress = Arc::new(Progress::default());
        *lock(&progress.position) = indexed(&writer)?.0;
        let (nudge, nudged) = sync_channel(1);
        let follower = {
            let progress = progress.clone();
            std::thread::Builder::new()
                .name("wbx-text-index".into())
                .spawn(move || follow(&log, &mut writer, &progress, &nudged))
                .context("cannot start the text index")?
        };
        Ok(TextIndex {
            progress,
            reader: Mutex::new(reader),
            nudge: Some(nudge),
            follower: Some(follower),
        })
    }

    /// Tells the follower the log has grown to `head`.
    pub(crate) fn committed(&self, head: u64) {
        self.progress.head.fetch_max(head, Ordering::Relaxed);
        if let Some(nudge) = &self.nudge {
            // Full: a nudge is pending already, and one is enough.
            let _ = nudge.try_send(());
        }
    }

    /// The last position the index holds: every event up to it is there.
    pub(crate) fn position(&self) -> u64 {
        *lock(&self.progress.position)
    }

    /// Waits up to `timeout` for the index to hold `position`; whether it does.
    pub(crate) fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut at = lock(&self.progress.position);
        while *at < position {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            at = self
                .progress
                .moved
                .wait_timeout(at, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Positions in `range` (both ends included) of the events whose text
    /// may contain the looked-up text, every one that does among them, at
    /// most `limit`, from the range's end when `backwards`.
    pub(crate) fn candidates(
        &self,
        lookup: &Lookup,
        range: (u64, u64),
        backwards: bool,
        limit: usize,
    ) -> Result<Vec<u64>> {
        let order = if backwards { "DESC" } else { "ASC" };
        let reader = lock(&self.reader);
        let mut statement = reader
            .prepare_cached(&format!(
                "SELECT rowid FROM event_text WHERE event_text MATCH ?1 \
             AND rowid BETWEEN ?2 AND ?3 ORDER BY rowid {order} LIMIT ?4"
            ))
            .context("cannot search the text index")?;
        let clamp = |p: u64| i64::try_from(p).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(
                rusqlite::params![lookup.0, clamp(range.0), clamp(range.1), limit as i64],
                |row| row.get::<_, i64>(0),
            )
            .context("cannot search the text index")?;
        let positions = rows
            .map(|p| p.map(|p| p as u64))
            .collect::<Result<_, _>>()
            .context("cannot search the text index")?;
        Ok(positions)
    }
}

impl Drop for TextIndex {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(follower) = self.follower.take() {
            // Ends a wait for the log to be still at once.
            follower.thread().unpark();
            let _ = follower.join();
        }
    }
}

/// What the index is asked for a text: an FTS5 expression that every text
/// containing it matches, each of its distinct trigrams quoted.
pub(crate) struct Lookup(String);

impl Lookup {
    /// `None` under three characters: no trigram to look up.
    pub(crate) fn of(text: &str) -> Option<Lookup> {
        let chars: Vec<char> = text.chars().collect();
        let grams: BTreeSet<String> = chars
            .windows(3)
            .map(|w| format!("\"{}\"", w.iter().collect::<String>().replace('"', "\"\"")))
            .collect();
        (!grams.is_empty()).then(|| Lookup(grams.into_iter().collect::<Vec<_>>().join(" AND ")))
    }
}

/// The index's own connection, made ready (started over when it no longer
/// matches the store), and a reading connection to the store.
fn open_for_indexing(events: &Path, path: &Path) -> Result<(Connection, Connection)> {
    let log = Connection::open_with_flags(
        events,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    log.busy_timeout(Duration::from_secs(5))?;
    let mut writer = Connection::open(path)?;
    writer.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
    writer.busy_timeout(Duration::from_secs(5))?;
    writer.execute_batch(SCHEMA)?;
    let (position, id) = indexed(&writer)?;
    let there: Option<String> = log
        .query_row(
            "SELECT id FROM events WHERE position = ?",
            [position as i64],
            |r| r.get(0),
        )
        .optional()?;
    if position > 0 && there.as_deref() != Some(id.as_str()) {
        let tx = writer.transaction()?;
        tx.execute_batch("DROP TABLE event_text; DROP TABLE indexed;")?;
        tx.execute_batch(SCHEMA)?;
        tx.commit()?;
    }
    Ok((writer, log))
}

/// Whether `error` says the file is not a sound SQLite database.
fn damaged(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                )
        )
    })
}

/// Deletes the index at `path` with its journal files.
fn delete_index(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot delete {}", path.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The last position indexed and the id of its event (0 and "" for none).
fn indexed(writer: &Connection) -> Result<(u64, String)> {
    let row = writer
        .query_row("SELECT position, id FROM indexed", [], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// The follower: indexes what the log holds past the index, then waits
/// for a nudge and for the log to be still (or far ahead), until the index
/// is dropped.
fn follow(log: &Connection, writer: &mut Connection, progress: &Progress, nudged: &Receiver<()>) {
    lower_priority();
    loop {
        // A failed batch counts as caught up: it is tried again after the
        // next nudge, and meanwhile searches scan what the index lacks.
        while let Ok(Some((last, count))) = index_batch(log, writer) {
            *lock(&progress.position) = last;
            progress.moved.notify_all();
            if count < BATCH {
                break;
            }
            if let Err(TryRecvError::Disconnected) = nudged.try_recv() {
                return;
            }
        }
        if nudged.recv().is_err() {
            return;
        }
        // The wait for the log to be still sleeps rather than taking each
        // nudge: a thread waiting on the channel is woken by every commit,
        // and that wake cost the append path a sixth of its time.
        loop {
            let before = progress.head.load(Ordering::Relaxed);
            std::thread::park_timeout(QUIET);
            if let Err(TryRecvError::Disconnected) = nudged.try_recv() {
                return;
            }
            let head = progress.head.load(Ordering::Relaxed);
            if head == before || head.saturating_sub(*lock(&progress.position)) >= MAX_BEHIND {
                break;
            }
        }
    }
}

/// Makes the calling thread the last to get a CPU: the follower uses what
/// the engine leaves idle, and under load it falls behind (searches scan a
/// longer tail) rather than slowing the appends down.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: setpriority on this thread's own id changes only its nice
    // value; a failure leaves it at the normal priority, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Indexes up to [`BATCH`] events after the last one indexed, in one
/// transaction; the last position the index then holds and how many were
/// indexed, `None` when there was nothing to index. The position is read inside the transaction, so
/// that two processes with the store open never index an event twice.
fn index_batch(log: &Connection, writer: &mut Connection) -> Result<Option<(u64, usize)>> {
    let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (from, _) = indexed(&tx)?;
    let mut read = log.prepare_cached(&format!(
        "SELECT e.position, e.id, {SEARCHED_TEXT} FROM events e \
         WHERE e.position > ? ORDER BY e.position LIMIT {BATCH}"
    ))?;
    let rows = read
        .query_map([from as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let Some((last, last_id, _)) = rows.last().cloned() else {
        return Ok(None);
    };
    {
        let mut insert = tx.prepare_cached("INSERT INTO event_text (rowid, text) VALUES (?, ?)")?;
        for (position, _, text) in &rows {
            insert.execute(rusqlite::params![position, text])?;
        }
    }
    tx.execute(
        "INSERT INTO indexed (only, position, id) VALUES (1, ?1, ?2) \
         ON CONFLICT (only) DO UPDATE SET position = ?1, id = ?2",
        rusqlite::params![last, last_id],
    )?;
    tx.commit()?;
    Ok(Some((last as u64, rows.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_looked_up_by_each_of_its_trigrams() {
        let lookup = |text: &str| Lookup::of(text).map(|l| l.0);
        assert_eq!(lookup("ab"), None);
        assert_eq!(lookup("abcab").unwrap(), r#""abc" AND "bca" AND "cab""#);
        assert_eq!(lookup("a\"bc").unwrap(), r#""""bc" AND "a""b""#);
        assert_eq!(lookup("été!").unwrap(), r#""té!" AND "été""#);
    }
}
