//! A projector that counts the events it is given and logs the running total.

use std::sync::atomic::{AtomicU64, Ordering};

use wbx_guest::{Event, Projector, QueryItem};

static TOTAL: AtomicU64 = AtomicU64::new(0);

struct Tally;

impl Projector for Tally {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem {
            types: vec!["Greeted".into()],
            tags: vec![],
        }]
    }

    fn init() -> Result<(), String> {
        Ok(())
    }

    fn handle(events: Vec<Event>) -> Result<(), String> {
        let total = TOTAL.fetch_add(events.len() as u64, Ordering::Relaxed) + events.len() as u64;
        wbx_guest::info!("tally is {total}");
        Ok(())
    }
}

wbx_guest::export_projector!(Tally);
