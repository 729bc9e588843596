//! [`ActorRuntime`]: the actors model running over one engine — the
//! [`System`] of processes, the supervision trees `wbx.toml` starts at
//! boot, and what the views and the control API ask of them.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wbx_core::api::Closing;
use wbx_core::capability::Capabilities;
use wbx_core::project::{Manifest, ModuleDecl};
use wbx_core::sync::{lock, write};
use wbx_core::{BoxFuture, Engine, ModuleState, Runtime};

use crate::info::{ProcessDetail, ProcessInfo, TreeNode};
use crate::message::{ActorError, reason};
use crate::observe::ActorObservation;
use crate::pid::Pid;
use crate::settings::{ActorSettings, actor_names};
use crate::spec::{SUPERVISOR, SupervisorSpec};
use crate::system::{SpawnRequest, System};
use crate::table::DeadLetters;

/// How long opening a process waits for its `inspect` (it answers at its
/// next message boundary).
const INSPECT_WAIT: Duration = Duration::from_secs(1);

/// A boot tree: its root running, or not started (its observation said why).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tree {
    Running(Pid),
    Failed,
}

pub struct ActorRuntime {
    system: Arc<System>,
    actors: Mutex<Vec<String>>,
    trees: tokio::sync::Mutex<BTreeMap<String, (SupervisorSpec, Tree)>>,
}

impl ActorRuntime {
    pub fn new(
        engine: Arc<Engine>,
        capabilities: Arc<Capabilities>,
        modules: &[ModuleDecl],
        settings: ActorSettings,
    ) -> Arc<Self> {
        Arc::new(ActorRuntime {
            system: System::new(engine, capabilities, settings),
            actors: Mutex::new(actor_names(modules)),
            trees: tokio::sync::Mutex::default(),
        })
    }

    pub fn system(&self) -> &Arc<System> {
        &self.system
    }

    /// Every live process, by pid.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        self.system
            .table
            .entries()
            .iter()
            .map(|e| ProcessInfo::of(e))
            .collect()
    }

    /// The supervision trees (and every unsupervised process, as a root).
    pub fn trees(&self) -> Vec<TreeNode> {
        TreeNode::trees(&self.processes())
    }

    /// One process, with its state when it exports `inspect` and answers
    /// within a second.
    pub async fn detail(&self, target: &str) -> Result<ProcessDetail, ActorError> {
        let entry = self.resolve(target)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        entry.lock().inspections.push(tx);
        entry.attention.notify_one();
        let state = tokio::time::timeout(INSPECT_WAIT, rx)
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let logs = self.system.engine.logs(&entry.module);
        Ok(ProcessDetail::of(&entry, state, logs))
    }

    /// Sends `message` (JSON) to `target` from outside.
    pub fn send(&self, target: &str, message: &str) -> Result<(), ActorError> {
        self.system.send(None, target, json(message)?)
    }

    /// Calls `target` with `message` (JSON) from outside and waits for the
    /// reply.
    pub async fn call(
        &self,
        target: &str,
        message: &str,
        timeout: Duration,
    ) -> Result<String, ActorError> {
        self.system
            .call(None, target, json(message)?, timeout)
            .await
    }

    /// Kills `target` (it cannot trap it): its supervisor, if any, decides
    /// what follows.
    pub fn kill(&self, target: &str) -> Result<Pid, ActorError> {
        let pid = self.resolve(target)?.pid;
        self.system.exit(None, &pid.to_string(), reason::KILL)?;
        Ok(pid)
    }

    /// Spawns an unsupervised process of `module` from outside.
    pub async fn spawn(
        &self,
        module: &str,
        args: &str,
        register: Option<String>,
    ) -> Result<Pid, ActorError> {
        let spawned = self
            .system
            .spawn(SpawnRequest {
                module: module.to_owned(),
                args: json(args)?,
                register,
                ..SpawnRequest::default()
            })
            .await?;
        Ok(spawned.pid)
    }

    pub fn dead_letters(&self) -> DeadLetters {
        self.system.table.dead_letters()
    }

    fn resolve(&self, target: &str) -> Result<Arc<crate::table::Entry>, ActorError> {
        self.system
            .table
            .resolve(target)
            .ok_or_else(|| ActorError::NoSuchProcess(target.to_owned()))
    }

    /// Starts the trees of `settings` that are not running as they are
    /// declared, and stops those no longer declared or declared otherwise
    /// ([`Runtime::start`] does it in the background). A tree that could
    /// not start is tried again; one whose root exited (killed, or over
    /// its restart intensity) is started again only when `wbx.toml` is
    /// applied ([`Runtime::apply`]), not at every swap.
    pub async fn converge(&self) {
        self.converge_trees(false).await;
    }

    async fn converge_trees(&self, restart_exited: bool) {
        let wanted = self.system.settings().trees;
        let mut trees = self.trees.lock().await;
        let table = &self.system.table;
        let stale: Vec<String> = trees
            .iter()
            .filter(|(name, (spec, tree))| {
                wanted.get(*name) != Some(spec)
                    || match tree {
                        Tree::Failed => true,
                        Tree::Running(pid) => restart_exited && table.get(*pid).is_none(),
                    }
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some((_, Tree::Running(pid))) = trees.remove(&name)
                && let Some(root) = self.system.table.get(pid)
            {
                let _ = self.system.exit(None, &pid.to_string(), reason::SHUTDOWN);
                root.wait_exit().await;
            }
        }
        for (name, spec) in wanted {
            if trees.contains_key(&name) {
                continue;
            }
            let started = self
                .system
                .spawn(SpawnRequest {
                    module: SUPERVISOR.to_owned(),
                    args: serde_json::to_string(&spec).unwrap_or_default(),
                    register: Some(name.clone()),
                    ..SpawnRequest::default()
                })
                .await;
            let tree = match started {
                Ok(spawned) => Tree::Running(spawned.pid),
                Err(e) => {
                    ActorObservation::TreeFailed {
                        tree: name.clone(),
                        error: e.to_string(),
                    }
                    .publish(&self.system.engine);
                    Tree::Failed
                }
            };
            trees.insert(name, (spec, tree));
        }
    }
}

