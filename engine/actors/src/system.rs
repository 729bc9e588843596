//! [`System`]: the process table with what it needs to start processes —
//! the engine (to instantiate guests), the settings, the timers — and the
//! operations every way in shares (the guests' `process` imports, the
//! supervisors, the control API, the TUI): spawn, send, call, timers,
//! exit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::task::AbortHandle;
use wbx_core::capability::Capabilities;
use wbx_core::sync::{lock, read};
use wbx_core::{BoxFuture, Engine};

use crate::guest::GuestBody;
use crate::kinds::ACTOR;
use crate::message::{ActorError, Kind, Letter, reason};
use crate::observe::ActorObservation;
use crate::pid::Pid;
use crate::process::{Body, run};
use crate::settings::ActorSettings;
use crate::spec::{SUPERVISOR, SupervisorSpec};
use crate::supervisor::SupervisorBody;
use crate::table::{Entry, Supervised, Table};

/// A supervisor's mailbox: exit messages of its children, never many.
const SUPERVISOR_MAILBOX: usize = 4096;

/// How to start a process.
#[derive(Default)]
pub struct SpawnRequest {
    pub module: String,
    /// `init`'s arguments, JSON text.
    pub args: String,
    /// The spawning process, when one spawns it.
    pub parent: Option<Arc<Entry>>,
    pub link: bool,
    pub monitor: bool,
    pub register: Option<String>,
    /// Set by a supervisor for its children.
    pub supervised: Option<Supervised>,
    /// Carried over from the child slot's earlier processes.
    pub restarts: u32,
    pub last_exit: Option<String>,
}

/// A started process.
pub struct Spawned {
    pub pid: Pid,
    /// The parent's monitor on it, when asked for.
    pub monitor: Option<u64>,
}

pub struct System {
    pub engine: Arc<Engine>,
    pub(crate) capabilities: Arc<Capabilities>,
    pub table: Table,
    pub(crate) settings: RwLock<ActorSettings>,
    timers: Mutex<HashMap<u64, Timer>>,
    next_timer: AtomicU64,
}

/// A pending `send_after`.
struct Timer {
    /// The process it was sent to by pid: its end cancels the timer, as
    /// in Erlang. One sent to a name fires whoever holds the name then.
    target: Option<Pid>,
    task: AbortHandle,
}

impl System {
    pub fn new(
        engine: Arc<Engine>,
        capabilities: Arc<Capabilities>,
        settings: ActorSettings,
    ) -> Arc<Self> {
        Arc::new(System {
            engine,
            capabilities,
            table: Table::default(),
            settings: RwLock::new(settings),
            timers: Mutex::default(),
            next_timer: AtomicU64::new(0),
        })
    }

    pub fn settings(&self) -> ActorSettings {
        read(&self.settings).clone()
    }

