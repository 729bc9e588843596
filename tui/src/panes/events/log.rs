//! The Events pane: a window onto the event log, newest at the bottom.
//!
//! Only the rows on screen are held, read from the store through its
//! indexes when the view moves, so a log of a million events scrolls as a
//! log of ten does. Following (the default) reloads the tail when events
//! are appended; scrolling up pauses it.

use anyhow::Result;
use wbx_engine::events::{Browse, EventStore, Query, QueryItem, ReadOptions, StoredEvent};

#[derive(Debug, Clone, Default)]
pub struct EventsPane {
    /// The log's head, as the last `Appended` observation said.
    pub head: u64,
    /// The rows on screen, oldest first; at most `page` of them.
    pub rows: Vec<StoredEvent>,
    pub selected: usize,
    /// Following the head (the default). `Default` gives `false`; the app
    /// starts it with [`EventsPane::new`].
    pub follow: bool,
    /// Rows that fit on screen.
    pub page: usize,
    pub filter: EventFilter,
    /// The selected event's detail view is open, scrolled this far.
    pub detail: Option<u16>,
    /// Events were appended since the window was read.
    pub stale: bool,
    /// The last read failed: why.
    pub error: Option<String>,
}

/// What `/` asked for: `type:NAME` (any of several), `tag:KEY:VALUE` (all
/// of several), and free text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// As typed, to show and to edit again.
    pub text: String,
    pub browse: Browse,
}

