//! The actors model's tests, in one binary (each test binary links the
//! whole engine): processes and messages, links and monitors, isolation
//! and fairness, supervisors, and hot swap, against the real `probe`
//! guest actor.

#[path = "../../../tests/support/mod.rs"]
mod support;

mod isolation;
mod links;
mod processes;
mod scenario;
mod supervisors;
mod swap;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use wbx_actors::ActorRuntime;
use wbx_actors::kinds::ACTOR;
use wbx_actors::settings::settings;
use wbx_core::capability::Capabilities;
use wbx_core::project::{Manifest, ModuleDecl};
use wbx_core::{Catalog, Engine, Limits};

use crate::support::{engine_of, guest};

/// Actor modules loaded under their names (each from a test guest), with
/// `toml` as `wbx.toml`, its boot trees started.
pub struct Actors {
    _dir: TempDir,
    pub engine: Arc<Engine>,
    pub runtime: Arc<ActorRuntime>,
}

pub async fn actors(modules: &[(&str, &str)], toml: &str) -> Actors {
    actors_with(modules, toml, Limits::default()).await
}

pub async fn actors_with(modules: &[(&str, &str)], toml: &str, limits: Limits) -> Actors {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(engine_of(
        dir.path(),
        limits,
        Catalog::new(wbx_actors::kinds::KINDS.to_vec()),
    ));
    let mut decls = Vec::new();
    for (name, g) in modules {
        let path = guest(g);
        engine.load_file(name, ACTOR, "0.1.0", &path).unwrap();
        decls.push(ModuleDecl::prebuilt(name, ACTOR, None, path));
    }
    let manifest = Manifest::parse(toml, &dir.path().join("wbx.toml"), &["supervisors"]).unwrap();
    let names: Vec<String> = modules.iter().map(|(n, _)| n.to_string()).collect();
    let runtime = ActorRuntime::new(
        engine.clone(),
        Arc::new(Capabilities::default()),
        &decls,
        settings(&manifest, &names).unwrap(),
    );
    runtime.converge().await;
    Actors {
        _dir: dir,
        engine,
        runtime,
    }
}

impl Actors {
    /// Spawns a process of `module` with `args`, optionally registered.
    pub async fn spawn(&self, module: &str, args: Value, name: Option<&str>) -> String {
        self.runtime
            .spawn(module, &args.to_string(), name.map(str::to_owned))
            .await
            .unwrap()
            .to_string()
    }

    /// Calls `target` with `message`, the reply parsed.
    pub async fn call(&self, target: &str, message: Value) -> Value {
        let reply = self
            .runtime
            .call(target, &message.to_string(), Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("calling {target} with {message}: {e}"));
        serde_json::from_str(&reply).unwrap()
    }

    pub fn send(&self, target: &str, message: Value) {
        self.runtime
            .send(target, &message.to_string())
            .unwrap_or_else(|e| panic!("sending {message} to {target}: {e}"));
    }

    /// The probe's whole state.
    pub async fn state(&self, target: &str) -> Value {
        self.call(target, json!({"op": "get"})).await
    }

    pub fn alive(&self, target: &str) -> bool {
        self.runtime.system().table.resolve(target).is_some()
    }

    /// `target`'s row of `wbx ps`.
    pub fn row(&self, target: &str) -> Option<wbx_actors::info::ProcessInfo> {
        let pid = self.runtime.system().table.resolve(target)?.pid.to_string();
        self.runtime.processes().into_iter().find(|p| p.pid == pid)
    }
}

/// Waits for the exit observations of `pids`, in any order (an exit a
/// link caused may be published before the exit that caused it), and
/// returns their reasons in the order of `pids`.
pub async fn exit_reasons(
    subscription: &mut wbx_core::observe::Subscription,
    pids: &[&str],
) -> Vec<String> {
    let mut reasons: Vec<Option<String>> = vec![None; pids.len()];
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while reasons.iter().any(Option::is_none) {
            let Ok(observation) = subscription.recv().await else {
                continue;
            };
            if let Some(wbx_actors::ActorObservation::Exited { pid, reason, .. }) =
                observation.model::<wbx_actors::ActorObservation>()
                && let Some(i) = pids.iter().position(|p| p == pid)
            {
                reasons[i] = Some(reason.clone());
            }
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "no exit of all of {pids:?} within 20 s: {reasons:?}"
    );
    reasons.into_iter().flatten().collect()
}

/// Waits for the exit observation of `pid` on `subscription` and returns
/// its reason.
pub async fn exit_reason(subscription: &mut wbx_core::observe::Subscription, pid: &str) -> String {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let Ok(observation) = subscription.recv().await else {
                continue;
            };
            if let Some(wbx_actors::ActorObservation::Exited { pid: p, reason, .. }) =
                observation.model::<wbx_actors::ActorObservation>()
                && p == pid
            {
                return reason.clone();
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no exit of {pid} within 20 s"))
}
