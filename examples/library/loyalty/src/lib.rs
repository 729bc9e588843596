//! The loyalty effect: counts each member's returns and, at 3 and at 10,
//! executes `award-badge`. Effects may see an event again after a restart,
//! so it remembers which events it has counted, and the command it executes
//! carries an idempotency key.

use library_shared::BookReturned;
use wbx_guest::sql::{self, Value};
use wbx_guest::{Effect, Event, QueryItem, commands};

const BADGES: [(i64, &str); 2] = [(3, "reader"), (10, "bookworm")];

struct Loyalty;

impl Effect for Loyalty {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem::of::<BookReturned>()]
    }

    /// One member's returns are counted in order; members run in parallel.
    fn partition_key(event: Event) -> Option<String> {
        event.decode::<BookReturned>().map(|r| r.member_id)
    }

    fn handle(event: Event) -> Result<(), String> {
        let returned = event
            .decode::<BookReturned>()
            .ok_or_else(|| format!("event {} has an unexpected shape", event.position))?;
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS counted (position INTEGER PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS returns (member_id TEXT PRIMARY KEY, count INTEGER NOT NULL);",
        )?;
        let member = Value::from(returned.member_id.as_str());
        let fresh = sql::execute(
            "INSERT OR IGNORE INTO counted (position) VALUES (?)",
            &[Value::Integer(event.position as i64)],
        )?;
        if fresh == 1 {
            sql::execute(
                "INSERT INTO returns (member_id, count) VALUES (?, 1)
                 ON CONFLICT (member_id) DO UPDATE SET count = count + 1",
                &[member.clone()],
            )?;
        }
        let rows = sql::query("SELECT count FROM returns WHERE member_id = ?", &[member])?;
        let count = rows.rows.first().and_then(|r| r[0].as_integer()).unwrap_or(0);
        for (at, badge) in BADGES {
            if count == at {
                let input = serde_json::json!({ "member_id": returned.member_id, "badge": badge });
                let key = format!("badge-{badge}-{}", returned.member_id);
                commands::execute("award-badge", &input.to_string(), Some(&key))
                    .map_err(|e| format!("awarding '{badge}' failed: {e:?}"))?;
            }
        }
        Ok(())
    }
}

wbx_guest::export_effect!(Loyalty);
