//! The Mesh pane's state: the live call log (bounded, filtered, following
//! its end until scrolled) and the per-route table, both computed from the
//! calls the pane was told of (seeded from the runtime when it opened).

use std::collections::{BTreeMap, VecDeque};

use wbx_engine::mesh::MeshObservation;
use wbx_engine::mesh::calls::{CallRecord, Calls, HISTORY_SECONDS, ServiceFigures};
use wbx_engine::mesh::routes::RouteRow;

use crate::panes::Cursor;

/// Calls kept; older ones are dropped (`GET /api/mesh/calls` has the
/// runtime's own log).
pub const CAPACITY: usize = 2000;
/// The seconds the requests-per-second figure averages over.
pub const RATE_SECONDS: usize = 10;

/// What `/` asked for: every word must match a call. A status class
/// (`2xx`, `5xx`), a status (`404`), or text found in the caller, callee,
/// address, method or path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// As typed, to show and to edit again.
    pub text: String,
    words: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    /// The hundreds digit of a status class.
    Class(u16),
    Status(u16),
    /// Lowercase.
    Text(String),
}

impl CallFilter {
    pub fn parse(text: &str) -> CallFilter {
        let words = text
            .split_whitespace()
            .map(|word| {
                let lower = word.to_lowercase();
                let class = lower
                    .strip_suffix("xx")
                    .and_then(|d| d.parse::<u16>().ok())
                    .filter(|d| (1..=5).contains(d));
                match (class, lower.parse::<u16>()) {
                    (Some(class), _) => Word::Class(class),
                    (None, Ok(status)) if (100..=599).contains(&status) => Word::Status(status),
                    _ => Word::Text(lower),
                }
            })
            .collect();
        CallFilter {
            text: text.trim().to_owned(),
            words,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn admits(&self, call: &CallRecord) -> bool {
        self.words.iter().all(|word| match word {
            Word::Class(class) => call.status / 100 == *class,
            Word::Status(status) => call.status == *status,
            Word::Text(text) => [
                &call.caller,
                &call.callee,
                &call.authority,
                &call.method,
                &call.path,
            ]
            .iter()
            .any(|field| field.to_lowercase().contains(text)),
        })
    }
}

/// A service's row of the table, beside its figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// `{namespace}.{module}`.
    pub address: String,
    pub version: Option<String>,
    /// `closed`, `open` or `half-open`.
    pub breaker: String,
    /// Requests and errors the runtime had counted beyond the calls it
    /// still kept when the pane opened: the totals stay the runtime's.
    pub earlier_requests: u64,
    pub earlier_errors: u64,
}

/// A row of the table as the view draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteLine<'a> {
    pub service: &'a str,
    pub route: &'a Route,
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Requests in each of the last [`HISTORY_SECONDS`], oldest first.
    pub history: Vec<u64>,
    /// Who called it, each with its own figures (of the calls seen).
    pub callers: Vec<CallerLine>,
}

/// A caller's row under its service.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerLine {
    pub caller: String,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug)]
pub struct MeshPane {
    pub calls: VecDeque<CallRecord>,
    /// Sequence numbers (`dropped` + index into `calls`) of the calls the
    /// filter lets through.
    pub shown: VecDeque<u64>,
    pub dropped: u64,
    /// Every call the pane was told of, for its badge.
    pub seen: u64,
    /// Over `shown`.
    pub cursor: Cursor,
    pub filter: CallFilter,
    /// The selected call's detail view is open, scrolled this far.
    pub detail: Option<u16>,
    /// Rows of the main area's list (the table and the log share it).
    pub page: usize,
    pub routes: BTreeMap<String, Route>,
    /// The runtime's own figures (percentiles, per-second history), fed
    /// the calls this pane sees; its call log is kept empty.
    figures: Calls,
    /// Milliseconds since the Unix epoch, as of the last frame.
    pub now_ms: u64,
    /// The id of the latest call taken in.
    last_id: u64,
}

impl Default for MeshPane {
    fn default() -> Self {
        MeshPane {
            calls: VecDeque::new(),
            shown: VecDeque::new(),
            dropped: 0,
            seen: 0,
            cursor: Cursor::default(),
            filter: CallFilter::default(),
            detail: None,
            page: 1,
            routes: BTreeMap::new(),
            figures: Calls::new(0, 0),
            now_ms: 0,
            last_id: 0,
        }
    }
}

