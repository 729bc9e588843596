//! What can happen to the app: a key, a resize, an observation from the
//! engine, a tick of the clock, the result of work the app asked for. Every
//! change of state starts as one of these, handed to [`crate::update`].
//!
//! [`Request`]s go the other way: work the app asks of the engine, done by
//! the runner, whose result comes back as [`Action::Done`].

use std::time::Instant;

use crossterm::event::KeyEvent;
use wbx_engine::Observation;
use wbx_engine::replay::{Step, Target};

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    Observed(Observation),
    /// The app fell behind the observation stream and skipped this many.
    Lagged(u64),
    /// Time passes (only while something animates).
    Tick(Instant),
    Done(Done),
    /// Where the step view of `projector` got to, or why it could not.
    Replayed {
        projector: String,
        result: Result<Step, String>,
    },
}

/// Work the app asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Execute {
        command: String,
        input: String,
    },
    RebuildModule(String),
    RebuildReadModel(String),
    /// Step a projector's replay of the log to `target`.
    Replay {
        projector: String,
        target: Target,
    },
}

/// How a [`Request`] ended, as a line for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub ok: bool,
    pub message: String,
}
