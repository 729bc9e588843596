//! Observations as lines for plain output (`wbx run`).

use wbx_engine::Observation;
use wbx_engine::events::EventsObservation;
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
        Observation::Model(model) => match model.get::<EventsObservation>() {
            Some(event) => return describe_events(event),
            None => return None,
        },
        Observation::Log(line) => {
            let level = match line.level {
                Level::Warn => format!("{} ", err("warn", YELLOW)),
                Level::Error => format!("{} ", err("error", RED)),
                _ => String::new(),
            };
            format!("[{}] {level}{}", line.module, line.text)
        }
        // Swaps are reported by `wbx dev` with their cause and costs.
        Observation::ModuleSwapped { .. } => return None,
        _ => return None,
    })
}

/// A line for an observation of the events model.
fn describe_events(event: &EventsObservation) -> Option<String> {
    let err = |text: &str, style| paint(Stream::Stderr, text, style);
    Some(match event {
        EventsObservation::Appended { first, last, by } => {
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
        EventsObservation::ProjectorStopped {
            module,
            position,
            error,
        } => format!(
            "{} projector {module} stopped at position {position}: {error}",
            err("error", RED)
        ),
        EventsObservation::EffectRetrying {
            module,
            position,
            attempt,
            error,
        } => format!(
            "{} effect {module} retrying position {position} (attempt {attempt}): {error}",
            err("warn", YELLOW)
        ),
        EventsObservation::EffectStopped { module, error } => {
            format!("{} effect {module} stopped: {error}", err("error", RED))
        }
        EventsObservation::ProjectorCaughtUp { .. } => return None,
    })
}
