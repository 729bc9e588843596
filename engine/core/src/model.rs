//! A runtime model, as the core sees it: what a model crate implements so the
//! assembly can register it, and the core's loops (boot, the control API,
//! the dev loop, `wbx bench`, `wbx doctor`) can iterate models without
//! naming one.
//!
//! A model has two faces:
//! - [`Model`], the model itself: its kinds and their worlds, the tables of
//!   `wbx.toml` it reads and checks, its bench scenarios, and how to open
//!   its runtime over a project;
//! - [`Runtime`], the model running over one engine: started, told of each
//!   module swapped in, given new settings, asked for its routes and for the
//!   state of its modules, and stopped.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Result;

use crate::api::Closing;
use crate::bench::BenchGroup;
use crate::capability::Capabilities;
use crate::doctor::Check;
use crate::engine::Engine;
use crate::kind::{Catalog, KindSpec, ModuleKind};
use crate::project::{Manifest, ManifestError, ModuleDecl, StateLayout};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A runtime model: events, mesh, actors, pipelines.
pub trait Model: Send + Sync + 'static {
    /// Its name, as messages and the docs say it (`events`).
    fn name(&self) -> &'static str;

    /// The kinds of module it runs (or will), each with its world.
    fn kinds(&self) -> &'static [KindSpec];

    /// The top-level tables of `wbx.toml` it reads (`effects`).
    fn sections(&self) -> &'static [&'static str] {
        &[]
    }

    /// Reads its tables of `manifest` strictly, and the `[modules.NAME]`
    /// table of each module of its kinds (`Manifest::module_table`), and
    /// checks them against the project's modules: a located error for a bad
    /// key or value, and one line per problem with the modules (a name that
    /// is not a module of the right kind).
    fn check(
        &self,
        manifest: &Manifest,
        modules: &[ModuleDecl],
    ) -> Result<Vec<String>, ManifestError> {
        let _ = (manifest, modules);
        Ok(Vec::new())
    }

    /// Opens its runtime over a project's engine and state; nothing runs
    /// until [`Runtime::start`]. Capabilities it provides to other models
    /// go into `context.capabilities` here.
    fn open(&self, context: &ModelContext) -> Result<Arc<dyn Runtime>>;

    /// Its `wbx bench` scenarios.
    fn bench(&self) -> Vec<BenchGroup> {
        Vec::new()
    }

    /// Its own `wbx doctor` checks of a project whose `wbx.toml` reads
    /// (what it connects to, say), each with its fix when it fails.
    fn doctor(&self, manifest: &Manifest, state: &StateLayout) -> Vec<Check> {
        let _ = (manifest, state);
        Vec::new()
    }
}

/// What a model's runtime is opened with.
pub struct ModelContext {
    pub engine: Arc<Engine>,
    pub state: StateLayout,
    pub manifest: Manifest,
    /// The project's modules as declared (kind, namespace, where built).
    pub modules: Vec<ModuleDecl>,
    /// Cross-model capabilities: provided by some models, used by others.
    pub capabilities: Arc<Capabilities>,
}

/// The state of one module a runtime runs, for views: whether it serves,
/// and why not when it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleState {
    pub module: String,
    /// What it is doing, in the model's words (`live`, `catching-up`, …).
    pub state: String,
    /// Why it stopped: it does not run until a new version (or a restart).
    pub stopped: Option<String>,
    /// What it is retrying meanwhile, while it still runs.
    pub retrying: Option<String>,
}

/// A model running over one engine.
pub trait Runtime: Send + Sync + 'static {
    /// Starts the tasks of every loaded module of the model's kinds.
    fn start(self: Arc<Self>);

    /// A module of one of the model's kinds has a new active version (its
    /// first, when its first build failed): start or move on to it. Only
    /// the runtime of the kind's model is told.
    fn module_swapped(self: Arc<Self>, module: &str);

    /// The project's modules were read again (a crate added or removed, a
    /// prebuilt module declared): what the runtime keeps of them.
    fn modules_changed(&self, modules: &[ModuleDecl]) {
        let _ = modules;
    }

    /// `wbx.toml` changed and passed every model's check: apply this
    /// model's tables.
    fn apply(self: Arc<Self>, manifest: &Manifest) -> BoxFuture<'static, Result<()>>;

    /// Stops every task after its current unit of work, and waits for them.
    fn shutdown(self: Arc<Self>) -> BoxFuture<'static, ()>;

    /// Its control-API routes, mounted beside every other model's; a
    /// long-lived response ends when `closing` says so.
    fn routes(self: Arc<Self>, closing: Closing) -> axum::Router {
        let _ = closing;
        axum::Router::new()
    }

    /// The state of each module it runs.
    fn states(&self) -> Vec<ModuleState> {
        Vec::new()
    }

    /// The runtime as `Any`, for code that knows the model
    /// ([`Runtimes::get`]).
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// The registered models, in registration order.
#[derive(Clone, Default)]
pub struct Models {
    models: Arc<Vec<Arc<dyn Model>>>,
    /// Kinds projects may declare that no registered model runs yet.
    planned: &'static [KindSpec],
}

