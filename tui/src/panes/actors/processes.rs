//! The process table's state: the runtime's latest snapshot of its
//! processes, the messages each handled per second between two snapshots,
//! the sort (observer_cli's keys) and the `/` filter, and the selection,
//! which stays on its process while rows come, go and move.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use wbx_engine::actors::Pid;
use wbx_engine::actors::info::ProcessInfo;
use wbx_engine::actors::table::Status;

use crate::panes::Cursor;

/// Snapshots closer together than this leave the rates as they were: a
/// count over a few milliseconds says little about a second.
pub const RATE_MIN_INTERVAL: Duration = Duration::from_millis(500);

/// A column the table sorts by, with its key (observer_cli's habits: `m`
/// the message queue, `r` reductions, here the messages handled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Pid,
    Name,
    Mailbox,
    /// Messages handled per second, then in all.
    Rate,
    Memory,
    Restarts,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Pid => "pid",
            SortKey::Name => "name",
            SortKey::Mailbox => "mailbox",
            SortKey::Rate => "rate",
            SortKey::Memory => "memory",
            SortKey::Restarts => "restarts",
        }
    }

    /// Figures sort biggest first; pids and names in order.
    fn descending_first(self) -> bool {
        !matches!(self, SortKey::Pid | SortKey::Name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::Pid,
            descending: false,
        }
    }
}

/// What `/` asked for: every word must match a process. A pid (`<0.5>`,
/// `0.5`) matches that process only; other words are text found in the
/// pid, the registered name or the module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFilter {
    /// As typed, to show and to edit again.
    pub text: String,
    words: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    Pid(u64),
    /// Lowercase.
    Text(String),
}