/// `message` when it is JSON; an error naming the problem when not.
fn json(message: &str) -> Result<String, ActorError> {
    serde_json::from_str::<serde_json::Value>(message)
        .map(|_| message.to_owned())
        .map_err(|e| ActorError::Refused(format!("the message is not JSON: {e}")))
}

impl Runtime for ActorRuntime {
    fn start(self: Arc<Self>) {
        tokio::spawn(async move { self.converge().await });
    }

    /// Running processes move to the new version at their next message
    /// boundary on their own; a boot tree that could not start (its module
    /// had no version yet) is tried again.
    fn module_swapped(self: Arc<Self>, _module: &str) {
        tokio::spawn(async move { self.converge().await });
    }

    fn modules_changed(&self, modules: &[ModuleDecl]) {
        *lock(&self.actors) = actor_names(modules);
    }

    fn apply(self: Arc<Self>, manifest: &Manifest) -> BoxFuture<'static, anyhow::Result<()>> {
        let actors = lock(&self.actors).clone();
        let settings = crate::settings::settings(manifest, &actors);
        Box::pin(async move {
            let settings = settings?;
            for entry in self.system.table.entries() {
                if entry.module != SUPERVISOR {
                    entry.lock().capacity = settings.module(&entry.module).mailbox;
                }
            }
            *write(&self.system.settings) = settings;
            self.converge_trees(true).await;
            Ok(())
        })
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move { self.system.stop_all().await })
    }

    fn routes(self: Arc<Self>, _closing: Closing) -> axum::Router {
        crate::api::routes(self)
    }

    fn states(&self) -> Vec<ModuleState> {
        let processes = self.processes();
        lock(&self.actors)
            .iter()
            .map(|module| {
                let n = processes.iter().filter(|p| &p.module == module).count();
                ModuleState {
                    module: module.clone(),
                    state: format!("{n} process{}", if n == 1 { "" } else { "es" }),
                    stopped: None,
                    retrying: None,
                }
            })
            .collect()
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
