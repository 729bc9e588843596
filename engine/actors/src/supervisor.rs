//! [`SupervisorBody`]: a process whose body is a supervisor, written in
//! Rust on the same process table as guests. It traps exits, starts its
//! children linked to it, and when one exits applies its strategy
//! (one-for-one, one-for-all, rest-for-one) and the child's restart type
//! (permanent, transient, temporary), within its restart intensity: over
//! it, it stops its children and exits with `shutdown`, and its own
//! supervisor decides.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wbx_core::BoxFuture;

use crate::message::{ActorError, Kind, Letter, reason};
use crate::observe::ActorObservation;
use crate::pid::Pid;
use crate::process::Body;
use crate::spec::{ChildSpec, Restart, Strategy, SupervisorSpec};
use crate::system::{SpawnRequest, System};
use crate::table::{Entry, Supervised};

/// How long a child has to stop after `shutdown` before it is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

struct Child {
    spec: ChildSpec,
    pid: Option<Pid>,
    restarts: u32,
    last_exit: Option<String>,
}

pub(crate) struct SupervisorBody {
    system: Arc<System>,
    me: Arc<Entry>,
    spec: SupervisorSpec,
    children: Vec<Child>,
    /// When each recent restart happened, for the intensity.
    recent: VecDeque<Instant>,
    /// Who started it (its own supervisor, or the process that spawned
    /// it): its exit ends the supervisor.
    parent: Option<Pid>,
}

impl SupervisorBody {
    /// Starts every child in order; when one does not start, stops those
    /// already started and says which.
    pub(crate) async fn start(
        system: Arc<System>,
        me: Arc<Entry>,
        spec: SupervisorSpec,
        parent: Option<Pid>,
    ) -> Result<Self, ActorError> {
        check(&spec).map_err(ActorError::Spawn)?;
        {
            let mut shared = me.lock();
            shared.trap_exit = true;
            shared.strategy = Some(spec.strategy.name());
            shared.version = None;
        }
        let children = spec
            .children
            .iter()
            .map(|spec| Child {
                spec: spec.clone(),
                pid: None,
                restarts: 0,
                last_exit: None,
            })
            .collect();
        let mut body = SupervisorBody {
            system,
            me,
            spec,
            children,
            recent: VecDeque::new(),
            parent,
        };
        for i in 0..body.children.len() {
            if let Err(e) = body.start_child(i).await {
                body.stop_children(0..i).await;
                return Err(ActorError::Spawn(format!(
                    "supervisor {}: child '{}' did not start: {e}",
                    body.me.pid, body.children[i].spec.id
                )));
            }
        }
        Ok(body)
    }

    async fn start_child(&mut self, i: usize) -> Result<Pid, ActorError> {
        let child = &self.children[i];
        let (module, args) = child.spec.spawn_args().map_err(ActorError::Spawn)?;
        let spawned = self
            .system
            .spawn(SpawnRequest {
                module,
                args,
                parent: Some(self.me.clone()),
                link: true,
                register: child.spec.register.clone(),
                supervised: Some(Supervised {
                    supervisor: self.me.pid,
                    id: child.spec.id.clone(),
                    position: i,
                }),
                restarts: child.restarts,
                last_exit: child.last_exit.clone(),
                ..SpawnRequest::default()
            })
            .await?;
        self.children[i].pid = Some(spawned.pid);
        Ok(spawned.pid)
    }

    /// Stops the children in `range`, the last started first; their ids
    /// and the pids they had.
    async fn stop_children(&mut self, range: std::ops::Range<usize>) -> Vec<(String, Pid)> {
        let mut stopped = Vec::new();
        for i in range.rev() {
            // Forgotten only once stopped: a supervisor killed meanwhile
            // still stops it in `terminate`.
            if let Some(pid) = self.children[i].pid {
                stop(&self.system, &self.me, pid).await;
                self.children[i].pid = None;
                stopped.push((self.children[i].spec.id.clone(), pid));
            }
        }
        stopped
    }

    /// A child exited with `why`: restart what the strategy says. One exit
    /// is one restart against the intensity, however many children the
    /// strategy starts again; a temporary sibling the strategy stopped is
    /// not started again (it leaves, as a temporary child does).
    async fn child_exited(&mut self, i: usize, why: &str) -> Result<(), String> {
        let old = self.children[i].pid.take();
        self.children[i].last_exit = Some(why.to_owned());
        let restart = match self.children[i].spec.restart {
            Restart::Permanent => true,
            Restart::Transient => !reason::is_normal(why),
            Restart::Temporary => false,
        };
        if !restart {
            if self.children[i].spec.restart == Restart::Temporary {
                self.children.remove(i);
            }
            return Ok(());
        }
        self.count_restart().await?;
        let failed = self.children[i].spec.id.clone();
        let range = match self.spec.strategy {
            Strategy::OneForOne => i..i + 1,
            Strategy::OneForAll => 0..self.children.len(),
            Strategy::RestForOne => i..self.children.len(),
        };
        let ids: Vec<String> = self.children[range.clone()]
            .iter()
            .map(|c| c.spec.id.clone())
            .collect();
        let mut olds = self.stop_children(range).await;
        olds.extend(old.map(|pid| (failed.clone(), pid)));
        self.children.retain(|c| {
            c.spec.id == failed || c.spec.restart != Restart::Temporary || !ids.contains(&c.spec.id)
        });
        for id in ids {
            let Some(j) = self.children.iter().position(|c| c.spec.id == id) else {
                continue;
            };
            let old = olds.iter().find(|(o, _)| *o == id).map(|(_, pid)| *pid);
            let with = (id != failed).then(|| failed.clone());
            self.restart_child(j, old, why, with).await?;
        }
        Ok(())
    }

