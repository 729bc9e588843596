//! The `wbx:guest/process` imports, typed: pids, monitor and timer
//! references as their own types, messages and replies through serde (JSON
//! on the wire), durations instead of milliseconds. A target is anything
//! that reads as a string: a [`Pid`] or a registered name.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::imports::wbx::guest::process as host;

/// A process id, such as `<0.12>`. Serialised as that string, so it can be
/// put in messages and read back from them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pid(String);

impl Pid {
    /// A pid from its text (as a message or the host gave it).
    pub fn new(text: impl Into<String>) -> Self {
        Pid(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Pid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Pid> for String {
    fn from(pid: Pid) -> String {
        pid.0
    }
}

/// A monitor's reference: what [`monitor`] returns and a `down` message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MonitorRef(pub u64);

/// A timer started by [`send_after`], for [`cancel_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimerRef(pub u64);

/// How [`spawn`] starts a process. `SpawnOptions::default()` is neither
/// linked, nor monitored, nor registered.
///
/// ```ignore
/// let worker = spawn("worker", &args, SpawnOptions::default().linked().registered("w1"))?;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpawnOptions {
    /// Link the new process to the caller.
    pub link: bool,
    /// Monitor the new process: a `down` message when it exits.
    pub monitor: bool,
    /// Register the new process under this name.
    pub register: Option<String>,
}

impl SpawnOptions {
    /// The same options, linked.
    pub fn linked(mut self) -> Self {
        self.link = true;
        self
    }

    /// The same options, monitored.
    pub fn monitored(mut self) -> Self {
        self.monitor = true;
        self
    }

    /// The same options, registered under `name`.
    pub fn registered(mut self, name: impl Into<String>) -> Self {
        self.register = Some(name.into());
        self
    }
}

/// A process [`spawn`] started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    pub pid: Pid,
    /// The monitor's reference, when [`SpawnOptions::monitor`] was asked for.
    pub monitor: Option<MonitorRef>,
}

/// Why [`send`] did not queue a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No process has this pid or name.
    NoSuchProcess(String),
    /// The target's mailbox is full; the message was not queued.
    MailboxFull(String),
    /// The message cannot be serialised to JSON.
    Encode(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NoSuchProcess(target) => write!(f, "no such process: {target}"),
            SendError::MailboxFull(target) => write!(f, "mailbox full: {target}"),
            SendError::Encode(e) => write!(f, "the message cannot be serialised: {e}"),
        }
    }
}

impl std::error::Error for SendError {}

/// So that `send(…)?` works in a handler, whose errors are strings.
impl From<SendError> for String {
    fn from(error: SendError) -> String {
        error.to_string()
    }
}

/// Why [`call`] returned no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No process has this pid or name.
    NoSuchProcess(String),
    /// The target's mailbox is full; the message was not queued.
    MailboxFull(String),
    /// No reply within the timeout.
    Timeout,
    /// The callee exited before replying, with this reason.
    Exited(String),
    /// The message cannot be serialised to JSON.
    Encode(String),
    /// The reply is not the type the caller asked for.
    BadReply { reply: String, error: String },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NoSuchProcess(target) => write!(f, "no such process: {target}"),
            CallError::MailboxFull(target) => write!(f, "mailbox full: {target}"),
            CallError::Timeout => f.write_str("timeout: no reply in time"),
            CallError::Exited(reason) => write!(f, "exited before replying: {reason}"),
            CallError::Encode(e) => write!(f, "the message cannot be serialised: {e}"),
            CallError::BadReply { reply, error } => {
                write!(f, "unexpected reply {}: {error}", shortened(reply))
            }
        }
    }
}

impl std::error::Error for CallError {}

/// So that `call(…)?` works in a handler, whose errors are strings.
impl From<CallError> for String {
    fn from(error: CallError) -> String {
        error.to_string()
    }
}

/// The caller's own pid (Erlang's `self()`).
pub fn self_pid() -> Pid {
    Pid(host::self_pid())
}

/// Spawns a process of actor module `module`, its `init` given `args`
/// (serialised to JSON). Fails when there is no such actor module, when
/// its `init` fails, or when a name to register is taken; the error says which.
pub fn spawn(
    module: &str,
    args: &(impl Serialize + ?Sized),
    options: SpawnOptions,
) -> Result<Spawned, String> {
    let args = serde_json::to_string(args)
        .map_err(|e| format!("the args for {module} cannot be serialised: {e}"))?;
    let options = host::SpawnOptions {
        link: options.link,
        monitor: options.monitor,
        register: options.register,
    };
    let spawned = host::spawn(module, &args, &options)?;
    Ok(Spawned {
        pid: Pid(spawned.pid),
        monitor: spawned.monitor.map(MonitorRef),
    })
}

/// Queues `message` (serialised to JSON) in `target`'s mailbox.
pub fn send(target: impl AsRef<str>, message: &(impl Serialize + ?Sized)) -> Result<(), SendError> {
    let message = serde_json::to_string(message).map_err(|e| SendError::Encode(e.to_string()))?;
    host::send(target.as_ref(), &message).map_err(|e| match e {
        host::SendError::NoSuchProcess(target) => SendError::NoSuchProcess(target),
        host::SendError::MailboxFull(target) => SendError::MailboxFull(target),
    })
}

