//! The process table: every live process's [`Entry`] (mailbox, links,
//! monitors, name, figures), the registry of names, and the rules of
//! delivery, exit signals and monitors. Nothing here knows WebAssembly: a
//! process's body ([`crate::process::Body`]) is a guest or a supervisor.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::sync::{Notify, oneshot, watch};
use wbx_core::limits::MemoryGauge;
use wbx_core::sync::{lock, read, write};

use crate::message::{ActorError, Kind, Letter, reason};
use crate::pid::Pid;

/// Messages kept per process in its trace (in and out).
const TRACE: usize = 200;
/// Bytes of a message body a trace line keeps.
const TRACE_BODY: usize = 512;
/// Names the control API's routes take (`/api/actors/tree`): no process
/// can be registered under them.
pub const RESERVED_NAMES: [&str; 3] = ["tree", "dead-letters", "spawn"];
/// Targets whose undelivered sends are counted one by one.
const DEAD_TARGETS: usize = 256;

/// What a process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Being instantiated and initialised.
    Starting,
    /// Waiting for a message.
    Idle,
    /// In its handler.
    Running,
    /// In its handler, waiting for a reply or a spawn.
    Waiting,
    /// Moving to a new version at a message boundary.
    Swapping,
}

/// One line of a process's trace: a message it handled or sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceLine {
    pub at_ms: u64,
    /// `in` (handled) or `out` (sent).
    pub direction: &'static str,
    #[serde(flatten)]
    pub kind: Kind,
    /// The sender (in) or the target (out).
    pub peer: Option<String>,
    pub body: String,
}

/// Where a supervised process sits in its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervised {
    pub supervisor: Pid,
    /// The child's id in the supervisor's spec.
    pub id: String,
    /// Its place among the supervisor's children (their start order).
    pub position: usize,
}

impl Shared {
    /// Keeps `line`, the oldest going when the trace is full.
    fn trace(&mut self, line: TraceLine) {
        if self.trace.len() == TRACE {
            self.trace.pop_front();
        }
        self.trace.push_back(line);
    }
}

/// The mutable part of an entry, behind one lock.
pub(crate) struct Shared {
    pub(crate) mailbox: VecDeque<Letter>,
    pub(crate) capacity: usize,
    pub(crate) high_water: usize,
    /// Sends refused because the mailbox was full.
    pub(crate) refused: u64,
    /// An exit signal that ends the process, once one arrived.
    pub(crate) fatal: Option<String>,
    pub(crate) links: BTreeSet<Pid>,
    /// Monitors this process holds: reference → the watched process.
    pub(crate) monitors: BTreeMap<u64, Pid>,
    /// Monitors on this process: reference → the watcher.
    pub(crate) watchers: BTreeMap<u64, Pid>,
    pub(crate) trap_exit: bool,
    pub(crate) name: Option<String>,
    pub(crate) status: Status,
    pub(crate) handled: u64,
    pub(crate) version: Option<String>,
    pub(crate) supervised: Option<Supervised>,
    /// A supervisor's strategy; none for a worker.
    pub(crate) strategy: Option<&'static str>,
    /// Restarts of its child slot (or through `init` at a swap).
    pub(crate) restarts: u32,
    pub(crate) last_exit: Option<String>,
    pub(crate) trace: VecDeque<TraceLine>,
    pub(crate) memory: Option<MemoryGauge>,
    /// Who waits for the process's `inspect` at its next message boundary.
    pub(crate) inspections: Vec<oneshot::Sender<Option<String>>>,
}

/// A live process, as the table and its task share it.
pub struct Entry {
    pub pid: Pid,
    pub module: String,
    pub(crate) shared: Mutex<Shared>,
    /// A message arrived.
    pub(crate) mail: Notify,
    /// Something needs the process at its boundary: a fatal signal, an
    /// inspection.
    pub(crate) attention: Notify,
    /// The reason, once it exited.
    pub(crate) exited: watch::Sender<Option<String>>,
}

