//! When a pane that reads its runtime as time passes (the Actors pane's
//! table and the process opened, the Flows pane's flows and the stage
//! opened) asks again: once a [`REFRESH`] after the last answer, or after
//! [`GIVE_UP`] when no answer came.

use std::time::{Duration, Instant};

/// How often a read is asked for again while its pane shows.
pub const REFRESH: Duration = Duration::from_secs(1);
/// A read unanswered this long is asked for again.
pub const GIVE_UP: Duration = Duration::from_secs(5);

/// When a read was last asked for, and whether its answer came.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked {
    at: Option<Instant>,
    pending: bool,
}

impl Asked {
    /// A read answered at `at`: the next is due a [`REFRESH`] later.
    pub fn answered_at(at: Instant) -> Asked {
        Asked {
            at: Some(at),
            pending: false,
        }
    }

    pub fn due(&self, now: Instant) -> bool {
        let wait = if self.pending { GIVE_UP } else { REFRESH };
        self.at
            .is_none_or(|at| now.saturating_duration_since(at) >= wait)
    }

    pub fn ask(&mut self, now: Instant) {
        self.at = Some(now);
        self.pending = true;
    }

    /// Asks when it is due; true when it did.
    fn ask_if_due(&mut self, now: Instant) -> bool {
        let due = self.due(now);
        if due {
            self.ask(now);
        }
        due
    }

    /// Its answer came.
    pub fn answered(&mut self) {
        self.pending = false;
    }

    /// What it read may be stale: due at the next tick.
    pub fn forget(&mut self) {
        self.at = None;
    }
}

/// The two reads of such a pane: its list, and the row it has opened.
#[derive(Debug, Clone, Copy)]
pub struct Reads {
    /// The latest tick.
    now: Instant,
    pub list: Asked,
    pub opened: Asked,
}

impl Reads {
    /// The list was just read; nothing is open.
    pub fn new() -> Reads {
        let now = Instant::now();
        Reads {
            now,
            list: Asked::answered_at(now),
            opened: Asked::default(),
        }
    }

    /// A row was opened: it is asked for now.
    pub fn open(&mut self) {
        self.opened.ask(self.now);
    }

    /// Time passes: whether to read the list, and whether to read the row
    /// opened (only while `opened` says one is worth reading), now.
    pub fn tick(&mut self, now: Instant, opened: bool) -> (bool, bool) {
        self.now = now;
        let list = self.list.ask_if_due(now);
        (list, opened && self.opened.ask_if_due(now))
    }
}

impl Default for Reads {
    fn default() -> Reads {
        Reads::new()
    }
}