impl MeshPane {
    /// The pane over what the runtime knew when it opened: its services'
    /// rows and its latest calls, oldest first.
    pub fn new(routes: Vec<RouteRow>, calls: Vec<CallRecord>) -> MeshPane {
        let mut pane = MeshPane::default();
        for row in &routes {
            pane.routes.insert(
                row.service.clone(),
                Route {
                    address: row.address.clone(),
                    version: row.version.clone(),
                    breaker: row.breaker.to_owned(),
                    ..Route::default()
                },
            );
        }
        for call in calls {
            pane.push(call);
        }
        for row in routes {
            let (requests, errors) = pane.counted(&row.service);
            if let Some(route) = pane.routes.get_mut(&row.service) {
                route.earlier_requests = row.requests.saturating_sub(requests);
                route.earlier_errors = row.errors.saturating_sub(errors);
            }
        }
        pane
    }

    fn counted(&self, service: &str) -> (u64, u64) {
        self.figures
            .services
            .get(service)
            .map_or((0, 0), |f| (f.total.requests, f.total.errors))
    }

    pub fn observe(&mut self, observation: &MeshObservation) {
        match observation {
            MeshObservation::Call(call) => self.push(call.as_ref().clone()),
            MeshObservation::Breaker { service, state, .. } => {
                self.routes.entry(service.clone()).or_default().breaker = state.as_str().to_owned();
            }
        }
    }

    fn push(&mut self, call: CallRecord) {
        // A call both in the runtime's log when the pane opened and told of
        // after: counted once (ids grow in the order calls end).
        if call.id != 0 && call.id <= self.last_id {
            return;
        }
        self.last_id = self.last_id.max(call.id);
        self.seen += 1;
        // A call no service answered names the address asked for as its
        // callee (module names have no dot): it has no row.
        if !call.callee.contains('.') {
            let route = self.routes.entry(call.callee.clone()).or_default();
            if route.address.is_empty() {
                route.address = call.authority.clone();
            }
            if call.version.is_some() {
                route.version = call.version.clone();
            }
            self.figures.record(strip(&call), Some(&call.callee));
        }
        if self.calls.len() == CAPACITY {
            self.calls.pop_front();
            if self.shown.front() == Some(&self.dropped) {
                self.shown.pop_front();
                self.cursor.shift(1);
            }
            self.dropped += 1;
        }
        if self.filter.admits(&call) {
            self.shown.push_back(self.dropped + self.calls.len() as u64);
        }
        self.calls.push_back(call);
        self.cursor.fit(self.shown.len(), self.log_page());
    }

    /// Rows the route table takes from the main area: its services, a
    /// header and borders; at most half the area.
    pub fn table_height(&self) -> usize {
        let main = self.page + 3;
        let callers: usize = self
            .routes
            .keys()
            .filter_map(|service| self.figures.services.get(service))
            .map(|f| f.callers.len())
            .sum();
        (self.routes.len().max(1) + callers + 3).min(main / 2)
    }

    /// Rows of the call log.
    pub fn log_page(&self) -> usize {
        self.page.saturating_sub(self.table_height()).max(1)
    }

    pub fn resize(&mut self, page: usize) {
        self.page = page.max(1);
        self.cursor.fit(self.shown.len(), self.log_page());
    }

