//! The `{{module-name}}` effect: logs every event it sees. Effects are
//! at-least-once: after a restart an event may come again, so make what an
//! effect does safe to repeat (its own SQLite database and idempotency keys
//! on the commands it executes help).

use wbx_guest::{Effect, Event, QueryItem};

struct {{ModuleName}};

impl Effect for {{ModuleName}} {
    /// No items: every event. Narrow it with `QueryItem::of::<T>()`.
    fn subscription() -> Vec<QueryItem> {
        Vec::new()
    }

    /// Events with the same key are handled in order, keys in parallel;
    /// `None` sends an event to the one global lane.
    fn partition_key(event: Event) -> Option<String> {
        event.tags.first().cloned()
    }

    fn handle(event: Event) -> Result<(), String> {
        wbx_guest::info!(
            "{} at {} {:?}",
            event.event_type,
            event.position,
            event.tags
        );
        Ok(())
    }
}

wbx_guest::export_effect!({{ModuleName}});
