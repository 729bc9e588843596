//! The Logs pane: guest log lines and stdout/stderr of every module, newest
//! at the bottom, in a bounded buffer; filtered by module, level and text.

use std::collections::VecDeque;

use wbx_engine::Observation;
use wbx_engine::logs::{Level, LogLine};

use super::Cursor;

/// Lines kept; older ones are dropped (the per-module files keep them all).
pub const CAPACITY: usize = 5000;

#[derive(Debug, Clone, Default)]
pub struct LogsPane {
    pub lines: VecDeque<LogLine>,
    /// Sequence numbers (`dropped` + index into `lines`) of the lines the
    /// filter lets through; numbers, not indexes, so dropping a line from
    /// the front costs nothing here.
    pub shown: VecDeque<u64>,
    /// Over `shown`.
    pub cursor: Cursor,
    pub filter: LogFilter,
    /// The modules seen, for cycling the module filter.
    pub modules: Vec<String>,
    /// Lines dropped from the front because the buffer was full.
    pub dropped: u64,
    pub page: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub module: Option<String>,
    /// The lowest level shown.
    pub level: Option<Level>,
    /// Lowercase text to look for.
    pub text: String,
}

impl LogFilter {
    fn admits(&self, line: &LogLine) -> bool {
        self.module.as_ref().is_none_or(|m| *m == line.module)
            && self.level.is_none_or(|l| line.level >= l)
            && (self.text.is_empty() || line.text.to_lowercase().contains(&self.text))
    }

    /// Applies `/` text: `module:NAME`, `level:LEVEL`, and words to search for.
    pub fn parse(text: &str) -> Result<LogFilter, String> {
        let mut filter = LogFilter::default();
        let mut words = Vec::new();
        for word in text.split_whitespace() {
            if let Some(m) = word.strip_prefix("module:") {
                filter.module = Some(m.to_owned());
            } else if let Some(l) = word.strip_prefix("level:") {
                filter.level = Some(parse_level(l)?);
            } else {
                words.push(word);
            }
        }
        filter.text = words.join(" ").to_lowercase();
        Ok(filter)
    }

    /// The filter as `/` would take it back.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = &self.module {
            parts.push(format!("module:{m}"));
        }
        if let Some(l) = self.level {
            parts.push(format!("level:{}", l.as_str()));
        }
        if !self.text.is_empty() {
            parts.push(self.text.clone());
        }
        parts.join(" ")
    }
}

const LEVELS: [Level; 5] = [
    Level::Trace,
    Level::Debug,
    Level::Info,
    Level::Warn,
    Level::Error,
];

fn parse_level(text: &str) -> Result<Level, String> {
    LEVELS
        .into_iter()
        .find(|l| l.as_str() == text.to_ascii_lowercase())
        .ok_or_else(|| format!("'{text}' is not a level: trace, debug, info, warn or error"))
}

impl LogsPane {
    pub fn new(lines: impl IntoIterator<Item = LogLine>) -> LogsPane {
        let mut pane = LogsPane {
            page: 1,
            ..LogsPane::default()
        };
        let mut lines: Vec<LogLine> = lines.into_iter().collect();
        lines.sort_by_key(|l| l.at);
        for line in lines {
            pane.push(line);
        }
        pane
    }

    fn push(&mut self, line: LogLine) {
        if !self.modules.contains(&line.module) {
            self.modules.push(line.module.clone());
            self.modules.sort();
        }
        if self.lines.len() == CAPACITY {
            self.lines.pop_front();
            if self.shown.front() == Some(&self.dropped) {
                self.shown.pop_front();
                self.cursor.shift(1);
            }
            self.dropped += 1;
        }
        if self.filter.admits(&line) {
            self.shown.push_back(self.dropped + self.lines.len() as u64);
        }
        self.lines.push_back(line);
        self.cursor.fit(self.shown.len(), self.page);
    }

    pub fn observe(&mut self, observation: &Observation) -> bool {
        match observation {
            Observation::Log(line) => {
                self.push(line.clone());
                true
            }
            _ => false,
        }
    }

