//! [`Engine`]: one wasmtime engine per process, the linker every kind shares,
//! the module registry, the component cache, logs and the observation stream.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow};
use wasmtime::component::{Component, HasSelf, Linker};

use crate::bindings::{self, command, effect, projector};
use crate::cache::ComponentCache;
use crate::guest::GuestInstance;
use crate::host_state::{HostState, InstanceOptions};
use crate::kind::ModuleKind;
use crate::limits::Limits;
use crate::logs::{LogLine, Logs};
use crate::observe::{Observation, Observer, Subscription};
use crate::registry::{KindPre, LoadedModule, ModuleInfo, ModuleRegistry, ModuleVersion};

/// What one load or swap did.
#[derive(Debug, Clone)]
pub struct SwapReport {
    pub version: ModuleVersion,
    /// The version it replaced; `None` for a first load.
    pub previous: Option<ModuleVersion>,
    pub compile: crate::observe::CompileReport,
    /// The atomic install itself.
    pub install: Duration,
}

/// How often the epoch advances: the granularity of deadlines and of yields.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Where the engine keeps state and what it allows guests.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Compiled-component cache directory (`.wbx/cache`); `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Log file directory (`.wbx/logs`); `None` keeps logs in memory only.
    pub log_dir: Option<PathBuf>,
    pub limits: Limits,
}

pub struct Engine {
    wasm: wasmtime::Engine,
    linker: Linker<HostState>,
    cache: ComponentCache,
    registry: ModuleRegistry,
    observer: Observer,
    logs: Arc<Logs>,
    limits: std::sync::RwLock<Limits>,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Result<Self> {
        let mut wasm_config = wasmtime::Config::new();
        wasm_config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .enable_incremental_compilation(Arc::new(crate::cache::FunctionCache::default()))?;
        let wasm = wasmtime::Engine::new(&wasm_config)?;
        spawn_epoch_ticker(&wasm).context("cannot start the epoch thread")?;

        let mut linker = Linker::new(&wasm);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        {
            use bindings::imports::wbx::guest::{commands, log, sql};
            log::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)?;
            sql::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)?;
            commands::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)?;
        }

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
            linker,
            wasm,
            limits: std::sync::RwLock::new(config.limits),
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
        let compiled = self
            .cache
            .load(&self.wasm, bytes)
            .and_then(|compiled| Ok((self.link(kind, &compiled.component)?, compiled)));
        let (pre, compiled) = match compiled {
            Ok(ok) => ok,
            Err(e) => return Err(self.failed(name, kind, e)),
        };
        let version = ModuleVersion::new(crate_version, &compiled.hash);
        let module = LoadedModule {
            name: Arc::from(name),
            kind,
            version: version.clone(),
            loaded_at: SystemTime::now(),
            pre,
        };
        let installing = Instant::now();
        let previous = match self.registry.install(module) {
            Ok(previous) => previous,
            Err(e) => return Err(self.failed(name, kind, e)),
        };
        let report = SwapReport {
            version: version.clone(),
            previous: previous.as_ref().map(|p| p.version.clone()),
            compile: compiled.report,
            install: installing.elapsed(),
        };
        self.observer.publish(match previous {
            Some(previous) => Observation::ModuleSwapped {
                module: name.to_owned(),
                from: previous.version.clone(),
                to: version.clone(),
                compile: compiled.report,
            },
            None => Observation::ModuleLoaded {
                module: name.to_owned(),
                kind,
                version: version.clone(),
                compile: compiled.report,
            },
        });
        Ok(report)
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
    fn link(&self, kind: ModuleKind, component: &Component) -> Result<KindPre> {
        let contract = kind
            .contract()
            .ok_or_else(|| anyhow!("this engine does not run {kind} modules yet"))?;
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.wasm)
            .map(|(name, _)| name.to_owned())
            .collect();
        if !exports.iter().any(|name| name == contract.export) {
            let found = if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            };
            return Err(anyhow!(
                "a {kind} must implement world 'wbx:guest/{}' and export '{}', but this component exports {found}",
                contract.world,
                contract.export,
            ));
        }
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)
            .context("the component imports something wbx does not provide")?;
        let wrong_shape = |e: wasmtime::Error| {
            anyhow::Error::from(e).context(format!(
                "'{}' does not have the shape world 'wbx:guest/{}' gives it",
                contract.export, contract.world
            ))
        };
        Ok(match kind {
            ModuleKind::Command => {
                KindPre::Command(command::CommandModulePre::new(pre).map_err(wrong_shape)?)
            }
            ModuleKind::Projector => {
                KindPre::Projector(projector::ProjectorModulePre::new(pre).map_err(wrong_shape)?)
            }
            ModuleKind::Effect => {
                KindPre::Effect(effect::EffectModulePre::new(pre).map_err(wrong_shape)?)
            }
            _ => unreachable!("kinds without a contract returned above"),
        })
    }

    /// A fresh instance of `name`'s active version, its deadline armed.
    pub async fn instantiate(&self, name: &str) -> Result<GuestInstance> {
        self.instantiate_with(name, InstanceOptions::default())
            .await
    }

    /// [`Engine::instantiate`] with what the module's kind is given.
    pub async fn instantiate_with(
        &self,
        name: &str,
        options: InstanceOptions,
    ) -> Result<GuestInstance> {
        let module = self
            .registry
            .get(name)
            .ok_or_else(|| self.unknown_module(name))?;
        GuestInstance::new(
            module,
            &self.wasm,
            self.limits(),
            &self.logs,
            &self.observer,
            options,
        )
        .await
    }

    /// The kind of a loaded module.
    pub fn kind_of(&self, name: &str) -> Option<ModuleKind> {
        self.registry.get(name).map(|m| m.kind)
    }

    /// The active version of a module.
    pub fn version_of(&self, name: &str) -> Option<ModuleVersion> {
        self.registry.get(name).map(|m| m.version.clone())
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

    /// Tells subscribers that events were appended at `first..=last`.
    pub fn publish_appended(&self, first: u64, last: u64, by: Option<&str>) {
        self.observer.publish(Observation::Appended {
            first,
            last,
            by: by.map(str::to_owned),
        });
    }

    pub(crate) fn observer(&self) -> &Observer {
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
        *self.limits.read().unwrap_or_else(|e| e.into_inner())
    }

    /// New limits for instances made from now on.
    pub fn set_limits(&self, limits: Limits) {
        *self.limits.write().unwrap_or_else(|e| e.into_inner()) = limits;
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`]. The thread holds only a
/// weak reference and ends once the engine (and every store and component
/// that keeps it alive) is gone.
fn spawn_epoch_ticker(engine: &wasmtime::Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    thread::Builder::new()
        .name("wbx-epoch".into())
        .spawn(move || {
            let mut next = Instant::now();
            loop {
                next += EPOCH_TICK;
                thread::sleep(next.saturating_duration_since(Instant::now()));
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
}
