//! Events as people read them: one line each.

use serde_json::Value;

use crate::console::{DIM, Stream, paint};

/// `  12  2026-11-21T21:00:00.123Z  Incremented  [counter:a]  {"by":1}` from
/// an event's JSON form (as the API and `--json` give it).
pub fn event_line(event: &Value) -> String {
    let tags: Vec<&str> = event["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "{:>6}  {}  {}  [{}]  {}",
        event["position"].as_u64().unwrap_or(0),
        paint(
            Stream::Stdout,
            event["timestamp"].as_str().unwrap_or(""),
            DIM
        ),
        event["type"].as_str().unwrap_or("?"),
        tags.join(", "),
        event["data"]
    )
}
