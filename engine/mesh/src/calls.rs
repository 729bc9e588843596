//! What the mesh remembers of its calls: the call log (the latest calls,
//! the latest few with the start of their bodies) and per-route figures
//! (requests, errors, latency percentiles, requests per second), per
//! service and per caller of it.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use serde::Serialize;

/// How much of each body a call keeps.
pub const BODY_HEAD: usize = 4096;
/// Latencies kept per route for its percentiles.
const LATENCIES: usize = 1024;
/// Seconds of requests-per-second history per route (the sparkline).
pub const HISTORY_SECONDS: usize = 60;

/// One call through the mesh, as views and `wbx routes` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// Its place in the call log: ids increase in the order calls end.
    pub id: u64,
    /// When it started, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The calling module, or `gateway` for a request from outside.
    pub caller: String,
    /// The service's module name; the authority asked for when no
    /// service answers to it.
    pub callee: String,
    /// `{namespace}.{module}` as asked for.
    pub authority: String,
    /// The version that served it.
    pub version: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency_us: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub trace_id: String,
    /// What went wrong, in words (unknown service, trap, timeout, body
    /// aborted, …); `None` when the service answered.
    pub error: Option<String>,
    /// The response head was sent, then the body broke off.
    pub aborted: bool,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The start of the request body ([`BODY_HEAD`] bytes, as text), for
    /// the latest calls only.
    pub request_body: Option<String>,
    pub response_body: Option<String>,
}

impl CallRecord {
    /// A failure the breaker counts: a 5xx, a 429, or a broken body.
    pub fn failed(&self) -> bool {
        self.status >= 500 || self.status == 429 || self.aborted
    }
}

/// Figures of one route (a service, or one caller of it).
#[derive(Debug, Clone, Default)]
pub struct RouteFigures {
    pub requests: u64,
    pub errors: u64,
    latencies: VecDeque<u64>,
    /// Requests per second over the last [`HISTORY_SECONDS`], by second.
    seconds: VecDeque<(u64, u64)>,
}

impl RouteFigures {
    fn record(&mut self, call: &CallRecord) {
        self.requests += 1;
        if call.failed() {
            self.errors += 1;
        }
        if self.latencies.len() == LATENCIES {
            self.latencies.pop_front();
        }
        self.latencies.push_back(call.latency_us);
        // By when it ended: calls end out of the order they started in.
        let second = (call.at_ms + call.latency_us / 1000) / 1000;
        match self.seconds.iter().rposition(|(s, _)| *s <= second) {
            Some(at) if self.seconds[at].0 == second => self.seconds[at].1 += 1,
            Some(at) => self.seconds.insert(at + 1, (second, 1)),
            None => self.seconds.push_front((second, 1)),
        }
        let second = self.seconds.back().map_or(second, |(s, _)| *s);
        while self
            .seconds
            .front()
            .is_some_and(|(s, _)| *s + (HISTORY_SECONDS as u64) <= second)
        {
            self.seconds.pop_front();
        }
    }

    /// The latency below which `q` (0..=1) of the recent calls fall, in ms.
    pub fn percentile_ms(&self, q: f64) -> Option<f64> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted: Vec<u64> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        let index = ((sorted.len() - 1) as f64 * q).round() as usize;
        Some(sorted[index] as f64 / 1000.0)
    }

    /// Requests in each of the last [`HISTORY_SECONDS`] seconds up to
    /// `now_s`, oldest first.
    pub fn per_second(&self, now_s: u64) -> Vec<u64> {
        let first = (now_s + 1).saturating_sub(HISTORY_SECONDS as u64);
        (first..=now_s)
            .map(|s| {
                self.seconds
                    .iter()
                    .find(|(at, _)| *at == s)
                    .map_or(0, |(_, n)| *n)
            })
            .collect()
    }
}

/// A service's figures, and each caller's.
#[derive(Debug, Clone, Default)]
pub struct ServiceFigures {
    pub total: RouteFigures,
    pub callers: BTreeMap<String, RouteFigures>,
}

/// The call log and the figures.
#[derive(Debug, Default)]
pub struct Calls {
    log: VecDeque<CallRecord>,
    last_id: u64,
    keep_calls: usize,
    keep_bodies: usize,
    pub services: BTreeMap<String, ServiceFigures>,
}

impl Calls {
    pub fn new(keep_calls: usize, keep_bodies: usize) -> Self {
        Calls {
            keep_calls,
            keep_bodies,
            ..Calls::default()
        }
    }

