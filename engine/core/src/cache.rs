//! Compiled components cached on disk, keyed by content hash.
//!
//! A key is the SHA-256 of the component's bytes, the code tier and
//! wasmtime's compatibility hash of the engine's settings, so a cached
//! artifact is only ever loaded by an engine that could have produced it.
//! Files are written to a temporary name and renamed, so a crash never
//! leaves a half-written artifact under a real key.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::observe::CompileReport;
use crate::tier::Tier;

/// A component ready to instantiate, with its content hash.
pub struct Compiled {
    pub component: Component,
    /// Hex SHA-256 of the component's bytes.
    pub hash: String,
    pub report: CompileReport,
}

/// The on-disk cache; `None` as a directory compiles every time.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl ComponentCache {
    pub fn new(dir: Option<PathBuf>) -> Self {
        ComponentCache { dir }
    }

    pub fn dir(&self) -> Option<&PathBuf> {
        self.dir.as_ref()
    }

    /// Where the artifact of `bytes` compiled by `engine` (of `tier`) goes.
    fn path(&self, engine: &wasmtime::Engine, tier: Tier, hash: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| {
            let mut hasher = DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            dir.join(format!("{hash}-{tier}-{:016x}.cwasm", hasher.finish()))
        })
    }

    /// Whether the cache holds `engine`'s code for `bytes`.
    pub fn holds(&self, engine: &wasmtime::Engine, tier: Tier, bytes: &[u8]) -> bool {
        self.path(engine, tier, &content_hash(bytes))
            .is_some_and(|p| p.is_file())
    }

    /// Loads `bytes` as a component: from the cache when an artifact for the
    /// same bytes and engine exists, by compiling (and caching) otherwise.
    pub fn load(&self, engine: &wasmtime::Engine, tier: Tier, bytes: &[u8]) -> Result<Compiled> {
        let start = Instant::now();
        let hash = content_hash(bytes);
        let path = self.path(engine, tier, &hash);

        if let Some(path) = path.as_ref().filter(|p| p.is_file()) {
            // SAFETY: the cache directory holds only artifacts this engine
            // serialized (written whole, then renamed); the key includes the
            // engine's compatibility hash, and wasmtime checks the header again.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(component) => {
                    return Ok(Compiled {
                        component,
                        hash,
                        report: CompileReport {
                            cache_hit: true,
                            compile_time: start.elapsed(),
                            tier,
                        },
                    });
                }
                // A stale or damaged artifact is not an error: compile again.
                Err(_) => {
                    let _ = std::fs::remove_file(path);
                }
            }
        }

        let component = Component::new(engine, bytes)
            .map_err(anyhow::Error::from)
            .context("not a valid WebAssembly component")?;
        let compile_time = start.elapsed();
        if let Some(path) = &path {
            // A cache that cannot be written costs speed, not correctness.
            let _ = write_artifact(&component, path);
        }
        Ok(Compiled {
            component,
            hash,
            report: CompileReport {
                cache_hit: false,
                compile_time,
                tier,
            },
        })
    }
}

fn write_artifact(component: &Component, path: &std::path::Path) -> Result<()> {
    let bytes = component.serialize()?;
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().context("cache path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Cranelift's per-function cache, in memory: a rebuilt module whose
/// functions mostly did not change compiles only the ones that did. This is
/// what makes a swap after a small edit quick.
#[derive(Debug, Default)]
pub struct FunctionCache {
    entries: std::sync::Mutex<FunctionEntries>,
}

/// Compiled functions by key, and the bytes they take.
type FunctionEntries = (std::collections::HashMap<Vec<u8>, Vec<u8>>, usize);

/// Bytes kept before the function cache starts over.
const FUNCTION_CACHE_BYTES: usize = 256 << 20;

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        let entries = crate::sync::lock(&self.entries);
        entries
            .0
            .get(key)
            .map(|v| std::borrow::Cow::Owned(v.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut entries = crate::sync::lock(&self.entries);
        let (map, bytes) = &mut *entries;
        if *bytes + value.len() > FUNCTION_CACHE_BYTES {
            map.clear();
            *bytes = 0;
        }
        *bytes += key.len() + value.len();
        map.insert(key.to_vec(), value);
        true
    }
}
