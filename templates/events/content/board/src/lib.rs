//! The board read model: one row a task in `tasks`, kept in the projector's
//! own SQLite database. With `wbx run` going, query it with
//! `curl "$API/api/projectors/board/query?sql=SELECT * FROM tasks"`.

use wbx_guest::sql::{self, Value};
use wbx_guest::{Event, Projector, QueryItem};
use {{project_name}}_shared::{TaskAdded, TaskCompleted};

struct Board;

/// Each event changes exactly one row; anything else means the log and the
/// board disagree, and the batch fails (the projector stops, nothing half-applied).
fn apply(event: &Event) -> Result<(), String> {
    let changed = if let Some(added) = event.decode::<TaskAdded>() {
        sql::execute(
            "INSERT INTO tasks (task_id, title, done) VALUES (?, ?, 0)",
            &[Value::from(added.task_id.as_str()), Value::from(added.title.as_str())],
        )?
    } else if let Some(completed) = event.decode::<TaskCompleted>() {
        sql::execute(
            "UPDATE tasks SET done = 1 WHERE task_id = ?",
            &[Value::from(completed.task_id.as_str())],
        )?
    } else {
        0
    };
    match changed {
        1 => Ok(()),
        n => Err(format!(
            "event {} ({}) changed {n} rows of the board instead of 1",
            event.position, event.event_type
        )),
    }
}

impl Projector for Board {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem::of::<TaskAdded>().or_of::<TaskCompleted>()]
    }

    /// Runs in a transaction the host opens, before the first batch.
    fn init() -> Result<(), String> {
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS tasks (
                 task_id TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)",
        )
    }

    /// A batch and the projector's position commit together, or not at all.
    fn handle(events: Vec<Event>) -> Result<(), String> {
        events.iter().try_for_each(apply)
    }
}

wbx_guest::export_projector!(Board);
