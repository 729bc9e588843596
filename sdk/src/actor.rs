//! Actors: long-lived processes with a mailbox, Erlang-style.
//!
//! Each spawned process is one instance of the actor module: [`Actor::init`]
//! builds the actor from its args once, then [`Actor::handle`] gets every
//! message, in order. Args, messages and replies are typed through serde
//! (JSON on the wire, so people can read them in the Actors pane and send
//! them from the CLI). An `Err(reason)` from either ends the process with
//! that reason; links and monitors learn it.
//!
//! A crate declares itself with `[package.metadata.wbx] kind = "actor"` and
//! exports its actor with [`export_actor!`](crate::export_actor):
//!
//! - `export_actor!(Counter with state)`, when `Counter` is `Serialize +
//!   Deserialize`: on a hot swap the old version's actor value is handed
//!   to the new version as JSON (new fields need `#[serde(default)]`), and
//!   the Actors pane shows it;
//! - `export_actor!(Counter)`: nothing is handed over, each process of the
//!   new version starts again through `init` with its original args, and
//!   the pane shows no state.
//!
//! What a process may do besides answering — its pid, spawning, sending,
//! timers, calls, links, monitors, exit signals, the registry — is here as
//! plain functions ([`send`], [`call`], [`spawn`], …); they need no actor
//! value. Code map: `actor/process.rs` wraps the `process` imports,
//! `actor/export.rs` is what the macro exports.
//!
//! ```ignore
//! use std::time::Duration;
//! use serde::{Deserialize, Serialize};
//! use wbx_guest::actor::{self, Actor, Message};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Counter { count: u64, ticks: u64 }
//!
//! #[derive(Serialize, Deserialize)]
//! #[serde(tag = "op", rename_all = "snake_case")]
//! enum Op { Add { n: u64 }, Get, Tick }
//!
//! impl Actor for Counter {
//!     type Args = serde_json::Value;
//!     type Message = Op;
//!     type Reply = u64;
//!
//!     fn init(_args: serde_json::Value) -> Result<Self, String> {
//!         actor::send_after(actor::self_pid(), &Op::Tick, Duration::from_secs(1))?;
//!         Ok(Counter { count: 0, ticks: 0 })
//!     }
//!
//!     fn handle(&mut self, message: Message<Op>) -> Result<Option<u64>, String> {
//!         match message {
//!             Message::Cast { body, .. } | Message::Call { body, .. } => match body {
//!                 Op::Add { n } => self.count += n,
//!                 Op::Get => {}
//!                 Op::Tick => {
//!                     self.ticks += 1;
//!                     actor::send_after(actor::self_pid(), &Op::Tick, Duration::from_secs(1))?;
//!                 }
//!             },
//!             // Only while trapping exits: a linked process ended.
//!             Message::Exit { reason, .. } => return Err(reason),
//!             Message::Down { .. } => {}
//!         }
//!         Ok(Some(self.count))
//!     }
//! }
//!
//! wbx_guest::export_actor!(Counter with state);
//!
//! // Elsewhere, in another actor's handler:
//! // let count: u64 = actor::call("counter", &Op::Get, Duration::from_secs(1))?;
//! ```

#[doc(hidden)]
pub mod export;
mod process;

pub use process::{
    CallError, MonitorRef, Pid, SendError, SpawnOptions, Spawned, TimerRef, call, cancel_timer,
    demonitor, exit, link, monitor, register, self_pid, send, send_after, spawn, trap_exit, unlink,
    unregister, whereis,
};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An actor: the state of one process and how it answers messages.
pub trait Actor: Sized + 'static {
    /// What `init` receives. `serde_json::Value` takes any args; a struct
    /// with `#[serde(default)]` fields takes `{}` and missing fields; `()`
    /// takes only `null` (what a spawn without args sends).
    type Args: DeserializeOwned;
    /// What casts and calls carry.
    type Message: DeserializeOwned;
    /// What a call's answer is (`serde_json::Value` for anything).
    type Reply: Serialize;

    /// Starts the process. An error ends it with that reason, and the
    /// spawn fails with it.
    fn init(args: Self::Args) -> Result<Self, String>;

    /// Handles one message. For a [`Message::Call`], `Ok(Some(reply))` is
    /// the reply and `Ok(None)` replies `null`; for the other kinds what is
    /// returned goes nowhere. An error ends the process with that reason.
    fn handle(&mut self, message: Message<Self::Message>) -> Result<Option<Self::Reply>, String>;

    /// A cast or call whose body is not a `Self::Message` (`body` is its
    /// JSON, `error` why it does not read). By default the process ends
    /// saying so, as an Erlang process does on a message no clause
    /// matches; override it to answer or ignore such messages instead.
    fn unreadable(
        &mut self,
        from: Option<Pid>,
        body: &str,
        error: String,
    ) -> Result<Option<Self::Reply>, String> {
        let sender = from.map_or_else(|| "outside".to_owned(), |pid| pid.to_string());
        Err(format!(
            "a message from {sender} this actor cannot read ({error}): {}",
            process::shortened(body)
        ))
    }
}

/// One message from the mailbox.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<M> {
    /// Sent with [`send`] or by a timer: no one waits for an answer.
    Cast { from: Option<Pid>, body: M },
    /// Sent with [`call`]: what `handle` returns is the reply.
    Call { from: Option<Pid>, body: M },
    /// A linked process exited with `reason`; arrives only while the
    /// process traps exits ([`trap_exit`]). `from` is none when the signal
    /// came from outside (the CLI, the API).
    Exit { from: Option<Pid>, reason: String },
    /// A monitored process exited with `reason` (`noproc`: it did not exist
    /// when the monitor was set; then `from` may be none).
    Down {
        monitor: MonitorRef,
        from: Option<Pid>,
        reason: String,
    },
}

impl<M> Message<M> {
    /// Who sent it, or which process exited; none when it came from outside.
    pub fn from(&self) -> Option<&Pid> {
        match self {
            Message::Cast { from, .. }
            | Message::Call { from, .. }
            | Message::Exit { from, .. }
            | Message::Down { from, .. } => from.as_ref(),
        }
    }

    /// The body of a cast or a call.
    pub fn body(&self) -> Option<&M> {
        match self {
            Message::Cast { body, .. } | Message::Call { body, .. } => Some(body),
            Message::Exit { .. } | Message::Down { .. } => None,
        }
    }

    /// Whether the sender waits for a reply.
    pub fn is_call(&self) -> bool {
        matches!(self, Message::Call { .. })
    }
}
