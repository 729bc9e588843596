//! The `{{module-name}}` read model: how many events of each type the log
//! holds, in `event_counts (type, count)`.

use wbx_guest::sql::{self, Value};
use wbx_guest::{Event, Projector, QueryItem};

struct {{ModuleName}};

impl Projector for {{ModuleName}} {
    /// No items: every event. Narrow it with `QueryItem::of::<T>()`.
    fn subscription() -> Vec<QueryItem> {
        Vec::new()
    }

    /// Runs in a transaction the host opens, before the first batch.
    fn init() -> Result<(), String> {
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS event_counts (
                 type TEXT PRIMARY KEY, count INTEGER NOT NULL)",
        )
    }

    /// A batch and the projector's position commit together, or not at all.
    fn handle(events: Vec<Event>) -> Result<(), String> {
        for event in &events {
            sql::execute(
                "INSERT INTO event_counts (type, count) VALUES (?, 1)
                 ON CONFLICT (type) DO UPDATE SET count = count + 1",
                &[Value::from(event.event_type.as_str())],
            )?;
        }
        Ok(())
    }
}

wbx_guest::export_projector!({{ModuleName}});
