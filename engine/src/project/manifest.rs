//! `wbx.toml`: what is not per module. Read strictly: an unknown key or a bad
//! value is an error that names the file, line and column.
//!
//! ```toml
//! [project]
//! name = "shop"
//!
//! [engine]
//! memory-limit-mb = 64      # largest memory a guest may grow to
//! call-timeout-ms = 5000    # longest a guest call may run
//!
//! [effects]
//! lanes = 8                 # keyed lanes per effect, besides the global one
//! retry-initial-ms = 1000   # first retry delay of a failed event, doubling
//! retry-max-ms = 600000     # the longest retry delay
//!
//! [effects.allow-http]      # hosts each effect may send HTTP requests to
//! notify = ["hooks.example.org", "127.0.0.1:8080"]
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::events::effect::EffectSettings;
use crate::limits::Limits;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    #[serde(default)]
    pub project: ProjectSection,
    #[serde(default)]
    pub engine: EngineSection,
    #[serde(default)]
    pub effects: EffectsSection,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectSection {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EngineSection {
    pub memory_limit_mb: Option<Spanned<u64>>,
    pub call_timeout_ms: Option<Spanned<u64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EffectsSection {
    pub lanes: Option<Spanned<u64>>,
    pub retry_initial_ms: Option<Spanned<u64>>,
    pub retry_max_ms: Option<Spanned<u64>>,
    #[serde(default)]
    pub allow_http: BTreeMap<String, Vec<Spanned<String>>>,
}

/// Bounds that keep a typo from giving a guest the whole machine or no time at all.
const MEMORY_LIMIT_MB: Range<u64> = 1..65_537;
const CALL_TIMEOUT_MS: Range<u64> = 1..3_600_001;
const LANES: Range<u64> = 1..257;
const RETRY_MS: Range<u64> = 1..86_400_001;

/// A problem in `wbx.toml`, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
            path: path.to_owned(),
            position: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses `text`; `path` is only used to name the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let located = |span: Option<Range<usize>>, message: String| ManifestError {
            path: path.to_owned(),
            position: span.map(|s| line_column(text, s.start)),
            message,
        };
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| located(e.span(), e.message().trim().to_owned()))?;
        let (engine, effects) = (&manifest.engine, &manifest.effects);
        let checks = [
            (
                "engine",
                "memory-limit-mb",
                &engine.memory_limit_mb,
                MEMORY_LIMIT_MB,
            ),
            (
                "engine",
                "call-timeout-ms",
                &engine.call_timeout_ms,
                CALL_TIMEOUT_MS,
            ),
            ("effects", "lanes", &effects.lanes, LANES),
            (
                "effects",
                "retry-initial-ms",
                &effects.retry_initial_ms,
                RETRY_MS,
            ),
            ("effects", "retry-max-ms", &effects.retry_max_ms, RETRY_MS),
        ];
        for hosts in manifest.effects.allow_http.values() {
            if let Some(bad) = hosts.iter().find(|h| !valid_host(h.get_ref())) {
                return Err(located(
                    Some(bad.span()),
                    format!(
                        "[effects.allow-http]: '{}' is not a host or host:port",
                        bad.get_ref()
                    ),
                ));
            }
        }
        for (table, key, value, range) in checks {
            if let Some(value) = value
                && !range.contains(value.get_ref())
            {
                return Err(located(
                    Some(value.span()),
                    format!(
                        "[{table}] {key} = {} is out of range: expected {} to {}",
                        value.get_ref(),
                        range.start,
                        range.end - 1
                    ),
                ));
            }
        }
        Ok(manifest)
    }

    /// Problems between this manifest and the project's modules: names in
    /// `[effects.allow-http]` that are not effects.
    pub fn check_modules(&self, modules: &[super::ModuleDecl]) -> Vec<String> {
        let effects: Vec<_> = modules
            .iter()
            .filter(|m| m.kind == crate::kind::ModuleKind::Effect)
            .map(|m| m.name.as_str())
            .collect();
        self.effects
            .allow_http
            .keys()
            .filter(|name| !effects.contains(&name.as_str()))
            .map(|name| {
                format!(
                    "wbx.toml: [effects.allow-http] names '{name}', which is not an effect of \
                     this project (effects: {})",
                    if effects.is_empty() {
                        "none".to_owned()
                    } else {
                        effects.join(", ")
                    }
                )
            })
            .collect()
    }

    /// Effect settings with this manifest's overrides applied.
    pub fn effect_settings(&self) -> EffectSettings {
        let mut settings = EffectSettings::default();
        let effects = &self.effects;
        if let Some(lanes) = &effects.lanes {
            settings.keyed_lanes = *lanes.get_ref() as usize;
        }
        if let Some(ms) = &effects.retry_initial_ms {
            settings.retry_initial = Duration::from_millis(*ms.get_ref());
        }
        if let Some(ms) = &effects.retry_max_ms {
            settings.retry_max = Duration::from_millis(*ms.get_ref());
        }
        settings.allow_http = effects
            .allow_http
            .iter()
            .map(|(effect, hosts)| {
                let hosts = hosts.iter().map(|h| h.get_ref().clone()).collect();
                (effect.clone(), hosts)
            })
            .collect();
        settings
    }

    /// Guest limits with this manifest's overrides applied.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(mb) = &self.engine.memory_limit_mb {
            limits.memory_bytes = (*mb.get_ref() as usize) << 20;
        }
        if let Some(ms) = &self.engine.call_timeout_ms {
            limits.call_timeout = Duration::from_millis(*ms.get_ref());
        }
        limits
    }
}

