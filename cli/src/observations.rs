//! Observations as lines for plain output (`wbx run`).

use wbx_engine::Observation;
use wbx_engine::actors::ActorObservation;
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
        Observation::Model(model) => {
            if let Some(event) = model.get::<EventsObservation>() {
                return describe_events(event);
            }
            return model.get::<ActorObservation>().and_then(describe_actors);
        }
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

/// A line for an observation of the actors model; a send that reached no
/// mailbox is counted, not printed (a storm of them would drown the rest).
fn describe_actors(event: &ActorObservation) -> Option<String> {
    let err = |text: &str, style| paint(Stream::Stderr, text, style);
    let named =
        |name: &Option<String>| name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
    Some(match event {
        ActorObservation::Spawned {
            pid, module, name, ..
        } => err(&format!("spawned {pid} {module}{}", named(name)), DIM),
        ActorObservation::Exited {
            pid,
            module,
            name,
            reason,
        } => {
            let line = format!("{pid} {module}{} exited: {reason}", named(name));
            if reason == "normal" || reason == "shutdown" {
                err(&line, DIM)
            } else {
                format!("{} {line}", err("exit", YELLOW))
            }
        }
        ActorObservation::Restarted {
            supervisor,
            child,
            old_pid,
            new_pid,
            reason,
        } => format!(
            "{} supervisor {supervisor} restarted '{child}' ({old_pid} → {new_pid}) after: {reason}",
            err("restart", YELLOW)
        ),
        ActorObservation::Escalated {
            supervisor,
            restarts,
            period_s,
        } => format!(
            "{} supervisor {supervisor} gave up: more than {restarts} restarts in {period_s} s; its parent decides",
            err("escalate", RED)
        ),
        ActorObservation::Swapped {
            pid,
            module,
            to,
            carried,
            note,
            ..
        } => match (carried, note) {
            (true, _) => format!("{pid} {module} now runs {to}, its state carried over"),
            (false, note) => format!(
                "{pid} {module}: {}",
                note.as_deref().unwrap_or("started again through init")
            ),
        },
        ActorObservation::Undelivered { .. } => return None,
    })
}