    pub fn set_filter(&mut self, filter: CallFilter) {
        self.filter = filter;
        self.detail = None;
        self.shown = self
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| self.filter.admits(c))
            .map(|(i, _)| self.dropped + i as u64)
            .collect();
        self.cursor.bottom(self.shown.len(), self.log_page());
    }

    pub fn step(&mut self, delta: isize) {
        self.cursor.step(delta, self.shown.len(), self.log_page());
    }

    pub fn top(&mut self) {
        self.cursor.top(self.shown.len(), self.log_page());
    }

    pub fn bottom(&mut self) {
        self.cursor.bottom(self.shown.len(), self.log_page());
    }

    /// The `n`th call the filter lets through.
    pub fn shown_call(&self, n: usize) -> Option<&CallRecord> {
        let seq = *self.shown.get(n)?;
        self.calls.get((seq - self.dropped) as usize)
    }

    pub fn selected_call(&self) -> Option<&CallRecord> {
        self.shown_call(self.cursor.selected)
    }

    /// The calls on screen, oldest first, with their number among those shown.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &CallRecord)> {
        (self.cursor.offset..self.shown.len())
            .take(self.log_page())
            .filter_map(|n| Some((n, self.shown_call(n)?)))
    }

    /// The table's rows, by service name.
    pub fn route_lines(&self) -> Vec<RouteLine<'_>> {
        let now_s = self.now_ms / 1000;
        self.routes
            .iter()
            .map(|(service, route)| {
                let figures = self.figures.services.get(service);
                let total = figures.map(|f: &ServiceFigures| &f.total);
                let history = total.map_or_else(
                    || vec![0; HISTORY_SECONDS],
                    |t| t.per_second(now_s.max(HISTORY_SECONDS as u64)),
                );
                let recent: u64 = history.iter().rev().take(RATE_SECONDS).sum();
                RouteLine {
                    service,
                    route,
                    requests: route.earlier_requests + total.map_or(0, |t| t.requests),
                    errors: route.earlier_errors + total.map_or(0, |t| t.errors),
                    per_second: recent as f64 / RATE_SECONDS as f64,
                    p50_ms: total.and_then(|t| t.percentile_ms(0.5)),
                    p99_ms: total.and_then(|t| t.percentile_ms(0.99)),
                    history,
                    callers: figures
                        .map(|f| {
                            f.callers
                                .iter()
                                .map(|(caller, c)| CallerLine {
                                    caller: caller.clone(),
                                    requests: c.requests,
                                    errors: c.errors,
                                    p50_ms: c.percentile_ms(0.5),
                                    p99_ms: c.percentile_ms(0.99),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect()
    }
}

/// The call as the figures need it: without its headers and bodies.
fn strip(call: &CallRecord) -> CallRecord {
    CallRecord {
        request_headers: Vec::new(),
        response_headers: Vec::new(),
        request_body: None,
        response_body: None,
        ..call.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn call(id: u64, callee: &str, path: &str, status: u16) -> CallRecord {
        CallRecord {
            id,
            at_ms: 1_795_255_200_000 + id * 100,
            caller: "gateway".into(),
            callee: callee.into(),
            authority: format!("shop.{callee}"),
            version: Some("0.1.0+abc".into()),
            method: "GET".into(),
            path: path.into(),
            status,
            latency_us: id * 1000,
            bytes_in: 0,
            bytes_out: 10,
            trace_id: String::new(),
            error: None,
            aborted: false,
            request_headers: vec![],
            response_headers: vec![],
            request_body: None,
            response_body: None,
        }
    }

    fn ids(pane: &MeshPane) -> Vec<u64> {
        (0..pane.shown.len())
            .map(|n| pane.shown_call(n).unwrap().id)
            .collect()
    }

    #[test]
    fn filters_by_status_class_status_and_text() {
        let mut pane = MeshPane::default();
        pane.resize(20);
        for (id, callee, path, status) in [
            (1, "catalog", "/books", 200),
            (2, "cart", "/items", 503),
            (3, "catalog", "/books/9", 404),
            (4, "cart", "/pay", 200),
        ] {
            pane.observe(&MeshObservation::Call(Box::new(call(
                id, callee, path, status,
            ))));
        }
        pane.set_filter(CallFilter::parse("2xx"));
        assert_eq!(ids(&pane), [1, 4]);
        pane.set_filter(CallFilter::parse("catalog 4xx"));
        assert_eq!(ids(&pane), [3]);
        pane.set_filter(CallFilter::parse("503"));
        assert_eq!(ids(&pane), [2]);
        pane.set_filter(CallFilter::parse("/BOOKS"));
        assert_eq!(ids(&pane), [1, 3]);
        pane.set_filter(CallFilter::default());
        assert_eq!(ids(&pane), [1, 2, 3, 4]);
    }

    #[test]
    fn a_call_in_the_seed_and_told_again_counts_once() {
        let seeded = call(7, "web", "/", 200);
        let mut pane = MeshPane::new(vec![], vec![seeded.clone()]);
        pane.observe(&MeshObservation::Call(Box::new(seeded)));
        pane.observe(&MeshObservation::Call(Box::new(call(8, "web", "/", 200))));
        assert_eq!(ids(&pane), [7, 8]);
        assert_eq!(pane.seen, 2);
    }

    #[test]
    fn the_log_is_bounded_and_the_table_keeps_counting() {
        let mut pane = MeshPane::default();
        pane.resize(10);
        for id in 1..=CAPACITY as u64 + 50 {
            let status = if id % 10 == 0 { 500 } else { 200 };
            pane.observe(&MeshObservation::Call(Box::new(call(
                id, "cart", "/", status,
            ))));
        }
        assert_eq!(pane.calls.len(), CAPACITY);
        assert_eq!(pane.calls.front().unwrap().id, 51);
        let lines = pane.route_lines();
        assert_eq!(lines[0].requests, CAPACITY as u64 + 50);
        assert_eq!(lines[0].errors, 205);
        assert_eq!(lines[0].route.address, "shop.cart");
    }

    #[test]
    fn seeded_totals_stay_the_runtimes() {
        let row = RouteRow {
            service: "cart".into(),
            address: "shop.cart".into(),
            version: None,
            requests: 120,
            errors: 7,
            p50_ms: None,
            p99_ms: None,
            breaker: "half-open",
            per_second: vec![],
            callers: vec![],
        };
        let pane = MeshPane::new(vec![row], vec![call(1, "cart", "/", 500)]);
        let lines = pane.route_lines();
        assert_eq!((lines[0].requests, lines[0].errors), (120, 7));
        assert_eq!(lines[0].route.breaker, "half-open");
    }
}
