//! The wbx terminal interface: one view of a live engine, kept open all day
//! beside an editor by `wbx dev`.
//!
//! # Code map
//!
//! - [`runner`]: the loop. Terminal input, engine observations and request
//!   results become [`action::Action`]s; it draws when something changed,
//!   at a capped frame rate. [`runner::Session`] is the engine as the app
//!   sees it, and carries out [`action::Request`]s.
//! - [`update`]: the one function that changes state.
//! - [`app`]: the state: the pane shown, overlays, the prompt.
//!   [`status`] (the status bar) and [`panes`] (one module per pane) hold
//!   the rest.
//! - [`view`]: drawing, a pure function of the state; [`layout`] is shared
//!   by both sides so a page is the same size to each.
//! - [`keys`]: bindings, their defaults and the user's remapping, each
//!   scoped to a pane or everywhere; [`command`]: the `:` command line.
//! - [`model`]: what a runtime model adds (its panes, keys, commands,
//!   requests), and [`models`], the registered ones. A model's panes live
//!   in their own folder of [`panes`] (`panes/events/`).
//! - [`bench`]: frame time and idle cost, for `wbx bench`.
//!
//! The engine's observation stream is the only source of news; a model's
//! pane may read its own data for the rows it shows (the Events pane, the
//! event store). Nothing here
//! prints: a stray line would corrupt the screen.

pub mod action;
pub mod app;
pub mod bench;
pub mod command;
pub mod keys;
pub mod layout;
pub mod model;
pub mod models;
pub mod panes;
pub mod runner;
pub mod status;
pub mod update;
pub mod view;

pub use keys::KeyMap;
pub use runner::{FirstBuild, Session, run};