    pub fn resize(&mut self, keep_calls: usize, keep_bodies: usize) {
        self.keep_calls = keep_calls;
        self.keep_bodies = keep_bodies;
        self.trim();
        let older = self.log.len().saturating_sub(keep_bodies);
        for call in self.log.iter_mut().take(older) {
            call.request_body = None;
            call.response_body = None;
        }
    }

    /// Records a finished call, giving it the next id. `service` is `None`
    /// when no service answered to the authority (it has no figures then).
    pub fn record(&mut self, mut call: CallRecord, service: Option<&str>) -> u64 {
        self.last_id += 1;
        call.id = self.last_id;
        if let Some(service) = service {
            let figures = self.services.entry(service.to_owned()).or_default();
            figures.total.record(&call);
            figures
                .callers
                .entry(call.caller.clone())
                .or_default()
                .record(&call);
        }
        self.log.push_back(call);
        self.trim();
        self.last_id
    }

    fn trim(&mut self) {
        while self.log.len() > self.keep_calls {
            self.log.pop_front();
        }
        // Only the latest calls keep their bodies.
        let len = self.log.len();
        if len > self.keep_bodies {
            let call = &mut self.log[len - self.keep_bodies - 1];
            call.request_body = None;
            call.response_body = None;
        }
    }

    /// The id of the latest call recorded (0 before any).
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Calls after id `after`, oldest first, at most `limit`.
    pub fn since(&self, after: u64, limit: usize) -> Vec<CallRecord> {
        let newer: Vec<&CallRecord> = self.log.iter().filter(|c| c.id > after).collect();
        let skip = newer.len().saturating_sub(limit);
        newer.into_iter().skip(skip).cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<CallRecord> {
        self.log.iter().find(|c| c.id == id).cloned()
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}

/// A body's first bytes as text, for people to read.
pub fn body_text(head: &[u8]) -> String {
    String::from_utf8_lossy(&head[..head.len().min(BODY_HEAD)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64, caller: &str, status: u16, latency_ms: u64) -> CallRecord {
        CallRecord {
            id,
            at_ms: 1_000_000 + id,
            caller: caller.into(),
            callee: "svc".into(),
            authority: "ns.svc".into(),
            version: None,
            method: "GET".into(),
            path: "/".into(),
            status,
            latency_us: latency_ms * 1000,
            bytes_in: 0,
            bytes_out: 0,
            trace_id: String::new(),
            error: None,
            aborted: false,
            request_headers: vec![],
            response_headers: vec![],
            request_body: Some("in".into()),
            response_body: Some("out".into()),
        }
    }

    #[test]
    fn each_call_counts_in_the_second_it_ended_whatever_the_order() {
        let mut figures = RouteFigures::default();
        // A long call that started first ends after a short one.
        let mut long = call(1, "a", 200, 2_500);
        long.at_ms = 1_000_010_000;
        let mut short = call(2, "a", 200, 1);
        short.at_ms = 1_000_011_000;
        figures.record(&long); // ends in second 12
        figures.record(&short); // ends in second 11
        figures.record(&short);
        let seconds = figures.per_second(1_000_012);
        assert_eq!(&seconds[seconds.len() - 2..], [2, 1]);
    }

    #[test]
    fn figures_per_service_and_caller_with_percentiles() {
        let mut calls = Calls::new(10, 2);
        for i in 1..=100 {
            let status = if i % 10 == 0 { 500 } else { 200 };
            let caller = if i % 2 == 0 { "gateway" } else { "web" };
            calls.record(call(i, caller, status, i), Some("svc"));
        }
        let figures = &calls.services["svc"];
        assert_eq!(figures.total.requests, 100);
        assert_eq!(figures.total.errors, 10);
        assert_eq!(figures.total.percentile_ms(0.5), Some(51.0));
        assert_eq!(figures.total.percentile_ms(0.99), Some(99.0));
        assert_eq!(figures.callers["web"].requests, 50);
        assert_eq!(figures.callers["gateway"].errors, 10);
        // The log keeps ten calls, the last two with their bodies.
        let kept = calls.since(0, 100);
        assert_eq!(kept.len(), 10);
        assert_eq!(kept[0].id, 91);
        assert!(kept[7].request_body.is_none());
        assert_eq!(kept[9].response_body.as_deref(), Some("out"));
        assert_eq!(calls.since(98, 100).len(), 2);
    }
}
