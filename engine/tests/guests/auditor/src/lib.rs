//! An effect over `Incremented`, keyed by counter id. For each increment of
//! a counter other than `audit` it records the position in its own
//! `handled` table and executes `counter` on `audit`, with an idempotency
//! key made from the event id. It misbehaves on request:
//! - an increment of 7 fails its first two attempts (counted in `attempts`);
//! - an increment of 3 holds its lane until the test creates a `release`
//!   table in the effect's database, so later events on other lanes
//!   finish first.

use wbx_guest::sql::{self, Value};
use wbx_guest::{Effect, Event, QueryItem, commands};

struct Auditor;

fn data(event: &Event) -> serde_json::Value {
    serde_json::from_str(&event.data).unwrap_or_default()
}

impl Effect for Auditor {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem {
            types: vec!["Incremented".into()],
            tags: vec![],
        }]
    }

    fn partition_key(event: Event) -> Option<String> {
        data(&event)["id"].as_str().map(str::to_owned)
    }

    fn handle(event: Event) -> Result<(), String> {
        let data = data(&event);
        let id = data["id"].as_str().unwrap_or_default();
        if id == "audit" {
            return Ok(());
        }
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS handled (position INTEGER PRIMARY KEY, finished_ms INTEGER);
             CREATE TABLE IF NOT EXISTS attempts (position INTEGER PRIMARY KEY, count INTEGER);",
        )?;
        let position = Value::Integer(event.position as i64);
        match data["by"].as_i64() {
            Some(7) => {
                sql::execute(
                    "INSERT INTO attempts (position, count) VALUES (?1, 1)
                     ON CONFLICT (position) DO UPDATE SET count = count + 1",
                    &[position.clone()],
                )?;
                let rows = sql::query("SELECT count FROM attempts WHERE position = ?", &[position.clone()])?;
                let count = rows.rows[0][0].as_integer().unwrap_or(0);
                if count <= 2 {
                    return Err(format!("attempt {count} at position {} fails on purpose", event.position));
                }
            }
            Some(3) => {
                while sql::query(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'release'",
                    &[],
                )?
                .rows
                .is_empty()
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            _ => {}
        }
        let input = serde_json::json!({ "id": "audit", "by": 1 }).to_string();
        commands::execute("counter", &input, Some(&format!("audit-{}", event.id)))
            .map_err(|e| format!("auditing failed: {e:?}"))?;
        sql::execute(
            "INSERT INTO handled (position, finished_ms) VALUES (?, ?)",
            &[position, Value::Integer(now_ms())],
        )?;
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

wbx_guest::export_effect!(Auditor);
