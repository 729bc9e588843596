//! The SQLite store's checkpointer: a thread with a connection of its own
//! that copies the write-ahead log back into the database file, so that
//! appends do not.
//!
//! Left to itself, SQLite checkpoints in the transaction that takes the
//! log past its threshold, and that append pays for copying every page the
//! others wrote (a quarter of the append path's time here). The writer
//! nudges the checkpointer every [`COMMITS`] commits instead; the
//! checkpoint is `PASSIVE`, so it never waits for the writer or readers,
//! and the log starts over from its beginning at the next append after a
//! checkpoint that copied it all. Under a steady stream of appends the
//! checkpointer rarely finds the log still (the writer adds to it while it
//! copies), so the log restarts when the writer's own checkpoint at
//! [`WRITER_THRESHOLD`] pages (16 MiB) runs; by then the checkpointer has
//! copied nearly all of it, and the writer copies only what is left.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use rusqlite::Connection;

/// Commits between two nudges (about 600 log pages of single appends).
const COMMITS: u32 = 128;
/// The log's size in pages at which the writer checkpoints itself.
pub(crate) const WRITER_THRESHOLD: u32 = 4096;

pub(crate) struct Checkpointer {
    commits: AtomicU32,
    /// `None` once dropped, which ends the thread.
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the store at `path`.
    pub(crate) fn start(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open {} to checkpoint it", path.display()))?;
        let (nudge, nudged) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("wbx-checkpoint".into())
            .spawn(move || checkpoint_when_nudged(&conn, &nudged))
            .context("cannot start the event store's checkpointer")?;
        Ok(Checkpointer {
            commits: AtomicU32::new(0),
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Counts a commit, nudging the checkpointer every [`COMMITS`].
    pub(crate) fn committed(&self) {
        if self.commits.fetch_add(1, Ordering::Relaxed) % COMMITS == COMMITS - 1
            && let Some(nudge) = &self.nudge
        {
            // Full: a nudge is pending already, and one is enough.
            let _ = nudge.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn checkpoint_when_nudged(conn: &Connection, nudged: &Receiver<()>) {
    while nudged.recv().is_ok() {
        // A failed checkpoint is retried at the next nudge, and the
        // writer's own threshold still bounds the log meanwhile.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}
