//! The mesh model's tables of `wbx.toml`, read strictly (located errors):
//!
//! ```toml
//! [mesh]
//! max-hops = 16             # routed calls one request may lead to, in a chain
//! keep-calls = 1000         # calls kept in the call log
//! keep-bodies = 100         # of those, the latest whose bodies (first 4 KiB) are kept
//!
//! [modules.catalog]         # one service's settings
//! timeout-ms = 2000         # longest a request may take (default: [engine] call-timeout-ms)
//! concurrency = 32          # requests served at once
//! queue = 64                # requests waiting beyond those, then 503
//! body-limit-kb = 1024      # largest request body, else 413
//! breaker-failures = 5      # consecutive failures that open its circuit breaker
//! breaker-cooldown-ms = 5000
//! allow-http = ["api.example.org"]   # hosts outside the engine it may call
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use wbx_core::host_http::OutsideHosts;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};

use crate::breaker::BreakerSettings;
use crate::kinds::SERVICE;

/// The tables this model reads.
pub const SECTIONS: &[&str] = &["mesh"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MeshSection {
    max_hops: Option<Spanned<u64>>,
    keep_calls: Option<Spanned<u64>>,
    keep_bodies: Option<Spanned<u64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ServiceTable {
    timeout_ms: Option<Spanned<u64>>,
    concurrency: Option<Spanned<u64>>,
    queue: Option<Spanned<u64>>,
    body_limit_kb: Option<Spanned<u64>>,
    breaker_failures: Option<Spanned<u64>>,
    breaker_cooldown_ms: Option<Spanned<u64>>,
    #[serde(default)]
    allow_http: Vec<Spanned<String>>,
}

/// The mesh's settings, as the runtime uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshSettings {
    pub max_hops: u32,
    pub keep_calls: usize,
    pub keep_bodies: usize,
    pub services: BTreeMap<String, ServiceSettings>,
}

impl Default for MeshSettings {
    fn default() -> Self {
        MeshSettings {
            max_hops: 16,
            keep_calls: 1000,
            keep_bodies: 100,
            services: BTreeMap::new(),
        }
    }
}

impl MeshSettings {
    /// The settings of service `name` (the defaults when it sets none).
    pub fn service(&self, name: &str) -> ServiceSettings {
        self.services.get(name).cloned().unwrap_or_default()
    }

    /// Service `name`'s breaker settings (what every call's end reads).
    pub fn breaker(&self, name: &str) -> BreakerSettings {
        self.services
            .get(name)
            .map_or_else(BreakerSettings::default, |s| s.breaker)
    }
}

/// One service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// `None`: the engine's call timeout.
    pub timeout: Option<Duration>,
    pub concurrency: usize,
    pub queue: usize,
    pub body_limit: u64,
    pub breaker: BreakerSettings,
    pub outside: OutsideHosts,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            timeout: None,
            concurrency: 64,
            queue: 256,
            body_limit: 10 << 20,
            breaker: BreakerSettings::default(),
            outside: OutsideHosts::default(),
        }
    }
}

const HOPS: Range<u64> = 1..257;
const KEEP: Range<u64> = 1..1_000_001;
const TIMEOUT_MS: Range<u64> = 1..3_600_001;
const CONCURRENCY: Range<u64> = 1..100_001;
const QUEUE: Range<u64> = 0..1_000_001;
const BODY_KB: Range<u64> = 1..4_194_305;
const FAILURES: Range<u64> = 1..10_001;
const COOLDOWN_MS: Range<u64> = 1..3_600_001;

/// The mesh's tables of `manifest`, checked against the project's modules.
pub fn settings(manifest: &Manifest, services: &[String]) -> Result<MeshSettings, ManifestError> {
    let section: MeshSection = manifest.section("mesh")?;
    manifest.check_range("mesh", "max-hops", &section.max_hops, HOPS)?;
    manifest.check_range("mesh", "keep-calls", &section.keep_calls, KEEP)?;
    manifest.check_range("mesh", "keep-bodies", &section.keep_bodies, KEEP)?;
    let mut settings = MeshSettings::default();
    if let Some(v) = &section.max_hops {
        settings.max_hops = *v.get_ref() as u32;
    }
    if let Some(v) = &section.keep_calls {
        settings.keep_calls = *v.get_ref() as usize;
    }
    if let Some(v) = &section.keep_bodies {
        settings.keep_bodies = *v.get_ref() as usize;
    }
    for service in services {
        let table: ServiceTable = manifest.module_table(service)?;
        let name = format!("modules.{service}");
        manifest.check_range(&name, "timeout-ms", &table.timeout_ms, TIMEOUT_MS)?;
        manifest.check_range(&name, "concurrency", &table.concurrency, CONCURRENCY)?;
        manifest.check_range(&name, "queue", &table.queue, QUEUE)?;
        manifest.check_range(&name, "body-limit-kb", &table.body_limit_kb, BODY_KB)?;
        manifest.check_range(&name, "breaker-failures", &table.breaker_failures, FAILURES)?;
        manifest.check_range(
            &name,
            "breaker-cooldown-ms",
            &table.breaker_cooldown_ms,
            COOLDOWN_MS,
        )?;
        let outside = manifest.outside_hosts(&name, &table.allow_http)?;
        let mut settings_of = ServiceSettings::default();
        let value = |v: &Option<Spanned<u64>>| v.as_ref().map(|v| *v.get_ref());
        settings_of.timeout = value(&table.timeout_ms).map(Duration::from_millis);
        if let Some(v) = value(&table.concurrency) {
            settings_of.concurrency = v as usize;
        }
        if let Some(v) = value(&table.queue) {
            settings_of.queue = v as usize;
        }
        if let Some(v) = value(&table.body_limit_kb) {
            settings_of.body_limit = v << 10;
        }
        if let Some(v) = value(&table.breaker_failures) {
            settings_of.breaker.failures = v as u32;
        }
        if let Some(v) = value(&table.breaker_cooldown_ms) {
            settings_of.breaker.cooldown = Duration::from_millis(v);
        }
        settings_of.outside = outside;
        settings.services.insert(service.clone(), settings_of);
    }
    Ok(settings)
}

/// The model's check: its tables read strictly.
pub fn check(manifest: &Manifest, modules: &[ModuleDecl]) -> Result<Vec<String>, ManifestError> {
    settings(manifest, &service_names(modules))?;
    Ok(Vec::new())
}

/// The names of the project's services.
pub fn service_names(modules: &[ModuleDecl]) -> Vec<String> {
    ModuleDecl::names_of(modules, SERVICE)
}