impl Models {
    pub fn new(models: Vec<Arc<dyn Model>>, planned: &'static [KindSpec]) -> Self {
        Models {
            models: Arc::new(models),
            planned,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Model>> {
        self.models.iter()
    }

    /// Every kind: the models' own, then the planned ones.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(
            self.models
                .iter()
                .flat_map(|m| m.kinds().iter().copied())
                .chain(self.planned.iter().copied())
                .collect(),
        )
    }

    /// The top-level tables of `wbx.toml` some model reads.
    pub fn sections(&self) -> Vec<&'static str> {
        self.models
            .iter()
            .flat_map(|m| m.sections().iter().copied())
            .collect()
    }

    /// Every model's own `wbx doctor` checks of a project.
    pub fn doctor(&self, manifest: &Manifest, state: &StateLayout) -> Vec<Check> {
        self.models
            .iter()
            .flat_map(|m| m.doctor(manifest, state))
            .collect()
    }

    /// The core's check of the `[modules.NAME]` names and every model's
    /// check of `manifest`: the first located error, or the problems with
    /// the modules.
    pub fn check(
        &self,
        manifest: &Manifest,
        modules: &[ModuleDecl],
    ) -> Result<Vec<String>, ManifestError> {
        manifest.check_module_names(modules)?;
        let mut problems = Vec::new();
        for model in self.models.iter() {
            problems.extend(model.check(manifest, modules)?);
        }
        Ok(problems)
    }
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.models.iter().map(|m| m.name()))
            .finish()
    }
}

/// The runtimes of one engine, one per model, in registration order.
#[derive(Clone, Default)]
pub struct Runtimes {
    runtimes: Vec<(Arc<dyn Model>, Arc<dyn Runtime>)>,
}

impl Runtimes {
    /// Opens every model's runtime over `engine`.
    pub fn open(
        models: &Models,
        engine: &Arc<Engine>,
        state: &StateLayout,
        manifest: &Manifest,
        modules: &[ModuleDecl],
    ) -> Result<Runtimes> {
        let context = ModelContext {
            engine: engine.clone(),
            state: state.clone(),
            manifest: manifest.clone(),
            modules: modules.to_vec(),
            capabilities: Arc::default(),
        };
        let mut runtimes = Vec::new();
        for model in models.iter() {
            let runtime = model
                .open(&context)
                .map_err(|e| e.context(format!("cannot start the {} model", model.name())))?;
            runtimes.push((model.clone(), runtime));
        }
        Ok(Runtimes { runtimes })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Runtime>> {
        self.runtimes.iter().map(|(_, runtime)| runtime)
    }

    /// The runtime of type `R` (a model's own), when that model is registered.
    pub fn get<R: Runtime>(&self) -> Option<Arc<R>> {
        self.iter()
            .find_map(|runtime| runtime.clone().as_any().downcast::<R>().ok())
    }

    pub fn start(&self) {
        for runtime in self.iter() {
            runtime.clone().start();
        }
    }

    /// Tells the runtime of the model of `kind` that `module` has a new version.
    pub fn module_swapped(&self, module: &str, kind: ModuleKind) {
        for (model, runtime) in &self.runtimes {
            if model.kinds().iter().any(|spec| spec.kind == kind) {
                runtime.clone().module_swapped(module);
            }
        }
    }

    /// Tells every model the project's modules were read again.
    pub fn modules_changed(&self, modules: &[ModuleDecl]) {
        for runtime in self.iter() {
            runtime.modules_changed(modules);
        }
    }

    /// Applies new settings in every model, stopping at the first failure.
    pub async fn apply(&self, manifest: &Manifest) -> Result<()> {
        for runtime in self.iter() {
            runtime.clone().apply(manifest).await?;
        }
        Ok(())
    }

    pub async fn shutdown(&self) {
        for runtime in self.iter() {
            runtime.clone().shutdown().await;
        }
    }

    /// Every model's routes, in one router.
    pub fn routes(&self, closing: &Closing) -> axum::Router {
        self.iter().fold(axum::Router::new(), |router, runtime| {
            router.merge(runtime.clone().routes(closing.clone()))
        })
    }

    /// Every module's state, over all models.
    pub fn states(&self) -> Vec<ModuleState> {
        self.iter().flat_map(|runtime| runtime.states()).collect()
    }
}
