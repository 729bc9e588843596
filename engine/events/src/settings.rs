//! The events model's table of `wbx.toml`, read strictly (located errors):
//!
//! ```toml
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
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};

use crate::effect::EffectSettings;
use crate::kinds::EFFECT;

/// The tables this model reads: `[store]` is [`crate::store::location`]'s.
pub const SECTIONS: &[&str] = &["effects", "store"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EffectsSection {
    pub lanes: Option<Spanned<u64>>,
    pub retry_initial_ms: Option<Spanned<u64>>,
    pub retry_max_ms: Option<Spanned<u64>>,
    #[serde(default)]
    pub allow_http: BTreeMap<String, Vec<Spanned<String>>>,
}

const LANES: Range<u64> = 1..257;
const RETRY_MS: Range<u64> = 1..86_400_001;

/// `[effects]` of `manifest`, checked.
pub fn effects_section(manifest: &Manifest) -> Result<EffectsSection, ManifestError> {
    let effects: EffectsSection = manifest.section("effects")?;
    for hosts in effects.allow_http.values() {
        manifest.outside_hosts("effects", hosts)?;
    }
    manifest.check_range("effects", "lanes", &effects.lanes, LANES)?;
    manifest.check_range(
        "effects",
        "retry-initial-ms",
        &effects.retry_initial_ms,
        RETRY_MS,
    )?;
    manifest.check_range("effects", "retry-max-ms", &effects.retry_max_ms, RETRY_MS)?;
    Ok(effects)
}

/// Effect settings with `manifest`'s overrides applied.
pub fn effect_settings(manifest: &Manifest) -> Result<EffectSettings, ManifestError> {
    let effects = effects_section(manifest)?;
    let mut settings = EffectSettings::default();
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
    Ok(settings)
}

/// What a `[modules.NAME]` table of a command, projector or effect may
/// set: nothing yet, so any key is an error naming its place.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSettings {}

/// Problems between the events model's tables and the project's modules:
/// a key in the `[modules.NAME]` table of one of its modules, a name in
/// `[effects.allow-http]` that is not an effect.
pub fn check(manifest: &Manifest, modules: &[ModuleDecl]) -> Result<Vec<String>, ManifestError> {
    for module in modules
        .iter()
        .filter(|m| crate::kinds::KINDS.iter().any(|k| k.kind == m.kind))
    {
        manifest.module_table::<ModuleSettings>(&module.name)?;
    }
    crate::store::StoreLocation::configured(manifest)?;
    let effects_section = effects_section(manifest)?;
    let effects: Vec<_> = modules
        .iter()
        .filter(|m| m.kind == EFFECT)
        .map(|m| m.name.as_str())
        .collect();
    Ok(effects_section
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
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn settings(text: &str) -> Result<EffectSettings, String> {
        let manifest =
            Manifest::parse(text, Path::new("wbx.toml"), SECTIONS).map_err(|e| e.to_string())?;
        effect_settings(&manifest).map_err(|e| e.to_string())
    }

    #[test]
    fn effect_settings_are_read_and_checked() {
        let s = settings("[effects]\nlanes = 2\nretry-initial-ms = 10\n").unwrap();
        assert_eq!(s.keyed_lanes, 2);
        assert_eq!(s.retry_initial, Duration::from_millis(10));
        let err = settings("[effects]\nlanes = 0\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:2:9: [effects] lanes = 0 is out of range: expected 1 to 256"
        );
        let err = settings("[effects]\nlane = 2\n").unwrap_err();
        assert!(
            err.starts_with("wbx.toml:2:1: unknown field `lane`"),
            "{err}"
        );
    }

    #[test]
    fn allowed_hosts_are_read_and_checked() {
        let s =
            settings("[effects.allow-http]\nnotify = [\"a.example\", \"127.0.0.1:80\"]\n").unwrap();
        assert_eq!(s.allow_http["notify"], ["a.example", "127.0.0.1:80"]);
        let err =
            settings("[effects.allow-http]\nnotify = [\"https://a.example/x\"]\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:2:11: [effects] allow-http: 'https://a.example/x' is not a host or host:port"
        );
    }
}
