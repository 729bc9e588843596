//! The components of versions a project has run, kept in
//! `.wbx/versions/<module>/<version>.wasm`, so `wbx replay --against VERSION`
//! can replay a version after `wbx dev` has swapped it out.
//!
//! Only the newest [`KEPT`] versions of each module are kept.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::registry::ModuleVersion;

pub const KEPT: usize = 20;

fn module_dir(versions: &Path, module: &str) -> PathBuf {
    versions.join(module)
}

/// Where `version` of `module` is kept.
pub fn file(versions: &Path, module: &str, version: &str) -> PathBuf {
    module_dir(versions, module).join(format!("{version}.wasm"))
}

/// Keeps the component `bytes` of a version that was loaded. Keeping is a
/// convenience for later replays: a failure here must not stop the load,
/// so it is returned for the caller to ignore or report.
pub fn keep(versions: &Path, module: &str, version: &ModuleVersion, bytes: &[u8]) -> Result<()> {
    let path = file(versions, module, &version.to_string());
    if path.is_file() {
        // Loaded again: the newest now, so pruning spares it.
        return std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .with_context(|| format!("cannot touch {}", path.display()));
    }
    let dir = module_dir(versions, module);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Written aside and renamed, so a file of that name is always whole.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    prune(&dir)
}

/// Removes all but the newest [`KEPT`] versions in `dir`.
fn prune(dir: &Path) -> Result<()> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let path = entry.path();
            let wasm = path.extension().is_some_and(|e| e == "wasm");
            wasm.then_some(())?;
            Some((entry.metadata().ok()?.modified().ok()?, path))
        })
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(KEPT);
    for (_, path) in files.into_iter().take(excess) {
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(())
}

/// The versions of `module` kept, newest first.
/// Where an `--against` argument points: a `.wasm` file, else a version
/// of `module` kept from an earlier run; `Err` with the kept versions
/// listed (`none yet` when there are none), for the caller's message.
pub fn against(versions: &Path, module: &str, against: &str) -> Result<Against, String> {
    let kept = file(versions, module, against);
    if Path::new(against).is_file() {
        Ok(Against::File(PathBuf::from(against)))
    } else if kept.is_file() {
        Ok(Against::Kept(kept))
    } else {
        let listed = list(versions, module);
        Err(if listed.is_empty() {
            "none yet".to_owned()
        } else {
            listed.join(", ")
        })
    }
}

/// What an `--against` argument named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    File(PathBuf),
    Kept(PathBuf),
}

impl Against {
    pub fn path(&self) -> &Path {
        match self {
            Against::File(path) | Against::Kept(path) => path,
        }
    }
}

pub fn list(versions: &Path, module: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(module_dir(versions, module)) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, String)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry
                .file_name()
                .to_string_lossy()
                .strip_suffix(".wasm")?
                .to_owned();
            Some((entry.metadata().ok()?.modified().ok()?, name))
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_versions() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..KEPT + 3 {
            let version = ModuleVersion::new("0.1.0", &format!("{n:012}"));
            keep(dir.path(), "catalog", &version, b"\0asm").unwrap();
            // Distinct modification times, oldest first.
            let path = file(dir.path(), "catalog", &version.to_string());
            let at =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(n as u64 + 1);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        let kept = list(dir.path(), "catalog");
        assert_eq!(kept.len(), KEPT);
        assert_eq!(kept[0], format!("0.1.0+{:012}", KEPT + 2));
        assert!(list(dir.path(), "nothing").is_empty());
    }
}