/// Sends `message` to `target` once `after` has passed; until then the
/// returned timer can be cancelled. Only serialising the message can fail
/// here: whether the target exists is known when the timer fires. A timer
/// sent to a pid ends with that process; one sent to a name goes to whoever
/// holds the name when it fires.
pub fn send_after(
    target: impl AsRef<str>,
    message: &(impl Serialize + ?Sized),
    after: Duration,
) -> Result<TimerRef, String> {
    let message = serde_json::to_string(message)
        .map_err(|e| format!("the timer's message cannot be serialised: {e}"))?;
    Ok(TimerRef(host::send_after(
        target.as_ref(),
        &message,
        millis(after),
    )))
}

/// Cancels a timer; false when it already fired or never existed.
pub fn cancel_timer(timer: TimerRef) -> bool {
    host::cancel_timer(timer.0)
}

/// Sends `message` to `target` and waits at most `timeout` for its reply,
/// deserialised as `R` (`serde_json::Value` takes any reply). The wait does
/// not count against the caller's own deadline, and other processes go on
/// meanwhile.
///
/// ```ignore
/// let total: u64 = call("counter", &Op::Get, Duration::from_secs(1))?;
/// ```
pub fn call<R: DeserializeOwned>(
    target: impl AsRef<str>,
    message: &(impl Serialize + ?Sized),
    timeout: Duration,
) -> Result<R, CallError> {
    let message = serde_json::to_string(message).map_err(|e| CallError::Encode(e.to_string()))?;
    let reply = host::call(target.as_ref(), &message, millis(timeout)).map_err(|e| match e {
        host::CallError::NoSuchProcess(target) => CallError::NoSuchProcess(target),
        host::CallError::MailboxFull(target) => CallError::MailboxFull(target),
        host::CallError::Timeout => CallError::Timeout,
        host::CallError::Exited(reason) => CallError::Exited(reason),
    })?;
    serde_json::from_str(&reply).map_err(|e| CallError::BadReply {
        error: e.to_string(),
        reply,
    })
}

/// Links the caller and `target` both ways: when one exits abnormally, the
/// other does too, unless it traps exits.
pub fn link(target: impl AsRef<str>) -> Result<(), String> {
    host::link(target.as_ref())
}

pub fn unlink(target: impl AsRef<str>) {
    host::unlink(target.as_ref());
}

/// Monitors `target`: a [`Message::Down`](super::Message::Down) when it
/// exits (at once, with reason `noproc`, when it does not exist).
pub fn monitor(target: impl AsRef<str>) -> MonitorRef {
    MonitorRef(host::monitor(target.as_ref()))
}

pub fn demonitor(monitor: MonitorRef) {
    host::demonitor(monitor.0);
}

/// When on, exit signals from links arrive as
/// [`Message::Exit`](super::Message::Exit) instead of ending the caller
/// (`kill` still ends it).
pub fn trap_exit(on: bool) {
    host::trap_exit(on);
}

/// Sends an exit signal with `reason` to `target` (`kill` cannot be
/// trapped). To end itself, a handler returns an error instead.
pub fn exit(target: impl AsRef<str>, reason: &str) -> Result<(), String> {
    host::exit(target.as_ref(), reason)
}

/// Registers the caller under `name`.
pub fn register(name: &str) -> Result<(), String> {
    host::register(name)
}

pub fn unregister(name: &str) {
    host::unregister(name);
}

/// The pid registered under `name`, if any.
pub fn whereis(name: &str) -> Option<Pid> {
    host::whereis(name).map(Pid)
}

/// Milliseconds for the host, saturating (a timeout of `Duration::MAX` is "forever").
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `text` cut to a length that fits in an error message.
pub(crate) fn shortened(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_travel_in_messages_as_plain_json() {
        let pid = Pid::new("<0.12>");
        assert_eq!(serde_json::to_string(&pid).unwrap(), r#""<0.12>""#);
        assert_eq!(serde_json::from_str::<Pid>(r#""<0.12>""#).unwrap(), pid);
        assert_eq!(serde_json::to_string(&MonitorRef(7)).unwrap(), "7");
        assert_eq!(serde_json::from_str::<TimerRef>("9").unwrap(), TimerRef(9));
        assert_eq!(pid.to_string(), "<0.12>");
    }

    #[test]
    fn spawn_options_build_up() {
        let options = SpawnOptions::default().linked().monitored().registered("w");
        assert!(options.link && options.monitor);
        assert_eq!(options.register.as_deref(), Some("w"));
    }

    #[test]
    fn errors_read_as_sentences() {
        let error: String = CallError::Timeout.into();
        assert_eq!(error, "timeout: no reply in time");
        let error: String = SendError::NoSuchProcess("<0.3>".into()).into();
        assert_eq!(error, "no such process: <0.3>");
        assert_eq!(millis(Duration::MAX), u64::MAX);
        let long = "x".repeat(500);
        assert_eq!(shortened(&long).chars().count(), 201);
    }
}
