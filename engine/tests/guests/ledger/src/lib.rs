//! A read model of counters: `counters(id, total, events)`, and `applied`,
//! one row per event position handled (a primary key, so handling an event
//! twice would fail loudly). Version 0.1.0 panics on an increment of 13; an
//! increment of 99 tries to break the host's rules (and must fail to).

use wbx_guest::sql::{self, Value};
use wbx_guest::{Event, Projector, QueryItem};

struct Ledger;

// Only the crate named `ledger` (0.1.0) has the bug.
const BUGGY: bool = matches!(env!("CARGO_PKG_NAME").as_bytes(), b"ledger");

impl Projector for Ledger {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem {
            types: vec!["Incremented".into()],
            tags: vec![],
        }]
    }

    fn init() -> Result<(), String> {
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, total INTEGER NOT NULL, events INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS applied (position INTEGER PRIMARY KEY);",
        )
    }

    fn handle(events: Vec<Event>) -> Result<(), String> {
        for event in events {
            let data: serde_json::Value =
                serde_json::from_str(&event.data).map_err(|e| e.to_string())?;
            let by = data["by"].as_i64().ok_or("Incremented without `by`")?;
            if BUGGY && by == 13 {
                panic!("unlucky 13 at position {}", event.position);
            }
            if by == 99 {
                // Tries to escape the host's transaction and to move its own
                // position: both must be refused.
                let commit = sql::execute_batch("COMMIT");
                let position = sql::execute("DELETE FROM _wbx_projector", &[]);
                if commit.is_ok() || position.is_ok() {
                    return Err("the guest escaped the host's rules".into());
                }
            }
            let id = data["id"].as_str().ok_or("Incremented without `id`")?;
            sql::execute(
                "INSERT INTO applied (position) VALUES (?)",
                &[Value::Integer(event.position as i64)],
            )?;
            sql::execute(
                "INSERT INTO counters (id, total, events) VALUES (?1, ?2, 1)
                 ON CONFLICT (id) DO UPDATE SET total = total + ?2, events = events + 1",
                &[Value::from(id), Value::Integer(by)],
            )?;
        }
        Ok(())
    }
}

wbx_guest::export_projector!(Ledger);
