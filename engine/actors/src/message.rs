//! What travels between processes: a [`Letter`] in a mailbox, and why a
//! send, a call or a spawn did not happen ([`ActorError`]).

use std::fmt;

use serde::Serialize;
use tokio::sync::oneshot;

use crate::pid::Pid;

/// What kind of message a letter is, as the guest's `handle` sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Kind {
    Cast,
    Call,
    /// A linked process exited with this reason (the receiver traps exits).
    Exit {
        reason: String,
    },
    /// A monitored process exited with this reason.
    Down {
        monitor: u64,
        reason: String,
    },
}

/// Where a call's reply goes.
pub type ReplyTo = oneshot::Sender<Result<String, ActorError>>;

/// One message in a mailbox.
#[derive(Debug)]
pub struct Letter {
    pub kind: Kind,
    /// The sending process; none from outside (the CLI, the API, a timer
    /// set from outside).
    pub from: Option<Pid>,
    /// JSON text.
    pub body: String,
    pub reply: Option<ReplyTo>,
}

impl Letter {
    pub fn cast(from: Option<Pid>, body: String) -> Self {
        Letter {
            kind: Kind::Cast,
            from,
            body,
            reply: None,
        }
    }

    /// Exit and down messages: the system's own, which a full mailbox
    /// still takes (they are bounded by the links and monitors a process
    /// has), so no exit is ever lost.
    pub fn is_system(&self) -> bool {
        matches!(self.kind, Kind::Exit { .. } | Kind::Down { .. })
    }
}

/// Why a message, a call or a spawn did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorError {
    /// No process has this pid or registered name.
    NoSuchProcess(String),
    /// The target's mailbox is full; the message was not queued.
    MailboxFull { target: String, capacity: usize },
    /// No reply within the timeout.
    Timeout { target: String, after_ms: u64 },
    /// The callee exited before replying.
    Exited { target: String, reason: String },
    /// The process could not be started.
    Spawn(String),
    /// A registered name is taken, or another bad request.
    Refused(String),
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorError::NoSuchProcess(target) => write!(f, "no process '{target}'"),
            ActorError::MailboxFull { target, capacity } => write!(
                f,
                "the mailbox of '{target}' is full ({capacity} message{}); the message was not queued",
                if *capacity == 1 { "" } else { "s" }
            ),
            ActorError::Timeout { target, after_ms } => {
                write!(f, "no reply from '{target}' within {after_ms} ms")
            }
            ActorError::Exited { target, reason } => {
                write!(f, "'{target}' exited before replying: {reason}")
            }
            ActorError::Spawn(why) | ActorError::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ActorError {}

/// The reasons the engine itself gives.
pub mod reason {
    pub const NORMAL: &str = "normal";
    /// Sent by `exit(target, "kill")` or `wbx kill`: cannot be trapped.
    pub const KILL: &str = "kill";
    /// What a killed process's links see.
    pub const KILLED: &str = "killed";
    pub const SHUTDOWN: &str = "shutdown";
    /// A monitor of a process that does not exist.
    pub const NOPROC: &str = "noproc";
    pub const TIMEOUT: &str = "timeout";

    /// Whether `reason` ends a process without taking its links down and
    /// without a transient child's restart.
    pub fn is_normal(reason: &str) -> bool {
        reason == NORMAL || reason == SHUTDOWN
    }
}
