//! What projectors and effects share: a position kept in the module's own
//! database, and waiting for a new version after a failure.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::watch;

use wbx_core::Engine;

/// A one-row table holding how far in the log a module got.
pub(crate) struct PositionTable(&'static str);

pub(crate) const PROJECTOR: PositionTable = PositionTable("_wbx_projector");
pub(crate) const EFFECT: PositionTable = PositionTable("_wbx_effect");

impl PositionTable {
    /// The saved position (0 when none), creating the table if needed.
    pub(crate) fn read(&self, conn: &Connection) -> Result<u64> {
        let table = self.0;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 position INTEGER NOT NULL)"
        ))?;
        Ok(conn
            .query_row(
                &format!("SELECT position FROM {table} WHERE id = 1"),
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    pub(crate) fn save(&self, conn: &Connection, position: u64) -> rusqlite::Result<()> {
        conn.execute(
            &format!(
                "INSERT INTO {} (id, position) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET position = ?1",
                self.0
            ),
            [position],
        )
        .map(drop)
    }
}

/// The major version of the module that made a projector's read model.
pub(crate) struct MajorTable;

pub(crate) const MAJOR: MajorTable = MajorTable;

impl MajorTable {
    pub(crate) fn read(&self, conn: &Connection) -> Result<Option<String>> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _wbx_projector_major (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 major TEXT NOT NULL)",
        )?;
        Ok(conn
            .query_row(
                "SELECT major FROM _wbx_projector_major WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(crate) fn save(&self, conn: &Connection, major: &str) -> Result<()> {
        self.read(conn)?;
        conn.execute(
            "INSERT INTO _wbx_projector_major (id, major) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET major = ?1",
            [major],
        )?;
        Ok(())
    }
}

/// Waits until `module` has a version other than `failed`, the one that
/// failed (a fix may have been loaded while the failing call still ran).
/// Returns false when asked to stop instead.
pub(crate) async fn wait_for_new_version(
    engine: &Engine,
    module: &str,
    failed: Option<wbx_core::ModuleVersion>,
    stop: &mut watch::Receiver<bool>,
    versions: &mut watch::Receiver<u64>,
) -> bool {
    loop {
        if engine.version_of(module) != failed {
            return true;
        }
        tokio::select! {
            _ = stop.changed() => return false,
            changed = versions.changed() => {
                if changed.is_err() {
                    return false;
                }
            }
        }
    }
}