impl ProcessFilter {
    pub fn parse(text: &str) -> ProcessFilter {
        let words = text
            .split_whitespace()
            .map(|word| match word.parse::<Pid>() {
                Ok(pid) => Word::Pid(pid.0),
                Err(()) => Word::Text(word.to_lowercase()),
            })
            .collect();
        ProcessFilter {
            text: text.trim().to_owned(),
            words,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn admits(&self, row: &ProcessInfo) -> bool {
        self.words.iter().all(|word| match word {
            Word::Pid(pid) => pid_number(&row.pid) == Some(*pid),
            Word::Text(text) => {
                row.pid.contains(text.as_str())
                    || row.module.to_lowercase().contains(text.as_str())
                    || row
                        .name
                        .as_ref()
                        .is_some_and(|n| n.to_lowercase().contains(text.as_str()))
            }
        })
    }
}

/// The number of a pid as the runtime writes it (`<0.12>` is 12).
pub fn pid_number(pid: &str) -> Option<u64> {
    pid.parse::<Pid>().ok().map(|p| p.0)
}

/// The table: rows as the runtime last said (by pid), and which of them
/// show, in what order.
#[derive(Debug)]
pub struct ProcessTable {
    pub rows: Vec<ProcessInfo>,
    /// Messages handled per second over the interval between the two
    /// snapshots the rates were last computed from, by pid.
    rates: HashMap<String, f64>,
    /// The snapshot rates are computed against: when, and each process's
    /// messages handled then.
    baseline: Option<(Instant, HashMap<String, u64>)>,
    /// Sends that found no process, since the engine started.
    pub dead_letters: u64,
    pub sort: Sort,
    pub filter: ProcessFilter,
    /// Indexes into `rows` of the rows the filter lets through, sorted.
    pub shown: Vec<usize>,
    /// Over `shown`.
    pub cursor: Cursor,
    /// The selected process, kept across re-sorts and snapshots.
    selected_pid: Option<String>,
    /// Rows of the table on screen.
    pub page: usize,
}

impl Default for ProcessTable {
    fn default() -> Self {
        ProcessTable {
            rows: Vec::new(),
            rates: HashMap::new(),
            baseline: None,
            dead_letters: 0,
            sort: Sort::default(),
            filter: ProcessFilter::default(),
            shown: Vec::new(),
            cursor: Cursor {
                follow: false,
                ..Cursor::default()
            },
            selected_pid: None,
            page: 1,
        }
    }
}

impl ProcessTable {
    /// A snapshot of the runtime taken at `at`: the rows, and the rates
    /// against the previous snapshot (at least [`RATE_MIN_INTERVAL`] before).
    /// False when nothing shown changed (an idle system, read again).
    pub fn snapshot(&mut self, at: Instant, rows: Vec<ProcessInfo>, dead_letters: u64) -> bool {
        let handled: HashMap<String, u64> =
            rows.iter().map(|r| (r.pid.clone(), r.handled)).collect();
        let mut rates = self.rates.clone();
        match &self.baseline {
            Some((then, before)) => {
                let elapsed = at.saturating_duration_since(*then);
                if elapsed >= RATE_MIN_INTERVAL {
                    let seconds = elapsed.as_secs_f64();
                    // A pid missing from the baseline was spawned since:
                    // it handled its every message in the interval.
                    rates = rows
                        .iter()
                        .map(|r| {
                            let was = before.get(&r.pid).copied().unwrap_or(0);
                            (
                                r.pid.clone(),
                                r.handled.saturating_sub(was) as f64 / seconds,
                            )
                        })
                        .collect();
                    self.baseline = Some((at, handled));
                }
            }
            None => self.baseline = Some((at, handled)),
        }
        let changed = rows != self.rows || dead_letters != self.dead_letters || rates != self.rates;
        self.rows = rows;
        self.rates = rates;
        self.dead_letters = dead_letters;
        self.refresh();
        changed
    }

    /// Messages `pid` handled per second; none before two snapshots.
    pub fn rate(&self, pid: &str) -> Option<f64> {
        self.rates.get(pid).copied()
    }

    /// A process the runtime just started: a row until the next snapshot
    /// brings its figures.
    pub fn spawned(&mut self, pid: &str, module: &str, name: Option<&str>) {
        if self.rows.iter().any(|r| r.pid == pid) {
            return;
        }
        let row = ProcessInfo {
            pid: pid.to_owned(),
            name: name.map(str::to_owned),
            module: module.to_owned(),
            version: None,
            status: Status::Starting,
            mailbox: 0,
            handled: 0,
            restarts: 0,
            mailbox_high: 0,
            mailbox_capacity: 0,
            refused: 0,
            memory: 0,
            last_exit: None,
            supervisor: None,
            child_id: None,
            child_position: None,
            strategy: None,
            trap_exit: false,
        };
        let number = pid_number(pid);
        let at = self
            .rows
            .iter()
            .position(|r| pid_number(&r.pid) > number)
            .unwrap_or(self.rows.len());
        self.rows.insert(at, row);
    }

    /// A process that exited: its row goes.
    pub fn exited(&mut self, pid: &str) {
        self.rows.retain(|r| r.pid != pid);
    }

    /// `key` sorts the table; the same key again reverses it.
    pub fn sort_by(&mut self, key: SortKey) {
        self.sort = if self.sort.key == key {
            Sort {
                key,
                descending: !self.sort.descending,
            }
        } else {
            Sort {
                key,
                descending: key.descending_first(),
            }
        };
        self.refresh();
    }

    pub fn set_filter(&mut self, filter: ProcessFilter) {
        self.filter = filter;
        self.refresh();
    }

    /// Filters and sorts `rows` into `shown`, the selection on the process
    /// it was on (or at the same place when that one is gone).
    pub fn refresh(&mut self) {
        let mut shown: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.filter.admits(&self.rows[i]))
            .collect();
        let Sort { key, descending } = self.sort;
        shown.sort_by(|&a, &b| {
            let (a, b) = (&self.rows[a], &self.rows[b]);
            let order = self.compare(key, a, b);
            let order = if descending { order.reverse() } else { order };
            order.then_with(|| pid_number(&a.pid).cmp(&pid_number(&b.pid)))
        });
        self.shown = shown;
        if let Some(pid) = &self.selected_pid
            && let Some(n) = self.shown.iter().position(|&i| &self.rows[i].pid == pid)
        {
            self.cursor.selected = n;
        }
        self.fit();
    }

    fn compare(&self, key: SortKey, a: &ProcessInfo, b: &ProcessInfo) -> Ordering {
        match key {
            SortKey::Pid => pid_number(&a.pid).cmp(&pid_number(&b.pid)),
            // Unnamed processes after the named ones.
            SortKey::Name => match (&a.name, &b.name) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            SortKey::Mailbox => (a.mailbox, a.mailbox_high).cmp(&(b.mailbox, b.mailbox_high)),
            SortKey::Rate => {
                let rate = |p: &ProcessInfo| self.rate(&p.pid).unwrap_or(0.0);
                rate(a).total_cmp(&rate(b)).then(a.handled.cmp(&b.handled))
            }
            SortKey::Memory => a.memory.cmp(&b.memory),
            SortKey::Restarts => a.restarts.cmp(&b.restarts),
        }
    }

    fn fit(&mut self) {
        self.cursor.fit(self.shown.len(), self.page);
        self.selected_pid = self.selected().map(|r| r.pid.clone());
    }

    pub fn resize(&mut self, page: usize) {
        self.page = page.max(1);
        self.fit();
    }

    pub fn step(&mut self, delta: isize) {
        self.cursor.step(delta, self.shown.len(), self.page);
        self.selected_pid = self.selected().map(|r| r.pid.clone());
    }

    pub fn top(&mut self) {
        self.cursor.top(self.shown.len(), self.page);
        self.selected_pid = self.selected().map(|r| r.pid.clone());
    }

    pub fn bottom(&mut self) {
        self.cursor.bottom(self.shown.len(), self.page);
        self.cursor.follow = false;
        self.selected_pid = self.selected().map(|r| r.pid.clone());
    }

    pub fn selected(&self) -> Option<&ProcessInfo> {
        let index = *self.shown.get(self.cursor.selected)?;
        self.rows.get(index)
    }

    /// The row of `pid`, shown or not.
    pub fn row(&self, pid: &str) -> Option<&ProcessInfo> {
        self.rows.iter().find(|r| r.pid == pid)
    }

    /// The rows on screen, with their number among those shown.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &ProcessInfo)> {
        (self.cursor.offset..self.shown.len())
            .take(self.page)
            .map(|n| (n, &self.rows[self.shown[n]]))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn row(pid: u64, name: Option<&str>, module: &str) -> ProcessInfo {
        ProcessInfo {
            pid: format!("<0.{pid}>"),
            name: name.map(str::to_owned),
            module: module.to_owned(),
            version: Some("0.1.0+3c96aa11bb22".to_owned()),
            status: Status::Idle,
            mailbox: 0,
            handled: 0,
            restarts: 0,
            mailbox_high: 0,
            mailbox_capacity: 1024,
            refused: 0,
            memory: 1_114_112,
            last_exit: None,
            supervisor: None,
            child_id: None,
            child_position: None,
            strategy: None,
            trap_exit: false,
        }
    }

    fn pids(table: &ProcessTable) -> Vec<String> {
        table
            .shown
            .iter()
            .map(|&i| table.rows[i].pid.clone())
            .collect()
    }

    fn table() -> ProcessTable {
        let mut counter = row(2, Some("counter"), "counter");
        counter.mailbox = 3;
        counter.mailbox_high = 17;
        counter.restarts = 2;
        let mut worker = row(10, None, "worker");
        worker.mailbox = 3;
        worker.mailbox_high = 4;
        worker.memory = 4_000_000;
        let mut bank = row(7, Some("bank"), "bank");
        bank.mailbox = 9;
        bank.memory = 65_536;
        let mut table = ProcessTable::default();
        table.resize(10);
        table.snapshot(Instant::now(), vec![counter, bank, worker], 0);
        table
    }

    #[test]
    fn sorts_by_each_column_and_reverses_on_the_same_key() {
        let mut table = table();
        assert_eq!(
            pids(&table),
            ["<0.2>", "<0.7>", "<0.10>"],
            "by pid, numerically"
        );
        table.sort_by(SortKey::Mailbox);
        assert!(table.sort.descending);
        assert_eq!(
            pids(&table),
            ["<0.7>", "<0.2>", "<0.10>"],
            "the fullest first; equal depths by their high-water mark"
        );
        table.sort_by(SortKey::Mailbox);
        assert_eq!(pids(&table), ["<0.10>", "<0.2>", "<0.7>"]);
        table.sort_by(SortKey::Memory);
        assert_eq!(pids(&table), ["<0.10>", "<0.2>", "<0.7>"]);
        table.sort_by(SortKey::Restarts);
        assert_eq!(pids(&table)[0], "<0.2>");
        table.sort_by(SortKey::Name);
        assert!(!table.sort.descending);
        assert_eq!(
            pids(&table),
            ["<0.7>", "<0.2>", "<0.10>"],
            "unnamed processes last"
        );
        table.sort_by(SortKey::Pid);
        assert_eq!(pids(&table), ["<0.2>", "<0.7>", "<0.10>"]);
    }

    #[test]
    fn the_selection_stays_on_its_process_through_a_sort() {
        let mut table = table();
        table.step(1);
        assert_eq!(table.selected().unwrap().pid, "<0.7>");
        table.sort_by(SortKey::Memory);
        assert_eq!(table.selected().unwrap().pid, "<0.7>");
        assert_eq!(table.cursor.selected, 2);
        // Gone: the selection stays where it was.
        let rows = table
            .rows
            .iter()
            .filter(|r| r.pid != "<0.7>")
            .cloned()
            .collect();
        table.snapshot(Instant::now(), rows, 0);
        assert_eq!(table.cursor.selected, 1);
    }

    #[test]
    fn filters_by_pid_name_or_module() {
        let mut table = table();
        table.set_filter(ProcessFilter::parse("<0.7>"));
        assert_eq!(pids(&table), ["<0.7>"]);
        table.set_filter(ProcessFilter::parse("0.10"));
        assert_eq!(pids(&table), ["<0.10>"], "a pid matches only itself");
        table.set_filter(ProcessFilter::parse("COUNT"));
        assert_eq!(pids(&table), ["<0.2>"]);
        table.set_filter(ProcessFilter::parse("work"));
        assert_eq!(pids(&table), ["<0.10>"], "the module of an unnamed process");
        table.set_filter(ProcessFilter::parse(".1"));
        assert_eq!(pids(&table), ["<0.10>"], "text in the pid");
        table.set_filter(ProcessFilter::parse("bank counter"));
        assert!(pids(&table).is_empty(), "every word must match");
        table.set_filter(ProcessFilter::default());
        assert_eq!(pids(&table).len(), 3);
    }

    #[test]
    fn rates_come_from_successive_snapshots() {
        let start = Instant::now();
        let with = |handled: &[(u64, u64)]| -> Vec<ProcessInfo> {
            handled
                .iter()
                .map(|&(pid, n)| ProcessInfo {
                    handled: n,
                    ..row(pid, None, "counter")
                })
                .collect()
        };
        let mut table = ProcessTable::default();
        table.snapshot(start, with(&[(1, 100), (2, 0)]), 0);
        assert_eq!(table.rate("<0.1>"), None, "one snapshot tells no rate");
        table.snapshot(
            start + Duration::from_secs(2),
            with(&[(1, 300), (2, 10)]),
            0,
        );
        assert_eq!(table.rate("<0.1>"), Some(100.0));
        assert_eq!(table.rate("<0.2>"), Some(5.0));
        // Too soon after: the rates and their baseline stay.
        table.snapshot(
            start + Duration::from_millis(2100),
            with(&[(1, 400), (2, 10)]),
            0,
        );
        assert_eq!(table.rate("<0.1>"), Some(100.0));
        // A process spawned since the baseline counts from zero; one that
        // went has no rate.
        table.snapshot(start + Duration::from_secs(4), with(&[(1, 300), (3, 8)]), 0);
        assert_eq!(table.rate("<0.1>"), Some(0.0), "a count never goes back");
        assert_eq!(table.rate("<0.3>"), Some(4.0));
        assert_eq!(table.rate("<0.2>"), None);
        table.sort_by(SortKey::Rate);
        assert_eq!(pids(&table), ["<0.3>", "<0.1>"]);
        // Read again with nothing handled: the rates fall to zero once,
        // then nothing changes.
        let idle = || with(&[(1, 300), (3, 8)]);
        assert!(table.snapshot(start + Duration::from_secs(5), idle(), 0));
        assert!(!table.snapshot(start + Duration::from_secs(6), idle(), 0));
        assert!(
            table.snapshot(start + Duration::from_secs(7), idle(), 1),
            "a dead letter"
        );
    }

    #[test]
    fn spawned_and_exited_processes_come_and_go_between_snapshots() {
        let mut table = table();
        table.spawned("<0.8>", "worker", None);
        table.spawned("<0.8>", "worker", None);
        table.refresh();
        assert_eq!(pids(&table), ["<0.2>", "<0.7>", "<0.8>", "<0.10>"]);
        table.exited("<0.2>");
        table.refresh();
        assert_eq!(pids(&table), ["<0.7>", "<0.8>", "<0.10>"]);
    }
}
