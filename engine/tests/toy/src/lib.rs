//! `wbx-toy`: a runtime model made only to prove that a model plugs into the
//! engine through the registration point alone. It has the shape every
//! model crate has, at its smallest:
//!
//! - a kind, `toy`, whose world (`wit/toy.wit`, `wbx:toy/toy-module`)
//!   exports `ping: func(text) -> string`;
//! - its bindings and typed instance ([`ToyInstance`]);
//! - a table of `wbx.toml`, `[toy] greeting = "…"`, and a key of its
//!   modules' `[modules.NAME]` tables, `loud = true`, read strictly;
//! - a runtime that counts the swaps it is told of and mounts one route,
//!   `GET /api/toy/{module}/ping?text=…` → `{"answer": "<greeting>: <ping>"}`;
//! - an observation, `ToyObservation::Pinged`;
//! - a bench scenario, `toy-ping`.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Result;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wasmtime::component::{InstancePre, Linker};
use wbx_core::api::{ApiError, ApiResult, Closing};
use wbx_core::bench::{BenchFuture, BenchGroup, BenchRun, measurement, median, per_second};
use wbx_core::observe::{Channel, ModelEvent, ModelObservation};
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};
use wbx_core::{
    BoxFuture, Catalog, Engine, EngineConfig, Guest, GuestError, HostState, InstanceSetup,
    KindSpec, Model, ModelContext, ModuleKind, Observation, Runtime, World, WorldPre,
};

mod bindings {
    wasmtime::component::bindgen!({
        world: "toy-module",
        path: "wit",
        exports: { default: async },
    });
}

pub const TOY: ModuleKind = ModuleKind::new("toy");

pub const KINDS: [KindSpec; 1] = [KindSpec::runs(
    TOY,
    World::of::<bindings::ToyModulePre<HostState>>(
        "wbx:toy/toy-module",
        "wbx:toy/toy@0.1.0",
        link_nothing,
    ),
)];

fn link_nothing(_: &mut Linker<HostState>) -> Result<()> {
    Ok(())
}

impl WorldPre for bindings::ToyModulePre<HostState> {
    const KIND: ModuleKind = TOY;
    type Bindings = bindings::ToyModule;

    fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        bindings::ToyModulePre::new(pre)
    }

    fn instantiate(
        &self,
        store: &mut wasmtime::Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<bindings::ToyModule>> + Send {
        self.instantiate_async(store)
    }
}

/// An instance of a toy module.
pub struct ToyInstance(Guest<bindings::ToyModule>);

impl ToyInstance {
    pub async fn new(engine: &Engine, name: &str) -> Result<Self> {
        let setup = InstanceSetup::default();
        let guest = engine
            .instantiate::<bindings::ToyModulePre<_>>(name, setup)
            .await?;
        Ok(ToyInstance(guest))
    }

    pub async fn ping(&mut self, text: &str) -> Result<String, GuestError> {
        (self.0)
            .call(|b, s| b.wbx_toy_toy().call_ping(s, text))
            .await
    }
}

/// `[toy]` of `wbx.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToySection {
    pub greeting: Option<String>,
}

/// `[modules.NAME]` of a toy module.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyModuleSettings {
    pub loud: Option<bool>,
}

/// What the toy model publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ToyObservation {
    Pinged { module: String, answer: String },
}

