//! Observations as lines for plain output (`wbx run`).

use wbx_engine::Observation;
use wbx_engine::actors::ActorObservation;
use wbx_engine::actors::message::reason;
use wbx_engine::events::EventsObservation;
use wbx_engine::logs::Level;
use wbx_engine::pipelines::FlowObservation;
use wbx_engine::pipelines::info::FlowStatus;

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
        Observation::ModuleTieredUp {
            module,
            version,
            compile,
        } => format!(
            "{} {module} {version}: now on Cranelift's code (compiled in {:.1} ms)",
            err("optimized", DIM),
            compile.compile_time.as_secs_f64() * 1000.0
        ),
        Observation::CallFailed { error, .. } => format!("{} {error}", err("error", RED)),
        Observation::Model(model) => {
            if let Some(event) = model.get::<EventsObservation>() {
                return describe_events(event);
            }
            if let Some(event) = model.get::<FlowObservation>() {
                return describe_flows(event);
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

/// `first..=last`, or the one position.
fn positions(first: u64, last: u64) -> String {
    if first == last {
        format!("{first}")
    } else {
        format!("{first}..={last}")
    }
}

/// A line for an observation of the events model.
fn describe_events(event: &EventsObservation) -> Option<String> {
    let err = |text: &str, style| paint(Stream::Stderr, text, style);
    Some(match event {
        EventsObservation::Appended { first, last, by } => {
            let range = positions(*first, *last);
            let by = by
                .as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
            err(&format!("appended {range}{by}"), DIM)
        }
        EventsObservation::Arrived { first, last } => {
            let range = positions(*first, *last);
            err(&format!("appended {range} by another engine"), DIM)
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
        EventsObservation::EffectWaiting { module, why } => {
            err(&format!("effect {module} waits: {why}"), DIM)
        }
        EventsObservation::ProjectorCaughtUp { .. } | EventsObservation::EffectStarted { .. } => {
            return None;
        }
    })
}

/// A line for an observation of the actors model: abnormal exits, restarts,
/// escalations and swaps that could not carry a process's state. Spawns,
/// normal exits and undelivered sends are too many to print (`wbx ps` and
/// the Actors pane count them).
fn describe_actors(event: &ActorObservation) -> Option<String> {
    let err = |text: &str, style| paint(Stream::Stderr, text, style);
    let who = |pid: &str, name: &Option<String>, module: &str| match name {
        Some(name) => format!("{pid} {name} ({module})"),
        None => format!("{pid} ({module})"),
    };
    Some(match event {
        ActorObservation::Exited {
            pid,
            module,
            name,
            reason,
        } if !reason::is_normal(reason) => format!(
            "{} {} exited: {reason}",
            err("warn", YELLOW),
            who(pid, name, module)
        ),
        ActorObservation::Restarted {
            supervisor,
            child,
            old_pid,
            new_pid,
            reason,
            with,
        } => match with {
            Some(with) => format!(
                "{supervisor} restarted {child}: {old_pid} → {new_pid} (with {with}, which exited: {reason})"
            ),
            None => format!(
                "{supervisor} restarted {child}: {old_pid} → {new_pid} (it exited: {reason})"
            ),
        },
        ActorObservation::TreeFailed { tree, error } => format!(
            "{} supervision tree '{tree}' of wbx.toml did not start: {error}",
            err("error", RED)
        ),
        ActorObservation::Escalated {
            supervisor,
            restarts,
            period_s,
        } => format!(
            "{} supervisor {supervisor} gave up: more than {} in {period_s} s; its parent decides",
            err("error", RED),
            crate::console::count(u64::from(*restarts), "restart")
        ),
        ActorObservation::Swapped {
            pid,
            module,
            carried: false,
            note,
            from,
            to,
        } => {
            let why = note
                .as_deref()
                .unwrap_or("its state could not be carried over");
            if from.as_deref() == Some(to.as_str()) {
                format!(
                    "{} {pid} ({module}) stays on {to}: {why}",
                    err("warn", YELLOW)
                )
            } else {
                format!(
                    "{} {pid} ({module}) started again through init on {to}: {why}",
                    err("warn", YELLOW)
                )
            }
        }
        _ => return None,
    })
}

/// A line for an observation of the pipelines model: a flow that failed,
/// finished or stopped, a stage made again after a failure, an element set
/// aside as a dead letter, and a swap that could not carry a stage's state.
/// Other statuses and backpressure starting and ending are too many to
/// print (`wbx flows` and the Flows pane show them).
fn describe_flows(event: &FlowObservation) -> Option<String> {
    let err = |text: &str, style| paint(Stream::Stderr, text, style);
    Some(match event {
        FlowObservation::Status {
            flow,
            status: FlowStatus::Failed,
            reason,
        } => format!(
            "{} flow {flow} failed: {}",
            err("error", RED),
            reason.as_deref().unwrap_or("no reason given")
        ),
        FlowObservation::Status {
            flow,
            status: status @ (FlowStatus::Finished | FlowStatus::Stopped),
            reason,
        } => match reason {
            // A failed flow's stages ended: it stopped, for that reason.
            Some(reason) => format!("flow {flow} {}: {reason}", status.as_str()),
            None => format!("flow {flow} {}", status.as_str()),
        },
        FlowObservation::StageRestarted {
            flow,
            stage,
            sequence,
            error,
        } => {
            let on = sequence
                .map(|s| format!(" on element {s}"))
                .unwrap_or_default();
            format!(
                "{} flow {flow}: stage {stage} failed{on} and was restarted: {error}",
                err("warn", YELLOW)
            )
        }
        FlowObservation::DeadLettered {
            flow,
            stage,
            sequence,
            error,
        } => format!(
            "{} flow {flow}: element {sequence} set aside as a dead letter at stage {stage}: \
             {error} (`wbx flow redrive {flow}` sends it again)",
            err("warn", YELLOW)
        ),
        FlowObservation::StageSwapped {
            flow,
            stage,
            version,
            carried: false,
            note,
        } => match note {
            Some(note) => format!("{} flow {flow}: stage {stage} {note}", err("warn", YELLOW)),
            None => format!(
                "{} flow {flow}: stage {stage} started again through init on {version}: its \
                 state could not be carried over",
                err("warn", YELLOW)
            ),
        },
        _ => return None,
    })
}
