//! [`Engine`]: the module registry over one wasmtime engine per code tier
//! ([`crate::tier`]: Cranelift always, Winch made when first used), each
//! with a linker per kind, the component cache, logs and the observation
//! stream.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow};
use wasmtime::component::Component;

use crate::cache::ComponentCache;
use crate::host_http::{Outgoing, RouteHttp};
use crate::host_state::{HostState, InstanceSetup};
use crate::instance::{Guest, WorldPre};
use crate::kind::{Catalog, ModuleKind};
use crate::limits::Limits;
use crate::logs::{Level, LogLine, LogSource, Logs};
use crate::observe::{Observation, Observer, Subscription};
use crate::registry::{LoadedModule, ModuleInfo, ModuleRegistry, ModuleVersion};
use crate::sync::{read, write};
use crate::tier::{Compiler, Tier};

/// A module's environment variables, shared by its instances.
type Env = Arc<[(String, String)]>;

/// What one load or swap did.
#[derive(Debug, Clone)]
pub struct SwapReport {
    pub version: ModuleVersion,
    /// The version it replaced; `None` for a first load.
    pub previous: Option<ModuleVersion>,
    pub compile: crate::observe::CompileReport,
    /// The atomic install itself.
    pub install: Duration,
    /// Why the module runs Cranelift code when Winch's was asked for.
    pub fallback: Option<String>,
}