impl EventFilter {
    pub fn parse(text: &str) -> EventFilter {
        let mut item = QueryItem::default();
        let mut words = Vec::new();
        for word in text.split_whitespace() {
            if let Some(t) = word.strip_prefix("type:").filter(|t| !t.is_empty()) {
                item.types.push(t.to_owned());
            } else if let Some(t) = word.strip_prefix("tag:").filter(|t| !t.is_empty()) {
                item.tags.push(t.to_owned());
            } else {
                words.push(word);
            }
        }
        let query = if item.types.is_empty() && item.tags.is_empty() {
            Query::all()
        } else {
            Query::new(vec![item])
        };
        EventFilter {
            text: text.trim().to_owned(),
            browse: Browse {
                query,
                text: (!words.is_empty()).then(|| words.join(" ")),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl EventsPane {
    pub fn new(head: u64) -> EventsPane {
        EventsPane {
            head,
            follow: true,
            stale: true,
            page: 1,
            ..EventsPane::default()
        }
    }

    pub fn selected_event(&self) -> Option<&StoredEvent> {
        self.rows.get(self.selected)
    }

    fn read(&mut self, store: &EventStore, options: ReadOptions) -> Vec<StoredEvent> {
        let result: Result<Vec<StoredEvent>> = store.browse(&self.filter.browse, options);
        match result {
            Ok(rows) => {
                self.error = None;
                rows
            }
            Err(error) => {
                self.error = Some(format!("{error:#}"));
                Vec::new()
            }
        }
    }

    /// Reads what changed since the last frame: the tail, when following.
    pub fn settle(&mut self, store: &EventStore) {
        if self.stale && self.follow {
            self.load_tail(store);
        }
        self.stale = false;
    }

    fn load_tail(&mut self, store: &EventStore) {
        let mut rows = self.read(store, ReadOptions::backward(None, self.page as u64));
        rows.reverse();
        self.rows = rows;
        self.selected = self.rows.len().saturating_sub(1);
    }

    /// The window starting at `position` (or the tail, when too few follow it).
    fn load_from(&mut self, store: &EventStore, position: u64) {
        let rows = self.read(store, ReadOptions::forward(position, self.page as u64));
        if rows.len() < self.page {
            self.load_tail(store);
        } else {
            self.rows = rows;
        }
    }

    pub fn appended(&mut self, last: u64) {
        self.head = self.head.max(last);
        self.stale = true;
    }

    pub fn resize(&mut self, store: &EventStore, page: usize) {
        let page = page.max(1);
        if page == self.page {
            return;
        }
        self.page = page;
        match (self.follow, self.rows.first().map(|e| e.position)) {
            (false, Some(first)) => {
                let keep = self.selected_event().map(|e| e.position);
                self.load_from(store, first);
                self.select_position(keep.unwrap_or(first));
            }
            _ => self.load_tail(store),
        }
    }

    fn select_position(&mut self, position: u64) {
        self.selected = self
            .rows
            .iter()
            .position(|e| e.position >= position)
            .unwrap_or(self.rows.len().saturating_sub(1));
    }

    pub fn up(&mut self, store: &EventStore, rows: usize) {
        self.follow = false;
        if self.selected >= rows {
            self.selected -= rows;
            return;
        }
        let Some(first) = self.rows.first().map(|e| e.position) else {
            return;
        };
        let wanted = rows - self.selected;
        let mut before = self.read(
            store,
            ReadOptions::backward(Some(first.saturating_sub(1)), wanted as u64),
        );
        if first <= 1 {
            before.clear();
        }
        before.reverse();
        let got = before.len();
        before.append(&mut self.rows);
        before.truncate(self.page);
        self.rows = before;
        self.selected = got.saturating_sub(wanted);
    }

    pub fn down(&mut self, store: &EventStore, rows: usize) {
        let last = self.rows.len().saturating_sub(1);
        if self.selected + rows <= last {
            self.selected += rows;
            return;
        }
        let Some(end) = self.rows.last().map(|e| e.position) else {
            return;
        };
        let wanted = self.selected + rows - last;
        let mut after = self.read(store, ReadOptions::forward(end + 1, wanted as u64));
        let got = after.len();
        self.rows.append(&mut after);
        let excess = self.rows.len().saturating_sub(self.page);
        self.rows.drain(..excess);
        self.selected = (self.selected + rows)
            .saturating_sub(excess)
            .min(self.rows.len().saturating_sub(1));
        if got < wanted {
            self.selected = self.rows.len().saturating_sub(1);
        }
    }

    pub fn top(&mut self, store: &EventStore) {
        self.follow = false;
        self.rows = self.read(store, ReadOptions::forward(1, self.page as u64));
        self.selected = 0;
    }

    pub fn bottom(&mut self, store: &EventStore) {
        self.follow = true;
        self.load_tail(store);
    }

    /// Shows the event at `position` (or the next one the filter lets through).
    pub fn goto(&mut self, store: &EventStore, position: u64) {
        self.follow = false;
        self.load_from(store, position);
        self.select_position(position);
    }

    pub fn set_filter(&mut self, store: &EventStore, filter: EventFilter) {
        self.filter = filter;
        self.detail = None;
        self.bottom(store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wbx_engine::events::{AppendMeta, NewEvent};

    fn store_with(n: u64) -> (tempfile::TempDir, EventStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::open(&dir.path().join("events.db")).unwrap();
        let events: Vec<NewEvent> = (1..=n)
            .map(|i| NewEvent {
                event_type: if i % 2 == 0 { "Even" } else { "Odd" }.to_owned(),
                tags: vec![format!("n:{i}")],
                data: format!("{{\"n\":{i}}}"),
            })
            .collect();
        store.append(&events, None, &AppendMeta::default()).unwrap();
        (dir, store)
    }

    fn positions(pane: &EventsPane) -> Vec<u64> {
        pane.rows.iter().map(|e| e.position).collect()
    }

    #[test]
    fn follows_the_tail_and_scrolls_through_the_store() {
        let (_dir, store) = store_with(100);
        let mut pane = EventsPane::new(100);
        pane.resize(&store, 5);
        assert_eq!(positions(&pane), [96, 97, 98, 99, 100]);
        assert_eq!(pane.selected_event().unwrap().position, 100);

        pane.up(&store, 6);
        assert!(!pane.follow);
        assert_eq!(pane.selected_event().unwrap().position, 94);
        assert_eq!(pane.rows.len(), 5);

        pane.down(&store, 3);
        assert_eq!(pane.selected_event().unwrap().position, 97);
        pane.top(&store);
        assert_eq!(positions(&pane), [1, 2, 3, 4, 5]);
        pane.up(&store, 1);
        assert_eq!(
            pane.selected_event().unwrap().position,
            1,
            "nothing before 1"
        );

        pane.goto(&store, 50);
        assert_eq!(pane.selected_event().unwrap().position, 50);
        pane.goto(&store, 99);
        assert_eq!(positions(&pane), [96, 97, 98, 99, 100]);
        assert_eq!(pane.selected_event().unwrap().position, 99);

        // Paused: appends move the head, not the window.
        pane.appended(101);
        pane.settle(&store);
        assert_eq!(positions(&pane), [96, 97, 98, 99, 100]);
        pane.bottom(&store);
        assert!(pane.follow);
    }

    #[test]
    fn filters_by_type_tag_and_text() {
        let (_dir, store) = store_with(40);
        let mut pane = EventsPane::new(40);
        pane.resize(&store, 4);
        pane.set_filter(&store, EventFilter::parse("type:Even"));
        assert_eq!(positions(&pane), [34, 36, 38, 40]);
        pane.up(&store, 4);
        assert_eq!(pane.selected_event().unwrap().position, 32);
        pane.set_filter(&store, EventFilter::parse("tag:n:7"));
        assert_eq!(positions(&pane), [7]);
        pane.set_filter(&store, EventFilter::parse("\"n\":1"));
        assert_eq!(positions(&pane), [16, 17, 18, 19], "text matches the data");
        pane.set_filter(&store, EventFilter::parse("nothing-like-this"));
        assert!(pane.rows.is_empty());
        assert!(pane.error.is_none());
    }
}
