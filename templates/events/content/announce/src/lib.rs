//! The announce effect: logs each completed task, once. An effect may see
//! an event again after a restart (it is at-least-once), so it remembers
//! the positions it has announced in its own database.

use wbx_guest::sql::{self, Value};
use wbx_guest::{Effect, Event, QueryItem};
use {{project_name}}_shared::TaskCompleted;

struct Announce;

impl Effect for Announce {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem::of::<TaskCompleted>()]
    }

    /// All events in one lane, in order; return a key to spread them over lanes.
    fn partition_key(_event: Event) -> Option<String> {
        None
    }

    fn handle(event: Event) -> Result<(), String> {
        let completed = event
            .decode::<TaskCompleted>()
            .ok_or_else(|| format!("event {} has an unexpected shape", event.position))?;
        sql::execute_batch("CREATE TABLE IF NOT EXISTS announced (position INTEGER PRIMARY KEY)")?;
        let fresh = sql::execute(
            "INSERT OR IGNORE INTO announced (position) VALUES (?)",
            &[Value::Integer(event.position as i64)],
        )?;
        if fresh == 1 {
            wbx_guest::info!("task '{}' is done", completed.task_id);
        }
        Ok(())
    }
}

wbx_guest::export_effect!(Announce);
