//! Counts registered users and logs each new one.

use std::sync::atomic::{AtomicU64, Ordering};

use wbx_guest::{Event, Projector, QueryItem};

static USERS: AtomicU64 = AtomicU64::new(0);

struct UserCount;

impl Projector for UserCount {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem {
            types: vec!["UserRegistered".into()],
            tags: vec![],
        }]
    }

    fn init() -> Result<(), String> {
        Ok(())
    }

    fn handle(events: Vec<Event>) -> Result<(), String> {
        for event in events {
            let users = USERS.fetch_add(1, Ordering::Relaxed) + 1;
            let username = event
                .tags
                .iter()
                .find_map(|tag| tag.strip_prefix("username:"))
                .unwrap_or("?");
            wbx_guest::info!("user #{users}: {username} (position {})", event.position);
        }
        Ok(())
    }
}

wbx_guest::export_projector!(UserCount);