impl ModelEvent for ToyObservation {
    fn model(&self) -> &'static str {
        "toy"
    }

    fn channel(&self) -> Channel {
        match self {
            ToyObservation::Pinged { .. } => Channel::Stream,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

pub struct ToyModel;

impl Model for ToyModel {
    fn name(&self) -> &'static str {
        "toy"
    }

    fn kinds(&self) -> &'static [KindSpec] {
        &KINDS
    }

    fn sections(&self) -> &'static [&'static str] {
        &["toy"]
    }

    fn check(
        &self,
        manifest: &Manifest,
        modules: &[ModuleDecl],
    ) -> Result<Vec<String>, ManifestError> {
        manifest.section::<ToySection>("toy")?;
        for module in modules.iter().filter(|m| m.kind == TOY) {
            manifest.module_table::<ToyModuleSettings>(&module.name)?;
        }
        Ok(Vec::new())
    }

    fn open(&self, context: &ModelContext) -> Result<Arc<dyn Runtime>> {
        let section: ToySection = context.manifest.section("toy")?;
        Ok(Arc::new(ToyRuntime {
            engine: context.engine.clone(),
            greeting: std::sync::Mutex::new(section.greeting.unwrap_or_else(|| "pong".into())),
            swaps: AtomicU64::new(0),
        }))
    }

    fn bench(&self) -> Vec<BenchGroup> {
        vec![BenchGroup {
            names: &["toy-ping"],
            run: bench_ping,
        }]
    }
}

/// The toy model over one engine.
pub struct ToyRuntime {
    engine: Arc<Engine>,
    greeting: std::sync::Mutex<String>,
    swaps: AtomicU64,
}

impl ToyRuntime {
    /// How many swaps of toy modules it was told of.
    pub fn swaps(&self) -> u64 {
        self.swaps.load(Ordering::SeqCst)
    }

    /// Pings `module` and greets with its answer.
    pub async fn ping(&self, module: &str, text: &str) -> Result<String> {
        let answer = ToyInstance::new(&self.engine, module)
            .await?
            .ping(text)
            .await?;
        let greeting = wbx_core::sync::lock(&self.greeting).clone();
        let answer = format!("{greeting}: {answer}");
        let observation = ToyObservation::Pinged {
            module: module.to_owned(),
            answer: answer.clone(),
        };
        self.engine
            .observer()
            .publish(Observation::Model(ModelObservation::new(observation)));
        Ok(answer)
    }
}

impl Runtime for ToyRuntime {
    fn start(self: Arc<Self>) {}

    fn module_swapped(self: Arc<Self>, _module: &str) {
        self.swaps.fetch_add(1, Ordering::SeqCst);
    }

    fn apply(self: Arc<Self>, manifest: &Manifest) -> BoxFuture<'static, Result<()>> {
        let section = manifest.section::<ToySection>("toy");
        Box::pin(async move {
            *wbx_core::sync::lock(&self.greeting) =
                section?.greeting.unwrap_or_else(|| "pong".into());
            Ok(())
        })
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }

    fn routes(self: Arc<Self>, _closing: Closing) -> Router {
        Router::new()
            .route("/api/toy/{module}/ping", get(ping_route))
            .with_state(self)
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

async fn ping_route(
    State(runtime): State<Arc<ToyRuntime>>,
    Path(module): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let text = params.get("text").cloned().unwrap_or_default();
    let answer = runtime
        .ping(&module, &text)
        .await
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    Ok(Json(serde_json::json!({ "answer": answer })))
}

/// Pings/s through a fresh instance each, against instantiating alone.
fn bench_ping(run: BenchRun<'_>) -> BenchFuture<'_> {
    Box::pin(async move {
        let engine = Engine::new(EngineConfig {
            kinds: Catalog::new(KINDS.to_vec()),
            ..EngineConfig::default()
        })?;
        engine.load("toy", TOY, "0.1.0", run.guests.get("toy")?)?;
        let n = run.options.size(200.0);
        let reps = run.options.reps();
        let value = median(reps, || async {
            let start = Instant::now();
            for _ in 0..n {
                ToyInstance::new(&engine, "toy").await?.ping("x").await?;
            }
            Ok(per_second(n, start.elapsed()))
        })
        .await?;
        let baseline = median(reps, || async {
            let start = Instant::now();
            for _ in 0..n {
                ToyInstance::new(&engine, "toy").await?;
            }
            Ok(per_second(n, start.elapsed()))
        })
        .await?;
        (run.report)(&measurement("toy-ping", "pings/s", value, baseline));
        Ok(())
    })
}
