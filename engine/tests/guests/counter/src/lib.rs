//! A bounded counter: `{"id": "a", "by": 2, "max": 10}` appends
//! `Incremented` tagged `counter:a` unless the total would pass `max`.
//! Its decision depends on every earlier increment of the same counter,
//! which makes it the command for conflict and consistency tests.

use std::cell::{Cell, RefCell};

use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

#[derive(serde::Deserialize)]
struct Input {
    id: String,
    by: i64,
    #[serde(default = "unbounded")]
    max: i64,
    /// Sleeps this long in `decide`, holding the execution open so a test
    /// can write in between its read and its append. A sleep waits in the
    /// host, so the execution gives its thread back meanwhile.
    #[serde(default)]
    linger_ms: u64,
}

fn unbounded() -> i64 {
    i64::MAX
}

thread_local! {
    static INPUT: RefCell<Option<Input>> = const { RefCell::new(None) };
    static TOTAL: Cell<i64> = const { Cell::new(0) };
}

struct Counter;

impl Command for Counter {
    fn prepare(input: String) -> Result<Vec<QueryItem>, CommandError> {
        let input: Input = serde_json::from_str(&input)
            .map_err(|e| CommandError::InvalidInput(e.to_string()))?;
        if input.by <= 0 {
            return Err(CommandError::InvalidInput("by: must be positive".into()));
        }
        let query = vec![QueryItem {
            types: vec!["Incremented".into()],
            tags: vec![format!("counter:{}", input.id)],
        }];
        INPUT.with(|slot| *slot.borrow_mut() = Some(input));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        for event in events {
            let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
            TOTAL.with(|t| t.set(t.get() + data["by"].as_i64().unwrap_or(0)));
        }
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let input = INPUT
            .with(|slot| slot.borrow_mut().take())
            .ok_or_else(|| CommandError::InvalidInput("no input".into()))?;
        wbx_guest::info!("deciding on counter {}", input.id);
        if input.linger_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(input.linger_ms));
        }
        let total = TOTAL.with(Cell::get) + input.by;
        if total > input.max {
            return Err(CommandError::Rejected(format!(
                "counter '{}' would reach {total}, over its max of {}",
                input.id, input.max
            )));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Ok(vec![NewEvent {
            event_type: "Incremented".into(),
            tags: vec![format!("counter:{}", input.id)],
            data: serde_json::json!({ "id": input.id, "by": input.by, "total": total, "decided_at_ms": now })
                .to_string(),
        }])
    }
}

wbx_guest::export_command!(Counter);