    pub fn set_filter(&mut self, filter: LogFilter) {
        self.filter = filter;
        self.shown = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| self.filter.admits(l))
            .map(|(i, _)| self.dropped + i as u64)
            .collect();
        self.cursor.bottom(self.shown.len(), self.page);
    }

    /// All levels → info → warn → error → all.
    pub fn cycle_level(&mut self) {
        let mut filter = self.filter.clone();
        filter.level = match filter.level {
            None | Some(Level::Trace | Level::Debug) => Some(Level::Info),
            Some(Level::Info) => Some(Level::Warn),
            Some(Level::Warn) => Some(Level::Error),
            Some(Level::Error) => None,
        };
        self.set_filter(filter);
    }

    /// All modules → each module in turn → all.
    pub fn cycle_module(&mut self) {
        let mut filter = self.filter.clone();
        filter.module = match &filter.module {
            None => self.modules.first().cloned(),
            Some(m) => {
                let next = self.modules.iter().position(|x| x == m).map(|i| i + 1);
                next.and_then(|i| self.modules.get(i).cloned())
            }
        };
        self.set_filter(filter);
    }

    pub fn resize(&mut self, page: usize) {
        self.page = page.max(1);
        self.cursor.fit(self.shown.len(), self.page);
    }

    /// The `n`th line the filter lets through.
    pub fn shown_line(&self, n: usize) -> Option<&LogLine> {
        let seq = *self.shown.get(n)?;
        self.lines.get((seq - self.dropped) as usize)
    }

    /// The lines on screen, oldest first, with their number among those shown.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &LogLine)> {
        (self.cursor.offset..self.shown.len())
            .take(self.page)
            .filter_map(|n| Some((n, self.shown_line(n)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};
    use wbx_engine::logs::LogSource;

    fn line(module: &str, level: Level, text: &str, n: u64) -> LogLine {
        LogLine {
            module: module.into(),
            at: SystemTime::UNIX_EPOCH + Duration::from_millis(n),
            level,
            source: LogSource::Log,
            text: text.into(),
        }
    }

    #[test]
    fn filters_by_module_level_and_text() {
        let mut pane = LogsPane::new([
            line("greet", Level::Info, "hello Ada", 1),
            line("count", Level::Warn, "slow fold", 2),
            line("greet", Level::Error, "trap in greet", 3),
        ]);
        pane.resize(10);
        assert_eq!(pane.shown.len(), 3);
        pane.cycle_module();
        assert_eq!(pane.filter.module.as_deref(), Some("count"));
        assert_eq!(pane.shown, [1]);
        pane.set_filter(LogFilter::parse("module:greet level:warn").unwrap());
        assert_eq!(pane.shown, [2]);
        pane.set_filter(LogFilter::parse("ADA").unwrap());
        assert_eq!(pane.shown, [0]);
        assert_eq!(pane.shown_line(0).unwrap().text, "hello Ada");
        assert!(
            LogFilter::parse("level:loud")
                .unwrap_err()
                .contains("'loud'")
        );
        pane.set_filter(LogFilter::default());
        pane.cycle_level();
        pane.cycle_level();
        assert_eq!(pane.shown, [1, 2]);
    }

    #[test]
    fn the_buffer_is_bounded_and_keeps_the_selection_on_its_line() {
        let mut pane = LogsPane::new([]);
        pane.resize(5);
        for n in 0..CAPACITY as u64 {
            pane.observe(&Observation::Log(line(
                "m",
                Level::Info,
                &format!("line {n}"),
                n,
            )));
        }
        pane.cursor.step(-10, pane.shown.len(), 5);
        let selected = pane.shown_line(pane.cursor.selected).unwrap().text.clone();
        for n in 0..100 {
            pane.observe(&Observation::Log(line("m", Level::Info, "more", n)));
        }
        assert_eq!(pane.lines.len(), CAPACITY);
        assert_eq!(pane.dropped, 100);
        assert_eq!(
            pane.shown_line(pane.cursor.selected).unwrap().text,
            selected
        );
    }
}
