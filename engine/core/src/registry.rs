//! The module registry: every module the engine knows, its active version,
//! and the atomic swap of that version.
//!
//! A slot holds the active [`LoadedModule`] behind an `ArcSwap`. A caller takes
//! an `Arc` of the active version when it instantiates, so a swap never
//! disturbs calls in flight: they finish on the version they started with,
//! and the next instantiation sees the new one.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use anyhow::{Result, bail};
use arc_swap::ArcSwapOption;
use serde::Serialize;

use crate::kind::ModuleKind;
use crate::sync::{lock, read, write};
use crate::tier::Tier;

/// A module version: the crate's version plus a prefix of the component's
/// content hash, because a rebuild often changes code but not the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleVersion {
    pub crate_version: String,
    pub hash: String,
}

/// Hex digits of the content hash shown in a version.
const HASH_DIGITS: usize = 12;

impl ModuleVersion {
    pub fn new(crate_version: &str, content_hash: &str) -> Self {
        ModuleVersion {
            crate_version: crate_version.to_owned(),
            hash: content_hash.chars().take(HASH_DIGITS).collect(),
        }
    }
}

impl fmt::Display for ModuleVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.crate_version, self.hash)
    }
}

impl Serialize for ModuleVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One version of a module, compiled, linked and ready to instantiate.
pub struct LoadedModule {
    pub name: Arc<str>,
    pub kind: ModuleKind,
    pub version: ModuleVersion,
    /// The compiler of the code its instances run.
    pub tier: Tier,
    pub loaded_at: SystemTime,
    /// The kind's typed pre-instance (a [`crate::WorldPre`] of its model).
    pub(crate) pre: Box<dyn std::any::Any + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleStatus {
    /// A version is active and serving.
    Running,
    /// No version could be loaded.
    Failed,
}

impl fmt::Display for ModuleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleStatus::Running => "running",
            ModuleStatus::Failed => "failed",
        })
    }
}

/// A module as snapshot queries report it (`GET /api/modules`).
#[derive(Debug, Clone, Serialize)]
pub struct ModuleInfo {
    pub name: String,
    pub kind: ModuleKind,
    /// The active version; `None` when nothing ever loaded.
    pub version: Option<ModuleVersion>,
    /// The compiler of the active version's code.
    pub tier: Option<Tier>,
    pub status: ModuleStatus,
    /// Versions swapped in after the first.
    pub reloads: u64,
    /// The last load failure, kept while an older version serves.
    pub last_error: Option<String>,
}

struct Slot {
    kind: ModuleKind,
    active: ArcSwapOption<LoadedModule>,
    reloads: AtomicU64,
    last_error: Mutex<Option<String>>,
}

pub struct ModuleRegistry {
    slots: RwLock<BTreeMap<String, Arc<Slot>>>,
    /// Bumped on every install, so runtimes can notice a new version.
    generation: tokio::sync::watch::Sender<u64>,
}

impl Default for ModuleRegistry {
    fn default() -> Self {
        ModuleRegistry {
            slots: RwLock::default(),
            generation: tokio::sync::watch::channel(0).0,
        }
    }
}

impl ModuleRegistry {
    fn slot(&self, name: &str, kind: ModuleKind) -> Result<Arc<Slot>> {
        let mut slots = write(&self.slots);
        let slot = slots.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(Slot {
                kind,
                active: ArcSwapOption::empty(),
                reloads: AtomicU64::new(0),
                last_error: Mutex::new(None),
            })
        });
        if slot.kind != kind {
            bail!(
                "module '{name}' is a {} and cannot be replaced by a {kind}",
                slot.kind
            );
        }
        Ok(slot.clone())
    }

    /// Makes `module` the active version of its name, atomically, and returns
    /// the version it replaced.
    pub fn install(&self, module: LoadedModule) -> Result<Option<Arc<LoadedModule>>> {
        let slot = self.slot(&module.name, module.kind)?;
        let previous = slot.active.swap(Some(Arc::new(module)));
        if previous.is_some() {
            slot.reloads.fetch_add(1, Ordering::Relaxed);
        }
        *lock(&slot.last_error) = None;
        self.generation.send_modify(|g| *g += 1);
        Ok(previous)
    }

    /// Makes `module` active in place of the active module if `still`
    /// holds for that one (checked and replaced atomically), without
    /// counting a reload; whether it did.
    pub fn replace_if(&self, module: LoadedModule, still: impl Fn(&LoadedModule) -> bool) -> bool {
        let Some(slot) = read(&self.slots).get(&*module.name).cloned() else {
            return false;
        };
        let current = slot.active.load_full();
        if !current.as_deref().is_some_and(&still) {
            return false;
        }
        let previous = slot
            .active
            .compare_and_swap(&current, Some(Arc::new(module)));
        let replaced = match (&*previous, &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if replaced {
            self.generation.send_modify(|g| *g += 1);
        }
        replaced
    }

    pub fn watch_generation(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Records that loading `name` failed; an active version keeps serving.
    pub fn record_failure(&self, name: &str, kind: ModuleKind, error: &str) {
        if let Ok(slot) = self.slot(name, kind) {
            *lock(&slot.last_error) = Some(error.to_owned());
        }
    }

    /// The active version of `name`.
    pub fn get(&self, name: &str) -> Option<Arc<LoadedModule>> {
        let slots = read(&self.slots);
        slots.get(name).and_then(|slot| slot.active.load_full())
    }

    pub fn list(&self) -> Vec<ModuleInfo> {
        let slots = read(&self.slots);
        slots
            .iter()
            .map(|(name, slot)| {
                let active = slot.active.load();
                ModuleInfo {
                    name: name.clone(),
                    kind: slot.kind,
                    version: active.as_ref().map(|m| m.version.clone()),
                    tier: active.as_ref().map(|m| m.tier),
                    status: if active.is_some() {
                        ModuleStatus::Running
                    } else {
                        ModuleStatus::Failed
                    },
                    reloads: slot.reloads.load(Ordering::Relaxed),
                    last_error: lock(&slot.last_error).clone(),
                }
            })
            .collect()
    }
}