/// `host` or `host:port`: no scheme, no path.
fn valid_host(text: &str) -> bool {
    let (host, port) = text
        .rsplit_once(':')
        .map_or((text, None), |(h, p)| (h, Some(p)));
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(text, Path::new("wbx.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_manifest_gives_default_limits() {
        assert_eq!(parse("").unwrap().limits(), Limits::default());
    }

    #[test]
    fn engine_values_override_limits() {
        let m = parse("[engine]\nmemory-limit-mb = 16\ncall-timeout-ms = 250\n").unwrap();
        assert_eq!(m.limits().memory_bytes, 16 << 20);
        assert_eq!(m.limits().call_timeout, Duration::from_millis(250));
    }

    #[test]
    fn unknown_key_is_located() {
        let err = parse("[project]\nname = \"x\"\ncolour = 1\n").unwrap_err();
        assert!(
            err.starts_with("wbx.toml:3:1: unknown field `colour`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_table_is_located() {
        let err = parse("[project]\n\n[engin]\n").unwrap_err();
        assert!(
            err.starts_with("wbx.toml:3:2: unknown field `engin`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_located() {
        let err = parse("[engine]\ncall-timeout-ms = \"soon\"\n").unwrap_err();
        assert!(err.starts_with("wbx.toml:2:19: "), "{err}");
        assert!(err.contains("invalid type: string \"soon\""), "{err}");
    }

    #[test]
    fn out_of_range_value_is_located() {
        let err = parse("[engine]\nmemory-limit-mb = 0\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:2:19: [engine] memory-limit-mb = 0 is out of range: expected 1 to 65536"
        );
    }

    #[test]
    fn effect_settings_are_read_and_checked() {
        let m = parse("[effects]\nlanes = 2\nretry-initial-ms = 10\n").unwrap();
        assert_eq!(m.effect_settings().keyed_lanes, 2);
        assert_eq!(m.effect_settings().retry_initial, Duration::from_millis(10));
        let err = parse("[effects]\nlanes = 0\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:2:9: [effects] lanes = 0 is out of range: expected 1 to 256"
        );
    }

    #[test]
    fn allowed_hosts_are_read_and_checked() {
        let m =
            parse("[effects.allow-http]\nnotify = [\"a.example\", \"127.0.0.1:80\"]\n").unwrap();
        assert_eq!(
            m.effect_settings().allow_http["notify"],
            ["a.example", "127.0.0.1:80"]
        );
        let err = parse("[effects.allow-http]\nnotify = [\"https://a.example/x\"]\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:2:11: [effects.allow-http]: 'https://a.example/x' is not a host or host:port"
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let err = parse("[project\n").unwrap_err();
        assert!(err.starts_with("wbx.toml:1:"), "{err}");
    }
}