impl Entry {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    pub(crate) fn set_status(&self, status: Status) {
        self.lock().status = status;
    }

    /// Waits until the process has exited, and says why.
    pub(crate) async fn wait_exit(&self) -> String {
        let mut exited = self.exited.subscribe();
        loop {
            if let Some(reason) = exited.borrow_and_update().clone() {
                return reason;
            }
            if exited.changed().await.is_err() {
                return reason::NORMAL.to_owned();
            }
        }
    }

    /// Records a message this process handles.
    pub(crate) fn trace_in(&self, letter: &Letter) {
        let line = trace_line(
            "in",
            letter.kind.clone(),
            letter.from.map(|p| p.to_string()),
            &letter.body,
        );
        self.lock().trace(line);
    }
}

fn trace_line(direction: &'static str, kind: Kind, peer: Option<String>, body: &str) -> TraceLine {
    let mut body = body.to_owned();
    if body.len() > TRACE_BODY {
        let mut end = TRACE_BODY;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
        body.push('…');
    }
    TraceLine {
        at_ms: unix_ms(),
        direction,
        kind,
        peer,
        body,
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Sends that reached no mailbox because the target was gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeadLetters {
    pub total: u64,
    /// Per target (pid or name), the latest targets first kept.
    pub by_target: BTreeMap<String, u64>,
}

/// Every live process, the names, and the counters that outlive processes.
#[derive(Default)]
pub struct Table {
    procs: RwLock<HashMap<Pid, Arc<Entry>>>,
    names: Mutex<HashMap<String, Pid>>,
    next_pid: AtomicU64,
    next_ref: AtomicU64,
    dead: Mutex<DeadLetters>,
}

impl Table {
    /// A new entry, in the table from now on (so it can be linked before
    /// its body starts).
    pub(crate) fn insert(&self, module: &str, capacity: usize) -> Arc<Entry> {
        let pid = Pid(self.next_pid.fetch_add(1, Ordering::Relaxed) + 1);
        let entry = Arc::new(Entry {
            pid,
            module: module.to_owned(),
            shared: Mutex::new(Shared {
                mailbox: VecDeque::new(),
                capacity,
                high_water: 0,
                refused: 0,
                fatal: None,
                links: BTreeSet::new(),
                monitors: BTreeMap::new(),
                watchers: BTreeMap::new(),
                trap_exit: false,
                name: None,
                status: Status::Starting,
                handled: 0,
                version: None,
                supervised: None,
                strategy: None,
                restarts: 0,
                last_exit: None,
                trace: VecDeque::new(),
                memory: None,
                inspections: Vec::new(),
            }),
            mail: Notify::new(),
            attention: Notify::new(),
            exited: watch::Sender::new(None),
        });
        write(&self.procs).insert(pid, entry.clone());
        entry
    }

    pub fn get(&self, pid: Pid) -> Option<Arc<Entry>> {
        read(&self.procs).get(&pid).cloned()
    }

    /// The process a target names: a pid (`<0.12>`) or a registered name.
    pub fn resolve(&self, target: &str) -> Option<Arc<Entry>> {
        let pid = match target.parse::<Pid>() {
            Ok(pid) => pid,
            Err(()) => *lock(&self.names).get(target)?,
        };
        self.get(pid)
    }

    /// Every live process, by pid.
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        let mut entries: Vec<_> = read(&self.procs).values().cloned().collect();
        entries.sort_by_key(|e| e.pid);
        entries
    }

    pub(crate) fn next_ref(&self) -> u64 {
        self.next_ref.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn dead_letters(&self) -> DeadLetters {
        lock(&self.dead).clone()
    }

    fn count_dead(&self, target: &str) {
        let mut dead = lock(&self.dead);
        dead.total += 1;
        if let Some(count) = dead.by_target.get_mut(target) {
            *count += 1;
        } else if dead.by_target.len() < DEAD_TARGETS {
            dead.by_target.insert(target.to_owned(), 1);
        }
    }

    /// Queues `letter` for `target`, recording it in the sender's trace.
    /// A missing target or a full mailbox is an error to the sender and is
    /// counted (on the table, or on the receiver).
    pub fn send(
        &self,
        sender: Option<&Entry>,
        target: &str,
        letter: Letter,
    ) -> Result<(), ActorError> {
        let Some(entry) = self.resolve(target) else {
            self.count_dead(target);
            return Err(ActorError::NoSuchProcess(target.to_owned()));
        };
        if let Some(sender) = sender {
            let line = trace_line(
                "out",
                letter.kind.clone(),
                Some(target.to_owned()),
                &letter.body,
            );
            sender.lock().trace(line);
        }
        self.deliver(&entry, letter)
            .map_err(|capacity| ActorError::MailboxFull {
                target: target.to_owned(),
                capacity,
            })
    }

    /// Puts `letter` in `entry`'s mailbox; `Err(capacity)` when it is full
    /// (system messages are always taken).
    pub(crate) fn deliver(&self, entry: &Entry, letter: Letter) -> Result<(), usize> {
        {
            let mut shared = entry.lock();
            if shared.mailbox.len() >= shared.capacity && !letter.is_system() {
                shared.refused += 1;
                return Err(shared.capacity);
            }
            shared.mailbox.push_back(letter);
            shared.high_water = shared.high_water.max(shared.mailbox.len());
        }
        entry.mail.notify_one();
        Ok(())
    }

    pub(crate) fn register(&self, name: &str, pid: Pid) -> Result<(), ActorError> {
        if name.is_empty() || name.parse::<Pid>().is_ok() || RESERVED_NAMES.contains(&name) {
            return Err(ActorError::Refused(format!(
                "'{name}' cannot be a registered name: it must be non-empty, not look like a pid, \
                 and not be one of {}, which the control API's routes take",
                RESERVED_NAMES.join(", ")
            )));
        }
        let Some(entry) = self.get(pid) else {
            return Err(ActorError::NoSuchProcess(pid.to_string()));
        };
        let mut names = lock(&self.names);
        match names.get(name) {
            Some(holder) if *holder == pid => return Ok(()),
            Some(holder) => {
                return Err(ActorError::Refused(format!(
                    "the name '{name}' is already registered to {holder}"
                )));
            }
            None => {}
        }
        let mut shared = entry.lock();
        if let Some(old) = shared.name.replace(name.to_owned()) {
            names.remove(&old);
        }
        names.insert(name.to_owned(), pid);
        Ok(())
    }

    pub(crate) fn unregister(&self, name: &str) {
        if let Some(pid) = lock(&self.names).remove(name)
            && let Some(entry) = self.get(pid)
        {
            entry.lock().name = None;
        }
    }

    pub fn whereis(&self, name: &str) -> Option<Pid> {
        lock(&self.names).get(name).copied()
    }

    /// Links `a` and `b` both ways; an error when `b` is gone.
    pub(crate) fn link(&self, a: &Entry, b: Pid) -> Result<(), ActorError> {
        if a.pid == b {
            return Ok(());
        }
        let other = self
            .get(b)
            .ok_or_else(|| ActorError::NoSuchProcess(b.to_string()))?;
        a.lock().links.insert(b);
        other.lock().links.insert(a.pid);
        Ok(())
    }

    pub(crate) fn unlink(&self, a: &Entry, b: Pid) {
        a.lock().links.remove(&b);
        if let Some(other) = self.get(b) {
            other.lock().links.remove(&a.pid);
        }
    }

    /// `watcher` monitors `target`: a `down` message when it exits, at once
    /// (reason `noproc`) when it is already gone.
    pub(crate) fn monitor(&self, watcher: &Entry, target: &str) -> u64 {
        let monitor = self.next_ref();
        match self.resolve(target) {
            Some(entry) => {
                entry.lock().watchers.insert(monitor, watcher.pid);
                watcher.lock().monitors.insert(monitor, entry.pid);
            }
            None => {
                let down = Letter {
                    kind: Kind::Down {
                        monitor,
                        reason: reason::NOPROC.to_owned(),
                    },
                    from: target.parse().ok(),
                    body: "null".to_owned(),
                    reply: None,
                };
                let _ = self.deliver(watcher, down);
            }
        }
        monitor
    }

    pub(crate) fn demonitor(&self, watcher: &Entry, monitor: u64) {
        let target = watcher.lock().monitors.remove(&monitor);
        if let Some(entry) = target.and_then(|pid| self.get(pid)) {
            entry.lock().watchers.remove(&monitor);
        }
    }

    /// An exit signal from `from` with `why` reaches `to`, with Erlang's
    /// rules: a `kill` sent directly (`exit(target, "kill")`, `wbx kill`)
    /// always ends it (as `killed`); a process trapping exits gets an
    /// `exit` message instead (also for a linked process that exited with
    /// reason `kill`); `normal` from another process is ignored; any other
    /// reason ends it with that reason.
    pub(crate) fn signal(&self, from: Pid, to: &Entry, why: &str) {
        self.exit_signal(from, to, why, true);
    }

    fn exit_signal(&self, from: Pid, to: &Entry, why: &str, direct: bool) {
        let fatal = {
            let shared = to.lock();
            if direct && why == reason::KILL {
                Some(reason::KILLED.to_owned())
            } else if shared.trap_exit {
                None
            } else if why == reason::NORMAL && from != to.pid {
                return;
            } else {
                Some(why.to_owned())
            }
        };
        match fatal {
            Some(fatal) => {
                let mut shared = to.lock();
                shared.fatal.get_or_insert(fatal);
                drop(shared);
                to.attention.notify_one();
            }
            None => {
                let exit = Letter {
                    kind: Kind::Exit {
                        reason: why.to_owned(),
                    },
                    from: Some(from),
                    body: "null".to_owned(),
                    reply: None,
                };
                let _ = self.deliver(to, exit);
            }
        }
    }

    /// `entry` exited with `why`: it leaves the table and its name; its
    /// links get exit signals, its watchers `down` messages, its waiting
    /// callers their error.
    pub(crate) fn remove(&self, entry: &Entry, why: &str) {
        write(&self.procs).remove(&entry.pid);
        let (name, links, watchers, monitors, mailbox, inspections) = {
            let mut shared = entry.lock();
            (
                shared.name.take(),
                std::mem::take(&mut shared.links),
                std::mem::take(&mut shared.watchers),
                std::mem::take(&mut shared.monitors),
                std::mem::take(&mut shared.mailbox),
                std::mem::take(&mut shared.inspections),
            )
        };
        if let Some(name) = name {
            let mut names = lock(&self.names);
            if names.get(&name) == Some(&entry.pid) {
                names.remove(&name);
            }
        }
        for pid in links {
            if let Some(linked) = self.get(pid) {
                linked.lock().links.remove(&entry.pid);
                self.exit_signal(entry.pid, &linked, why, false);
            }
        }
        for (monitor, watcher) in watchers {
            if let Some(watcher) = self.get(watcher) {
                watcher.lock().monitors.remove(&monitor);
                let down = Letter {
                    kind: Kind::Down {
                        monitor,
                        reason: why.to_owned(),
                    },
                    from: Some(entry.pid),
                    body: "null".to_owned(),
                    reply: None,
                };
                let _ = self.deliver(&watcher, down);
            }
        }
        for (monitor, target) in monitors {
            if let Some(target) = self.get(target) {
                target.lock().watchers.remove(&monitor);
            }
        }
        fail_waiting(entry.pid, mailbox, why);
        drop(inspections);
        entry.exited.send_replace(Some(why.to_owned()));
    }
}

/// Answers the callers whose calls were still in the mailbox.
pub(crate) fn fail_waiting(pid: Pid, mailbox: VecDeque<Letter>, why: &str) {
    for letter in mailbox {
        if let Some(reply) = letter.reply {
            let _ = reply.send(Err(ActorError::Exited {
                target: pid.to_string(),
                reason: why.to_owned(),
            }));
        }
    }
}
