//! Observations as lines for plain output (`wbx run`).

use wbx_engine::Observation;
use wbx_engine::logs::Level;

use crate::console::{DIM, RED, Stream, YELLOW, paint};

/// A line for an observation, or `None` for those too frequent to print.
pub fn describe(observation: &Observation) -> Option<String> {
    let err = |text: &str, style| paint(Stream::Stderr, text, style);
    Some(match observation {
        Observation::ModuleLoaded {
            module,
            kind,
            version,
            ..
        } => {
            format!("loaded {module} ({kind} {version})")
        }
        Observation::ModuleFailed { module, error } => {
            format!("{} {module}: {error}", err("failed", RED))
        }
        Observation::CallFailed { error, .. } => format!("{} {error}", err("error", RED)),
        Observation::Appended { first, last, by } => {
            let range = if first == last {
                format!("{first}")
            } else {
                format!("{first}..={last}")
            };
            let by = by
                .as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
            err(&format!("appended {range}{by}"), DIM)
        }
        Observation::ProjectorStopped {
            module,
            position,
            error,
        } => format!(
            "{} projector {module} stopped at position {position}: {error}",
            err("error", RED)
        ),
        Observation::EffectRetrying {
            module,
            position,
            attempt,
            error,
        } => format!(
            "{} effect {module} retrying position {position} (attempt {attempt}): {error}",
            err("warn", YELLOW)
        ),
        Observation::Log(line) => {
            let level = match line.level {
                Level::Warn => format!("{} ", err("warn", YELLOW)),
                Level::Error => format!("{} ", err("error", RED)),
                _ => String::new(),
            };
            format!("[{}] {level}{}", line.module, line.text)
        }
        // Swaps are reported by `wbx dev` with their cause and costs.
        Observation::ModuleSwapped { .. } | Observation::ProjectorCaughtUp { .. } => return None,
        _ => return None,
    })
}
