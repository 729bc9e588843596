//! An effect that POSTs each `Incremented` event's data to the URL in its
//! `config` table and records the answer's status in `sent`.

use wbx_guest::sql::{self, Value};
use wbx_guest::{Effect, Event, QueryItem};

struct Webhook;

impl Effect for Webhook {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem {
            types: vec!["Incremented".into()],
            tags: vec![],
        }]
    }

    fn partition_key(_event: Event) -> Option<String> {
        None
    }

    fn handle(event: Event) -> Result<(), String> {
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS config (url TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS sent (position INTEGER PRIMARY KEY, status INTEGER);",
        )?;
        let rows = sql::query("SELECT url FROM config", &[])?;
        let url = rows
            .rows
            .first()
            .and_then(|r| r[0].as_text())
            .ok_or("no url in config")?
            .to_owned();
        let response = wbx_guest::http::post(&url, event.data.as_bytes())?;
        sql::execute(
            "INSERT OR REPLACE INTO sent (position, status) VALUES (?, ?)",
            &[Value::Integer(event.position as i64), Value::Integer(response.status.into())],
        )?;
        Ok(())
    }
}

wbx_guest::export_effect!(Webhook);
