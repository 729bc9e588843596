//! The pipelines model's tests, in one binary (each test binary links the
//! whole engine), against real guest stages: `numbers` (a source), `stage`
//! and `stage-v2` (a stateful processor, and its next version), `collect`
//! (a sink). What reaches a stage is read with a tap on its input edge.

#[path = "../../../tests/support/mod.rs"]
mod support;

mod failures;
mod flows;
mod policies;
mod sinks;
mod swap;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use wbx_core::capability::Capabilities;
use wbx_core::project::{Manifest, ModuleDecl, StateLayout};
use wbx_core::{Catalog, Engine, Limits, ModuleKind, Observation, Runtime, Tier};
use wbx_pipelines::info::{EdgeInfo, ElementView, FlowInfo, FlowStatus, StageInfo};
use wbx_pipelines::kinds::{PROCESSOR, SINK, SOURCE};
use wbx_pipelines::{FlowObservation, PipelineRuntime};

use crate::support::{engine_of, guest};

/// How long any awaited observation may take before a test fails.
const PATIENCE: Duration = Duration::from_secs(90);

pub struct Flows {
    pub dir: TempDir,
    pub engine: Arc<Engine>,
    pub runtime: Arc<PipelineRuntime>,
    observations: wbx_core::observe::Subscription,
}

/// The kind of a test guest.
fn kind_of(guest: &str) -> ModuleKind {
    match guest {
        "numbers" => SOURCE,
        "collect" => SINK,
        _ => PROCESSOR,
    }
}

/// Modules `(name, guest)` loaded under their names, and the flows of
/// `toml` (as `wbx.toml`); nothing starts until [`Flows::start`].
pub async fn flows(modules: &[(&str, &str)], toml: &str) -> Flows {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(engine_of(
        dir.path(),
        Limits::default(),
        Catalog::new(wbx_pipelines::kinds::KINDS.to_vec()),
    ));
    let mut decls = Vec::new();
    for (name, g) in modules {
        let path = guest(g);
        engine.load_file(name, kind_of(g), "0.1.0", &path).unwrap();
        decls.push(ModuleDecl::prebuilt(name, kind_of(g), None, path));
    }
    let manifest = Manifest::parse(
        toml,
        &dir.path().join("wbx.toml"),
        wbx_pipelines::settings::SECTIONS,
    )
    .unwrap();
    let settings = wbx_pipelines::settings::settings(&manifest, &decls).unwrap();
    let observations = engine.observer().subscribe();
    let runtime = PipelineRuntime::new(
        engine.clone(),
        Arc::new(Capabilities::default()),
        StateLayout::new(dir.path().join(".wbx")),
        &decls,
        settings,
    );
    Flows {
        dir,
        engine,
        runtime,
        observations,
    }
}

/// What a tap saw. Reading it first takes in everything the tap has sent
/// so far, so what a test reads after a flow finished is complete: an
/// element passes its edge (and the tap) before the flow can finish. A
/// task also takes elements in as they come, so the tap never skips any.
#[derive(Clone)]
pub struct Seen(Arc<Mutex<Collected>>);

struct Collected {
    tap: broadcast::Receiver<ElementView>,
    elements: Vec<ElementView>,
    skipped: u64,
}

impl Seen {
    fn new(tap: broadcast::Receiver<ElementView>) -> Seen {
        let seen = Seen(Arc::new(Mutex::new(Collected {
            tap,
            elements: Vec::new(),
            skipped: 0,
        })));
        let collecting = Arc::downgrade(&seen.0);
        tokio::spawn(async move {
            while let Some(collected) = collecting.upgrade() {
                drop(Seen(collected).take_in());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        seen
    }

    fn take_in(&self) -> std::sync::MutexGuard<'_, Collected> {
        let mut collected = self.0.lock().unwrap();
        loop {
            match collected.tap.try_recv() {
                Ok(element) => collected.elements.push(element),
                Err(TryRecvError::Lagged(n)) => collected.skipped += n,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        assert_eq!(collected.skipped, 0, "the tap skipped elements");
        collected
    }

    pub fn all(&self) -> Vec<ElementView> {
        self.take_in().elements.clone()
    }

    pub fn count(&self) -> usize {
        self.take_in().elements.len()
    }

    /// The `n` of each element's JSON payload, in arrival order.
    pub fn numbers(&self) -> Vec<u64> {
        self.all().iter().map(number).collect()
    }
}

/// The `n` of an element's JSON payload.
pub fn number(element: &ElementView) -> u64 {
    element
        .payload
        .as_ref()
        .and_then(|p| p["n"].as_u64())
        .unwrap_or_else(|| panic!("an element without a number: {element:?}"))
}

impl Flows {
    /// Collects every element passing `from` → `to` from now on.
    pub fn tap(&self, flow: &str, from: &str, to: &str) -> Seen {
        Seen::new(self.runtime.tap(flow, from, None, to).unwrap())
    }

    pub async fn start(&self, flow: &str) {
        self.runtime.start_flow(flow).await.unwrap();
    }

    pub fn info(&self, flow: &str) -> FlowInfo {
        self.runtime.flow(flow).unwrap()
    }

    /// Waits until `flow`'s state satisfies `done`, and returns it.
    pub async fn wait(&self, flow: &str, what: &str, done: impl Fn(&FlowInfo) -> bool) -> FlowInfo {
        let start = Instant::now();
        loop {
            let info = self.info(flow);
            if done(&info) {
                return info;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "waited {PATIENCE:?} for {what}; the flow is {info:#?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn finished(&self, flow: &str) -> FlowInfo {
        self.wait(flow, "the flow to finish", |i| {
            i.status == FlowStatus::Finished
        })
        .await
    }

    /// Waits for `seen` to hold `n` elements.
    pub async fn seen(&self, flow: &str, seen: &Seen, n: usize) {
        self.wait(flow, &format!("{n} elements"), |_| seen.count() >= n)
            .await;
    }

    /// The next pipelines observation `pick` selects.
    pub async fn observed<T>(&mut self, pick: impl Fn(&FlowObservation) -> Option<T>) -> T {
        let wait = async {
            loop {
                match self.observations.recv().await {
                    Ok(Observation::Model(model)) => {
                        if let Some(found) = model.get::<FlowObservation>().and_then(&pick) {
                            return found;
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => panic!("the observation stream ended"),
                }
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .expect("the observation did not come")
    }

    /// Loads `guest` as the next version of `module` and tells the runtime.
    pub fn swap(&self, module: &str, guest_name: &str, version: &str) {
        self.swap_in(Tier::Cranelift, module, guest_name, version);
    }

    /// [`Flows::swap`] with `tier`'s code.
    pub fn swap_in(&self, tier: Tier, module: &str, guest_name: &str, version: &str) {
        let kind = kind_of(guest_name);
        support::swap_in(&self.engine, tier, module, kind, guest_name, version);
        self.runtime.clone().module_swapped(module);
    }

    pub async fn shutdown(self) {
        self.runtime.clone().shutdown().await;
    }
}

pub fn stage<'a>(info: &'a FlowInfo, name: &str) -> &'a StageInfo {
    info.stages
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no stage {name} in {info:#?}"))
}

pub fn edge<'a>(info: &'a FlowInfo, from: &str, to: &str) -> &'a EdgeInfo {
    info.edges
        .iter()
        .find(|e| e.from == from && e.to == to)
        .unwrap_or_else(|| panic!("no edge {from} → {to} in {info:#?}"))
}

/// The JSON payload of an element.
pub fn payload(element: &ElementView) -> &Value {
    element.payload.as_ref().expect("a JSON payload")
}