    /// Starts a process: its entry is in the table (linked, monitored,
    /// registered as asked) before its `init` runs; when `init` fails the
    /// process is taken out again without exit signals, and the error says
    /// why.
    ///
    /// The start runs on a task of its own: a spawner that goes away
    /// meanwhile (killed while it waits) does not leave a process half made
    /// behind; it starts, and its link to the spawner ends it.
    pub async fn spawn(self: &Arc<Self>, request: SpawnRequest) -> Result<Spawned, ActorError> {
        let system = self.clone();
        let (done, started) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _ = done.send(system.start(request).await);
        });
        started
            .await
            .unwrap_or_else(|_| Err(ActorError::Spawn("the engine is stopping".to_owned())))
    }

    async fn start(self: &Arc<Self>, request: SpawnRequest) -> Result<Spawned, ActorError> {
        let capacity = if request.module == SUPERVISOR {
            SUPERVISOR_MAILBOX
        } else {
            self.check_actor(&request.module)?;
            self.settings().module(&request.module).mailbox
        };
        let entry = self.table.insert(&request.module, capacity);
        {
            let mut shared = entry.lock();
            shared.supervised = request.supervised.clone();
            shared.restarts = request.restarts;
            shared.last_exit = request.last_exit.clone();
        }
        let mut monitor = None;
        let prepared = (|| {
            if let Some(name) = &request.register {
                self.table.register(name, entry.pid)?;
            }
            if let Some(parent) = &request.parent {
                // A supervisor is always linked to the process that starts
                // it, so it ends when that one does.
                if request.link || request.module == SUPERVISOR {
                    self.table.link(parent, entry.pid)?;
                }
                if request.monitor {
                    monitor = Some(self.table.monitor(parent, &entry.pid.to_string()));
                }
            }
            Ok(())
        })();
        let body = match prepared {
            Ok(()) => self.start_body(&entry, &request).await,
            Err(e) => Err(e),
        };
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                self.discard(&entry, request.parent.as_deref());
                return Err(e);
            }
        };
        ActorObservation::Spawned {
            pid: entry.pid.to_string(),
            module: entry.module.clone(),
            name: entry.lock().name.clone(),
            parent: request.parent.as_ref().map(|p| p.pid.to_string()),
        }
        .publish(&self.engine);
        tokio::spawn(run(self.clone(), entry.clone(), body));
        Ok(Spawned {
            pid: entry.pid,
            monitor,
        })
    }

    /// Makes and starts the process's body: a guest through its `init`, a
    /// supervisor through its children (boxed: a supervisor spawns).
    fn start_body<'a>(
        self: &'a Arc<Self>,
        entry: &'a Arc<Entry>,
        request: &'a SpawnRequest,
    ) -> BoxFuture<'a, Result<Box<dyn Body>, ActorError>> {
        Box::pin(async move {
            if request.module == SUPERVISOR {
                let spec: SupervisorSpec = serde_json::from_str(&request.args).map_err(|e| {
                    ActorError::Spawn(format!(
                        "a supervisor's arguments are not a supervisor spec: {e}"
                    ))
                })?;
                let parent = request.parent.as_ref().map(|p| p.pid);
                let body = SupervisorBody::start(self.clone(), entry.clone(), spec, parent).await?;
                return Ok(Box::new(body) as Box<dyn Body>);
            }
            let body = GuestBody::start(self.clone(), entry.clone(), &request.args).await?;
            Ok(Box::new(body) as Box<dyn Body>)
        })
    }

    fn check_actor(&self, module: &str) -> Result<(), ActorError> {
        match self.engine.kind_of(module) {
            Some(kind) if kind == ACTOR => Ok(()),
            Some(kind) => Err(ActorError::Spawn(format!(
                "module '{module}' is a {kind}, not an actor"
            ))),
            None => Err(ActorError::Spawn(format!(
                "no actor module '{module}' (actor modules: {})",
                self.engine.module_names(ACTOR)
            ))),
        }
    }

    /// Takes a process that never started out of the table, quietly.
    fn discard(&self, entry: &Entry, parent: Option<&Entry>) {
        if let Some(parent) = parent {
            self.table.unlink(parent, entry.pid);
            let monitors: Vec<u64> = entry.lock().watchers.keys().copied().collect();
            for monitor in monitors {
                self.table.demonitor(parent, monitor);
            }
        }
        entry.lock().links.clear();
        entry.lock().watchers.clear();
        self.table.remove(entry, reason::NORMAL);
    }

    /// A process ended: out of the table, its links and monitors told.
    pub(crate) fn exited(&self, entry: &Entry, why: &str) {
        let name = entry.lock().name.clone();
        self.table.remove(entry, why);
        lock(&self.timers).retain(|_, timer| {
            let to_it = timer.target == Some(entry.pid);
            if to_it {
                timer.task.abort();
            }
            !to_it
        });
        ActorObservation::Exited {
            pid: entry.pid.to_string(),
            module: entry.module.clone(),
            name,
            reason: why.to_owned(),
        }
        .publish(&self.engine);
    }

    /// Sends `body` to `target` from `sender` (none: from outside).
    pub fn send(
        &self,
        sender: Option<&Entry>,
        target: &str,
        body: String,
    ) -> Result<(), ActorError> {
        let letter = Letter::cast(sender.map(|s| s.pid), body);
        self.table
            .send(sender, target, letter)
            .inspect_err(|e| self.undelivered(sender.map(|s| s.pid), target, e))
    }

    /// Sends `body` to `target` as a call and waits for the reply.
    pub async fn call(
        &self,
        sender: Option<&Entry>,
        target: &str,
        body: String,
        timeout: Duration,
    ) -> Result<String, ActorError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let letter = Letter {
            kind: Kind::Call,
            from: sender.map(|s| s.pid),
            body,
            reply: Some(reply),
        };
        self.table
            .send(sender, target, letter)
            .inspect_err(|e| self.undelivered(sender.map(|s| s.pid), target, e))?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(ActorError::Exited {
                target: target.to_owned(),
                reason: reason::SHUTDOWN.to_owned(),
            }),
            Err(_) => Err(ActorError::Timeout {
                target: target.to_owned(),
                after_ms: timeout.as_millis() as u64,
            }),
        }
    }

    fn undelivered(&self, from: Option<Pid>, target: &str, error: &ActorError) {
        ActorObservation::Undelivered {
            from: from.map(|p| p.to_string()),
            target: target.to_owned(),
            reason: error.to_string(),
        }
        .publish(&self.engine);
    }

    /// Sends `body` to `target` after `after`; the timer's id cancels it.
    pub fn send_after(
        self: &Arc<Self>,
        from: Option<Pid>,
        target: String,
        body: String,
        after: Duration,
    ) -> u64 {
        let timer = self.next_timer.fetch_add(1, Ordering::Relaxed) + 1;
        let by_pid = target.parse::<Pid>().ok();
        // Held until the timer is in the map, so a short one cannot fire
        // (and remove itself) before it is there, and a target's end
        // (which takes the lock after the table) sees it.
        let mut timers = lock(&self.timers);
        if by_pid.is_some() && self.table.resolve(&target).is_none() {
            // Sent to a process that has ended: Erlang starts no timer.
            return timer;
        }
        let system = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            if let Some(system) = system.upgrade() {
                lock(&system.timers).remove(&timer);
                let letter = Letter::cast(from, body);
                if let Err(e) = system.table.send(None, &target, letter) {
                    system.undelivered(from, &target, &e);
                }
            }
        });
        timers.insert(
            timer,
            Timer {
                target: by_pid,
                task: task.abort_handle(),
            },
        );
        timer
    }

    pub fn cancel_timer(&self, timer: u64) -> bool {
        match lock(&self.timers).remove(&timer) {
            Some(timer) => {
                timer.task.abort();
                true
            }
            None => false,
        }
    }

    /// Sends an exit signal with `why` to `target` (`kill` ends it whatever
    /// it traps).
    pub fn exit(&self, from: Option<Pid>, target: &str, why: &str) -> Result<(), ActorError> {
        let entry = self
            .table
            .resolve(target)
            .ok_or_else(|| ActorError::NoSuchProcess(target.to_owned()))?;
        // From outside, a signal acts as if from the process itself, so
        // even `normal` is heard.
        self.table.signal(from.unwrap_or(entry.pid), &entry, why);
        Ok(())
    }

    /// Ends every process (kill), for shutdown, and waits for them.
    pub async fn stop_all(&self) {
        for (_, timer) in lock(&self.timers).drain() {
            timer.task.abort();
        }
        let entries = self.table.entries();
        for entry in &entries {
            self.table.signal(entry.pid, entry, reason::KILL);
        }
        for entry in entries {
            let _ = tokio::time::timeout(Duration::from_secs(5), entry.wait_exit()).await;
        }
    }
}
