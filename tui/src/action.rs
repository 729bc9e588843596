//! What can happen to the app: a key, a resize, an observation from the
//! engine, a tick of the clock, the result of work the app asked for. Every
//! change of state starts as one of these, handed to [`crate::update`].
//!
//! [`Request`]s go the other way: work the app asks of the engine, done by
//! the runner, whose result comes back as [`Action::Done`] or, for a
//! model's request, [`Action::Model`].

use std::time::Instant;

use crossterm::event::KeyEvent;
use wbx_engine::Observation;

use crate::model::{ModelRequest, ModelResult};

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    Observed(Box<Observation>),
    /// The app fell behind the observation stream and skipped this many.
    Lagged(u64),
    /// Time passes (only while something animates or the pane shown is
    /// refreshed with time).
    Tick(Instant),
    Done(Done),
    /// The result of a model's request, for its panes.
    Model(ModelResult),
}

/// Work the app asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Rebuild a module and swap it in (the dev loop does it).
    RebuildModule(String),
    /// A model's request, for its session.
    Model(ModelRequest),
}

/// How a [`Request`] ended, as a line for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub ok: bool,
    pub message: String,
}