/// How often the epoch advances: the granularity of deadlines and of yields.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Where the engine keeps state, what it allows guests, and the kinds it
/// knows (from the registered models).
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Compiled-component cache directory (`.wbx/cache`); `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Log file directory (`.wbx/logs`); `None` keeps logs in memory only.
    pub log_dir: Option<PathBuf>,
    pub limits: Limits,
    pub kinds: Catalog,
}

pub struct Engine {
    cranelift: Compiler,
    /// Made when first asked for; the error when it cannot be.
    winch: OnceLock<Result<Compiler, String>>,
    allocator: Allocator,
    kinds: Catalog,
    /// Where guests' requests to modules inside the engine go.
    router: RwLock<Option<Arc<dyn RouteHttp>>>,
    /// Each module's environment (`[modules.NAME] env` of `wbx.toml`).
    envs: RwLock<HashMap<String, Env>>,
    cache: ComponentCache,
    registry: ModuleRegistry,
    observer: Observer,
    logs: Arc<Logs>,
    limits: RwLock<Limits>,
}

/// How the engine gets the memories, tables and stacks of its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// Made for each instance and given back when it ends (copy-on-write
    /// images of the modules' data on Linux): no limit but memory.
    OnDemand,
    /// Slots for this many instances at once, reserved when the engine
    /// starts and reused, their first pages kept resident between uses;
    /// an instance past the last slot fails to start.
    Pooling { instances: u32 },
}

/// What a pooled instance's first pages kept resident may hold: a guest's
/// stack and the data it touches on every call.
const KEEP_RESIDENT: usize = 2 << 20;

impl Allocator {
    pub(crate) fn strategy(self, limits: &Limits) -> wasmtime::InstanceAllocationStrategy {
        let Allocator::Pooling { instances } = self else {
            return wasmtime::InstanceAllocationStrategy::OnDemand;
        };
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        // A component is a few core modules (its own, the adapters), each
        // with a memory or two and a table or two.
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(4))
            .total_memories(instances.saturating_mul(2))
            .total_tables(instances.saturating_mul(4))
            .total_stacks(instances)
            .max_memory_size(limits.memory_bytes)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(64 << 10);
        wasmtime::InstanceAllocationStrategy::Pooling(pool)
    }
}

impl Engine {
    pub fn new(config: EngineConfig) -> Result<Self> {
        Engine::with_allocator(config, Allocator::OnDemand)
    }

    /// [`Engine::new`] with instances from `allocator`.
    pub fn with_allocator(config: EngineConfig, allocator: Allocator) -> Result<Self> {
        let cranelift = Compiler::new(Tier::Cranelift, allocator, &config.limits, &config.kinds)?;
        for dir in [&config.cache_dir, &config.log_dir].into_iter().flatten() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let observer = Observer::default();
        Ok(Engine {
            logs: Arc::new(Logs::new(config.log_dir, observer.clone())),
            cache: ComponentCache::new(config.cache_dir),
            registry: ModuleRegistry::default(),
            observer,
            kinds: config.kinds,
            cranelift,
            winch: OnceLock::new(),
            allocator,
            router: RwLock::new(None),
            envs: RwLock::default(),
            limits: RwLock::new(config.limits),
        })
    }

    /// Loads the component at `path` as module `name` of `kind`; see [`Engine::load`].
    pub fn load_file(
        &self,
        name: &str,
        kind: ModuleKind,
        crate_version: &str,
        path: &Path,
    ) -> Result<ModuleVersion> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
        match bytes {
            Ok(bytes) => self.load(name, kind, crate_version, &bytes),
            Err(e) => Err(self.failed(name, kind, e)),
        }
    }

    /// Compiles (or takes from the cache) a component, checks it implements
    /// `kind`'s world, and makes it the active version of `name`. When `name`
    /// already runs, this is the swap: calls in flight finish on the old
    /// version, new instances get this one. On error the old version keeps
    /// serving and the error is recorded on the module.
    pub fn load(
        &self,
        name: &str,
        kind: ModuleKind,
        crate_version: &str,
        bytes: &[u8],
    ) -> Result<ModuleVersion> {
        self.swap(name, kind, crate_version, bytes)
            .map(|s| s.version)
    }

    /// [`Engine::load`], reporting what it replaced and how long each step took.
    pub fn swap(
        &self,
        name: &str,
        kind: ModuleKind,
        crate_version: &str,
        bytes: &[u8],
    ) -> Result<SwapReport> {
        self.swap_in(Tier::Cranelift, name, kind, crate_version, bytes)
    }

    /// [`Engine::swap`] with the tier that serves soonest: Cranelift when
    /// its code for `bytes` is in the cache, Winch otherwise (where it runs).
    pub fn swap_soonest(
        &self,
        name: &str,
        kind: ModuleKind,
        crate_version: &str,
        bytes: &[u8],
    ) -> Result<SwapReport> {
        let cached = self
            .cache
            .holds(&self.cranelift.wasm, Tier::Cranelift, bytes);
        let tier = if cached || !Tier::winch_available() {
            Tier::Cranelift
        } else {
            Tier::Winch
        };
        self.swap_in(tier, name, kind, crate_version, bytes)
    }

    /// [`Engine::swap`] with code compiled by `tier`. Where Winch cannot
    /// compile or link the component, it runs Cranelift's code, and the
    /// report's `fallback` says why.
    pub fn swap_in(
        &self,
        tier: Tier,
        name: &str,
        kind: ModuleKind,
        crate_version: &str,
        bytes: &[u8],
    ) -> Result<SwapReport> {
        let (module, compile, fallback) = match self.compile(tier, name, kind, crate_version, bytes)
        {
            Ok((module, compile)) => (module, compile, None),
            Err(error) if tier == Tier::Winch => {
                match self.compile(Tier::Cranelift, name, kind, crate_version, bytes) {
                    Ok((module, compile)) => (module, compile, Some(format!("{error:#}"))),
                    Err(e) => return Err(self.failed(name, kind, e)),
                }
            }
            Err(e) => return Err(self.failed(name, kind, e)),
        };
        let version = module.version.clone();
        let installing = Instant::now();
        let previous = match self.registry.install(module) {
            Ok(previous) => previous,
            Err(e) => return Err(self.failed(name, kind, e)),
        };
        let report = SwapReport {
            version: version.clone(),
            previous: previous.as_ref().map(|p| p.version.clone()),
            compile,
            install: installing.elapsed(),
            fallback,
        };
        self.observer.publish(match previous {
            Some(previous) => Observation::ModuleSwapped {
                module: name.to_owned(),
                from: previous.version.clone(),
                to: version.clone(),
                compile,
            },
            None => Observation::ModuleLoaded {
                module: name.to_owned(),
                kind,
                version: version.clone(),
                compile,
            },
        });
        Ok(report)
    }

    /// Moves `name` from Winch's code for `version` to Cranelift's, compiled
    /// now: the same version, so not a reload; new instances get the new
    /// code and those running finish on the old. Whether it moved: not
    /// (and nothing done) when `name` no longer runs `version` on Winch
    /// code.
    pub fn tier_up(&self, name: &str, version: &ModuleVersion, bytes: &[u8]) -> Result<bool> {
        let on_winch = |m: &LoadedModule| &m.version == version && m.tier == Tier::Winch;
        let Some(active) = self.registry.get(name).filter(|m| on_winch(m)) else {
            return Ok(false);
        };
        let (module, compile) = self
            .compile(
                Tier::Cranelift,
                name,
                active.kind,
                &version.crate_version,
                bytes,
            )
            .with_context(|| format!("cannot compile module '{name}' with Cranelift"))?;
        if !self.registry.replace_if(module, on_winch) {
            return Ok(false);
        }
        self.observer.publish(Observation::ModuleTieredUp {
            module: name.to_owned(),
            version: version.clone(),
            compile,
        });
        Ok(true)
    }

    /// [`Engine::tier_up`] of each module of `moves` (its name, the version
    /// on Winch's code, its bytes), one after another on a thread of their
    /// own, so that the swaps that asked for them are done at once and
    /// their compiles do not compete with each other for the CPU. Observed
    /// as `ModuleTieredUp` when a module moves, and in the module's log
    /// when Cranelift fails (Winch's code keeps serving then).
    pub fn tier_up_later(self: &Arc<Self>, moves: Vec<(String, ModuleVersion, Vec<u8>)>) {
        let names: Vec<String> = moves.iter().map(|(name, ..)| name.clone()).collect();
        let engine = self.clone();
        let spawned = std::thread::Builder::new()
            .name("wbx-tier-up".into())
            .spawn(move || {
                for (module, version, bytes) in moves {
                    if let Err(error) = engine.tier_up(&module, &version, &bytes) {
                        let text = format!("{error:#}; Winch's code of {version} keeps serving");
                        engine.logs.push(&module, Level::Warn, LogSource::Log, text);
                    }
                }
            });
        if let Err(error) = spawned {
            // Winch's code keeps serving each of them.
            for name in names {
                let text = format!("cannot start compiling with Cranelift: {error}");
                self.logs.push(&name, Level::Warn, LogSource::Log, text);
            }
        }
    }

    /// Compiles (or takes from the cache) `bytes` with `tier`'s compiler and
    /// links it as a module of `kind`.
    fn compile(
        &self,
        tier: Tier,
        name: &str,
        kind: ModuleKind,
        crate_version: &str,
        bytes: &[u8],
    ) -> Result<(LoadedModule, crate::observe::CompileReport)> {
        let compiler = self.compiler(tier)?;
        let compiled = self.cache.load(&compiler.wasm, tier, bytes)?;
        let pre = self.link(compiler, kind, &compiled.component)?;
        let module = LoadedModule {
            name: Arc::from(name),
            kind,
            version: ModuleVersion::new(crate_version, &compiled.hash),
            tier,
            loaded_at: SystemTime::now(),
            pre,
        };
        Ok((module, compiled.report))
    }

    /// Makes `tier`'s compiler now rather than at its first use, so that
    /// the first swap on it does not wait for it; whether it can be made.
    pub fn ready(&self, tier: Tier) -> bool {
        self.compiler(tier).is_ok()
    }

    /// `tier`'s compiler, Winch's made on first use.
    fn compiler(&self, tier: Tier) -> Result<&Compiler> {
        match tier {
            Tier::Cranelift => Ok(&self.cranelift),
            Tier::Winch => self
                .winch
                .get_or_init(|| {
                    Compiler::new(Tier::Winch, self.allocator, &self.limits(), &self.kinds)
                        .map_err(|e| format!("{e:#}"))
                })
                .as_ref()
                .map_err(|e| anyhow!("{e}")),
        }
    }

    fn failed(&self, name: &str, kind: ModuleKind, error: anyhow::Error) -> anyhow::Error {
        let error = error.context(format!("cannot load module '{name}' ({kind})"));
        let text = format!("{error:#}");
        self.registry.record_failure(name, kind, &text);
        self.observer.publish(Observation::ModuleFailed {
            module: name.to_owned(),
            error: text,
        });
        error
    }

    /// Checks `component` against `kind`'s world, then links it.
    fn link(
        &self,
        compiler: &Compiler,
        kind: ModuleKind,
        component: &Component,
    ) -> Result<Box<dyn std::any::Any + Send + Sync>> {
        let (world, linker) = match (self.kinds.get(kind), compiler.linkers.get(&kind)) {
            (Some(spec), Some(linker)) => (spec.world.expect("a linked kind has a world"), linker),
            _ => return Err(anyhow!("this engine does not run {kind} modules yet")),
        };
        let exports: Vec<String> = component
            .component_type()
            .exports(&compiler.wasm)
            .map(|(name, _)| name.to_owned())
            .collect();
        if !exports
            .iter()
            .any(|name| export_matches(world.export, name))
        {
            let found = if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            };
            return Err(anyhow!(
                "a {kind} must implement world '{}' and export '{}', but this component exports {found}",
                world.name,
                world.export,
            ));
        }
        let pre = linker
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)
            .context("the component imports something wbx does not provide")?;
        (world.typed)(pre).map_err(|e| {
            anyhow::Error::from(e).context(format!(
                "'{}' does not have the shape world '{}' gives it",
                world.export, world.name
            ))
        })
    }

    /// A fresh instance of `name`'s active version, its deadline armed,
    /// with what its model gives it. `P` is the world of the module's kind.
    pub async fn instantiate<P: WorldPre>(
        &self,
        name: &str,
        setup: InstanceSetup,
    ) -> Result<Guest<P::Bindings>> {
        let module = self
            .registry
            .get(name)
            .ok_or_else(|| self.unknown_module(name))?;
        let Some(pre) = module.pre.downcast_ref::<P>() else {
            return Err(anyhow!(
                "module '{}' is a {}, not a {}",
                module.name,
                module.kind,
                P::KIND
            ));
        };
        let env = read(&self.envs).get(name).cloned();
        let store = HostState::new_store(
            &self.compiler(module.tier)?.wasm,
            module.name.clone(),
            self.limits(),
            self.logs.clone(),
            Outgoing::new(module.name.clone(), read(&self.router).clone()),
            env.as_deref().unwrap_or_default(),
            setup,
        );
        Ok(Guest::new(module.clone(), pre, store, &self.observer).await?)
    }

    /// Sends guests' requests for modules inside the engine to `router`.
    pub fn route_http_with(&self, router: Arc<dyn RouteHttp>) {
        *write(&self.router) = Some(router);
    }

    /// The environment of every module's instances made from now on (from
    /// `wbx.toml`): a module missing from `envs` gets none.
    pub fn set_envs(&self, envs: HashMap<String, Vec<(String, String)>>) {
        *write(&self.envs) = envs
            .into_iter()
            .map(|(module, env)| (module, Arc::from(env)))
            .collect();
    }

    /// The kinds this engine knows.
    pub fn kinds(&self) -> &Catalog {
        &self.kinds
    }

    /// The kind of a loaded module.
    pub fn kind_of(&self, name: &str) -> Option<ModuleKind> {
        self.registry.get(name).map(|m| m.kind)
    }

    /// The active version of a module.
    pub fn version_of(&self, name: &str) -> Option<ModuleVersion> {
        self.registry.get(name).map(|m| m.version.clone())
    }

    /// The tier of the code a module's new instances run.
    pub fn tier_of(&self, name: &str) -> Option<Tier> {
        self.registry.get(name).map(|m| m.tier)
    }

    /// Changes every time any module's active version changes.
    pub fn watch_versions(&self) -> tokio::sync::watch::Receiver<u64> {
        self.registry.watch_generation()
    }

    /// Names of the loaded modules of `kind`, for messages ("none" when none).
    pub fn module_names(&self, kind: ModuleKind) -> String {
        let names: Vec<_> = self
            .registry
            .list()
            .into_iter()
            .filter(|m| m.kind == kind && m.version.is_some())
            .map(|m| m.name)
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// The observation stream's sending side, for models to publish on.
    pub fn observer(&self) -> &Observer {
        &self.observer
    }

    fn unknown_module(&self, name: &str) -> anyhow::Error {
        let known: Vec<_> = self.registry.list().into_iter().map(|m| m.name).collect();
        if known.is_empty() {
            anyhow!("no module named '{name}': no module is loaded")
        } else {
            anyhow!(
                "no module named '{name}'; loaded modules: {}",
                known.join(", ")
            )
        }
    }

    pub fn subscribe(&self) -> Subscription {
        self.observer.subscribe()
    }

    pub fn modules(&self) -> Vec<ModuleInfo> {
        self.registry.list()
    }

    /// The last lines a module logged or printed, oldest first.
    pub fn logs(&self, module: &str) -> Vec<LogLine> {
        self.logs.recent(module)
    }

    pub fn limits(&self) -> Limits {
        *read(&self.limits)
    }

    /// New limits for instances made from now on.
    pub fn set_limits(&self, limits: Limits) {
        *write(&self.limits) = limits;
    }
}

/// Whether an export named `found` is the interface `wanted`: the same
/// name, and for a versioned one a semver-compatible version (any
/// `wasi:http/incoming-handler@0.2.x` for `…@0.2.0`, as wasmtime links them).
fn export_matches(wanted: &str, found: &str) -> bool {
    match (wanted.split_once('@'), found.split_once('@')) {
        (Some((name, version)), Some((found_name, found_version))) => {
            name == found_name && compatible(version, found_version)
        }
        _ => wanted == found,
    }
}

/// Semver compatibility: the same major, or for `0.x` the same minor.
fn compatible(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<String> { v.split('.').map(str::to_owned).collect() };
    let (a, b) = (parts(a), parts(b));
    match (a.first().map(String::as_str), b.first().map(String::as_str)) {
        (Some("0"), Some("0")) => a.get(1) == b.get(1),
        (Some(major), Some(other)) => major == other,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::export_matches;

    #[test]
    fn exports_match_by_name_and_compatible_version() {
        let wanted = "wasi:http/incoming-handler@0.2.0";
        assert!(export_matches(wanted, "wasi:http/incoming-handler@0.2.0"));
        assert!(export_matches(wanted, "wasi:http/incoming-handler@0.2.6"));
        assert!(!export_matches(wanted, "wasi:http/incoming-handler@0.3.0"));
        assert!(!export_matches(wanted, "wasi:http/handler@0.2.0"));
        assert!(export_matches(
            "wbx:guest/command@0.1.0",
            "wbx:guest/command@0.1.0"
        ));
        assert!(!export_matches(
            "wbx:guest/command@0.1.0",
            "wbx:guest/projector@0.1.0"
        ));
    }
}
