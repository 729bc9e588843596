//! `wbx routes`: per service, and per caller of it, the figures the mesh
//! keeps (SPEC.md's shape, extended with the address and the last minute's
//! requests per second).

use serde::Serialize;
use wbx_core::sync::lock;

use crate::calls::{RouteFigures, unix_ms};
use crate::runtime::MeshRuntime;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteRow {
    pub service: String,
    /// `{namespace}.{module}`.
    pub address: String,
    pub version: Option<String>,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub breaker: &'static str,
    /// Requests in each of the last 60 seconds, oldest first.
    pub per_second: Vec<u64>,
    pub callers: Vec<CallerRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallerRow {
    pub caller: String,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl MeshRuntime {
    /// Every service's row, those never called included.
    pub fn routes(&self) -> Vec<RouteRow> {
        let now_s = unix_ms(std::time::SystemTime::now()) / 1000;
        // The breakers first: a call being recorded holds its breaker, then the log.
        let services: Vec<_> = self
            .services()
            .into_iter()
            .map(|service| {
                let breaker = self.breaker(&service.module).as_str();
                (service, breaker)
            })
            .collect();
        let calls = lock(&self.calls);
        services
            .into_iter()
            .map(|(service, breaker)| {
                let figures = calls.services.get(&service.module);
                let total = figures.map(|f| f.total.clone()).unwrap_or_default();
                RouteRow {
                    version: self
                        .engine()
                        .version_of(&service.module)
                        .map(|v| v.to_string()),
                    requests: total.requests,
                    errors: total.errors,
                    p50_ms: total.percentile_ms(0.5),
                    p99_ms: total.percentile_ms(0.99),
                    breaker,
                    per_second: total.per_second(now_s),
                    callers: figures
                        .map(|f| {
                            f.callers
                                .iter()
                                .map(|(caller, figures)| caller_row(caller, figures))
                                .collect()
                        })
                        .unwrap_or_default(),
                    address: service.address(),
                    service: service.module,
                }
            })
            .collect()
    }
}

fn caller_row(caller: &str, figures: &RouteFigures) -> CallerRow {
    CallerRow {
        caller: caller.to_owned(),
        requests: figures.requests,
        errors: figures.errors,
        p50_ms: figures.percentile_ms(0.5),
        p99_ms: figures.percentile_ms(0.99),
    }
}