    /// Starts child `i` again; a start that fails is tried again, each try
    /// counted against the intensity.
    async fn restart_child(
        &mut self,
        i: usize,
        old: Option<Pid>,
        why: &str,
        with: Option<String>,
    ) -> Result<(), String> {
        loop {
            self.children[i].restarts += 1;
            match self.start_child(i).await {
                Ok(pid) => {
                    ActorObservation::Restarted {
                        supervisor: self.me.pid.to_string(),
                        child: self.children[i].spec.id.clone(),
                        old_pid: old.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                        new_pid: pid.to_string(),
                        reason: why.to_owned(),
                        with,
                    }
                    .publish(&self.system.engine);
                    return Ok(());
                }
                Err(e) => {
                    self.children[i].last_exit = Some(e.to_string());
                    self.count_restart().await?;
                }
            }
        }
    }

    /// One more restart; over the intensity, the supervisor gives up: it
    /// stops its children and exits with `shutdown`.
    async fn count_restart(&mut self) -> Result<(), String> {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|at| now.duration_since(*at) > self.spec.period())
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        if self.recent.len() as u32 > self.spec.intensity {
            ActorObservation::Escalated {
                supervisor: self.me.pid.to_string(),
                restarts: self.spec.intensity,
                period_s: self.spec.period_s,
            }
            .publish(&self.system.engine);
            self.stop_children(0..self.children.len()).await;
            return Err(reason::SHUTDOWN.to_owned());
        }
        Ok(())
    }

    fn children_json(&self) -> String {
        let children: Vec<_> = self
            .children
            .iter()
            .map(|c| {
                json!({
                    "id": c.spec.id,
                    "pid": c.pid.map(|p| p.to_string()),
                    "restart": c.spec.restart,
                    "restarts": c.restarts,
                    "last_exit": c.last_exit,
                })
            })
            .collect();
        json!({
            "strategy": self.spec.strategy,
            "intensity": self.spec.intensity,
            "period_s": self.spec.period_s,
            "children": children,
        })
        .to_string()
    }
}

impl Body for SupervisorBody {
    fn handle<'a>(
        &'a mut self,
        _entry: &'a Arc<Entry>,
        letter: &'a Letter,
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            match &letter.kind {
                Kind::Exit { reason: why } => {
                    let from = letter.from;
                    if let Some(i) = self
                        .children
                        .iter()
                        .position(|c| c.pid.is_some() && c.pid == from)
                    {
                        self.child_exited(i, why).await?;
                    } else if from == Some(self.me.pid) || (from.is_some() && from == self.parent) {
                        // Its parent's exit, or an exit signal sent to it
                        // from outside (`wbx.toml` changed): it stops its
                        // children and exits.
                        self.stop_children(0..self.children.len()).await;
                        return Err(why.clone());
                    }
                    Ok(None)
                }
                // A call asks which children it has.
                Kind::Call => Ok(Some(self.children_json())),
                Kind::Cast | Kind::Down { .. } => Ok(None),
            }
        })
    }

    fn inspect(&mut self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move { Some(self.children_json()) })
    }

    fn terminate<'a>(&'a mut self, _entry: &'a Arc<Entry>, _why: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.stop_children(0..self.children.len()).await;
        })
    }
}

/// Stops `pid` with `shutdown`, and kills it when it has not stopped after
/// the grace period.
async fn stop(system: &System, me: &Entry, pid: Pid) {
    system.table.unlink(me, pid);
    let Some(child) = system.table.get(pid) else {
        return;
    };
    system.table.signal(me.pid, &child, reason::SHUTDOWN);
    if tokio::time::timeout(SHUTDOWN_GRACE, child.wait_exit())
        .await
        .is_err()
    {
        system.table.signal(me.pid, &child, reason::KILL);
        child.wait_exit().await;
    }
}

/// A spec's own mistakes: ids repeated, children naming neither or both.
pub fn check(spec: &SupervisorSpec) -> Result<(), String> {
    let mut ids = std::collections::BTreeSet::new();
    for child in &spec.children {
        if !ids.insert(child.id.as_str()) {
            return Err(format!("two children have the id '{}'", child.id));
        }
        child.spawn_args()?;
        if let Some(nested) = &child.supervisor {
            check(nested)?;
        }
    }
    if spec.period_s == 0 {
        return Err("period-s must be at least 1".to_owned());
    }
    Ok(())
}
