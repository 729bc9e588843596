//! The guest library a new project builds against, written into it.
//!
//! `wbx-guest` and its macros are not on crates.io, and a generated project
//! must build from nothing but registry crates and its own files. So the
//! repository's `sdk/` and `wit/` are embedded here, one source of truth,
//! and written as
//!
//! ```text
//! wbx-sdk/guest/          wbx-guest          (sdk/)
//! wbx-sdk/guest/macros/   wbx-guest-macros   (sdk/macros/)
//! wbx-sdk/wit/            the WIT package    (wit/), found by `generate!` as ../wit
//! ```
//!
//! Their manifests inherit from wbx's workspace, which a project does not
//! have, so the inherited keys are filled in from wbx's own `Cargo.toml`.
//! The project's `Cargo.lock` holds the registry crates the library needs
//! at the versions wbx's `Cargo.lock` pins: cargo then resolves without the
//! network (it adds the project's own crates itself).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, InlineTable, Item, Value};

use crate::template::{collect_files, relative};

static SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk");
static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../wit");
const WORKSPACE_MANIFEST: &str = include_str!("../../Cargo.toml");
const WORKSPACE_LOCK: &str = include_str!("../../Cargo.lock");

/// Where the library goes in a project.
pub const DIR: &str = "wbx-sdk";
/// The guest library's package, the root of what the lock holds.
const GUEST_PACKAGE: &str = "wbx-guest";

const README: &str = "# wbx-sdk\n\n\
The wbx guest library (`guest/`: `wbx-guest`, `guest/macros/`: `wbx-guest-macros`)\n\
and the WIT package that defines what a guest exports and imports (`wit/`),\n\
written here by `wbx new` so that the project builds from its own files and\n\
crates.io alone. They are wbx's, not the project's: edit the modules, not these.\n";

/// The files of `wbx-sdk/`, paths relative to the project root.
pub fn files() -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let workspace: DocumentMut = WORKSPACE_MANIFEST
        .parse()
        .context("wbx's own Cargo.toml is not valid TOML")?;
    let mut files = vec![(
        PathBuf::from(DIR).join("README.md"),
        README.as_bytes().to_vec(),
    )];
    for (root, target) in [(&SDK, "guest"), (&WIT, "wit")] {
        let mut found = Vec::new();
        collect_files(root, &mut found);
        for file in found {
            let path = relative(root, file.path());
            let mut contents = file.contents().to_vec();
            if path.file_name().is_some_and(|n| n == "Cargo.toml") {
                let text = file
                    .contents_utf8()
                    .context("a Cargo.toml that is not UTF-8")?;
                contents = standalone_manifest(text, &workspace)
                    .with_context(|| format!("sdk/{}", path.display()))?
                    .into_bytes();
            }
            files.push((PathBuf::from(DIR).join(target).join(path), contents));
        }
    }
    Ok(files)
}

/// `text` (a member manifest of wbx's workspace) with every
/// `key.workspace = true` replaced by the workspace's value, and without
/// wbx's lints. Order and comments are kept.
fn standalone_manifest(text: &str, workspace: &DocumentMut) -> Result<String> {
    let mut manifest: DocumentMut = text.parse().context("not valid TOML")?;
    let inherited = |section: &str, key: &str| {
        workspace
            .get("workspace")
            .and_then(|w| w.get(section))
            .and_then(|s| s.get(key))
            .and_then(Item::as_value)
            .cloned()
            .with_context(|| format!("[workspace.{section}] has no `{key}`"))
    };
    manifest.remove("lints");
    if let Some(package) = manifest
        .get_mut("package")
        .and_then(Item::as_table_like_mut)
    {
        for (key, item) in package.iter_mut() {
            if inherits(item) {
                let mut value = inherited("package", &key)?;
                value.decor_mut().clear();
                *item = Item::Value(value);
            }
        }
    }
    if let Some(dependencies) = manifest
        .get_mut("dependencies")
        .and_then(Item::as_table_like_mut)
    {
        for (name, item) in dependencies.iter_mut() {
            if !inherits(item) {
                continue;
            }
            let mut resolved = match inherited("dependencies", &name)? {
                Value::String(version) => {
                    let mut table = InlineTable::new();
                    table.insert("version", version.value().as_str().into());
                    table
                }
                Value::InlineTable(table) => table,
                other => bail!("[workspace.dependencies] `{name}` is {other}"),
            };
            // What the member adds to the inherited dependency (features, say).
            for (key, extra) in item.as_table_like().into_iter().flat_map(|t| t.iter()) {
                if key != "workspace"
                    && let Some(extra) = extra.as_value()
                {
                    resolved.insert(key, extra.clone());
                }
            }
            resolved.decor_mut().clear();
            resolved.fmt();
            *item = Item::Value(Value::InlineTable(resolved));
        }
    }
    Ok(format!(
        "# Written by `wbx new` from wbx's own manifest, inherited keys filled in.\n{manifest}"
    ))
}

fn inherits(item: &Item) -> bool {
    item.as_table_like()
        .and_then(|t| t.get("workspace"))
        .and_then(Item::as_bool)
        == Some(true)
}

#[derive(Debug, Serialize, Deserialize)]
struct Lock {
    version: u32,
    package: Vec<LockedPackage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<String>,
}

/// A project's `Cargo.lock`: the registry crates `wbx-guest` needs, directly
/// or not, at the versions wbx's own lock pins.
pub fn lock() -> Result<String> {
    let locked: Lock =
        toml::from_str(WORKSPACE_LOCK).context("wbx's own Cargo.lock is unreadable")?;
    // A dependency is written `name` or, when the lock has several versions
    // of it, `name version`.
    let find = |dependency: &str| {
        let mut words = dependency.split(' ');
        let (name, version) = (words.next().unwrap_or(""), words.next());
        locked
            .package
            .iter()
            .find(|p| p.name == name && version.is_none_or(|v| v == p.version))
    };
    let mut seen = BTreeSet::new();
    let mut todo = vec![GUEST_PACKAGE.to_owned()];
    let mut packages = BTreeMap::new();
    while let Some(dependency) = todo.pop() {
        if !seen.insert(dependency.clone()) {
            continue;
        }
        let package = find(&dependency)
            .with_context(|| format!("wbx's Cargo.lock has no package '{dependency}'"))?;
        todo.extend(package.dependencies.iter().cloned());
        // Path packages (the library itself) are added by cargo.
        if package.source.is_some() {
            packages.insert(
                (package.name.clone(), package.version.clone()),
                package.clone(),
            );
        }
    }
    let lock = Lock {
        version: locked.version,
        package: packages.into_values().collect(),
    };
    Ok(format!(
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\n{}",
        toml::to_string(&lock)?
    ))
}

#[cfg(test)]
mod tests {
    use toml::Table;

    use super::*;

    #[test]
    fn the_library_manifests_stand_alone() {
        let files = files().unwrap();
        let manifest = |path: &str| {
            let (_, text) = files
                .iter()
                .find(|(p, _)| p == &PathBuf::from(path))
                .unwrap_or_else(|| panic!("no {path}"));
            let text = String::from_utf8(text.clone()).unwrap();
            assert!(!text.contains("workspace ="), "{text}");
            assert!(!text.contains(".workspace"), "{text}");
            text.parse::<Table>().unwrap()
        };
        let guest = manifest("wbx-sdk/guest/Cargo.toml");
        assert_eq!(guest["package"]["name"].as_str(), Some("wbx-guest"));
        assert_eq!(guest["package"]["edition"].as_str(), Some("2024"));
        assert_eq!(
            guest["dependencies"]["serde"]["features"]
                .as_array()
                .unwrap()[0]
                .as_str(),
            Some("derive")
        );
        assert_eq!(
            guest["dependencies"]["wbx-guest-macros"]["path"].as_str(),
            Some("macros")
        );
        let macros = manifest("wbx-sdk/guest/macros/Cargo.toml");
        assert_eq!(macros["lib"]["proc-macro"].as_bool(), Some(true));
        assert!(
            files
                .iter()
                .any(|(p, _)| p == &PathBuf::from("wbx-sdk/wit/worlds.wit"))
        );
        assert!(
            files
                .iter()
                .any(|(p, _)| p == &PathBuf::from("wbx-sdk/guest/src/lib.rs"))
        );
    }

    #[test]
    fn the_lock_pins_the_registry_crates_of_the_library() {
        let lock: Lock = toml::from_str(&lock().unwrap()).unwrap();
        let names: BTreeSet<_> = lock.package.iter().map(|p| p.name.as_str()).collect();
        for name in ["wit-bindgen", "serde", "serde_json", "syn", "wasip2"] {
            assert!(names.contains(name), "{name} missing from {names:?}");
        }
        assert!(!names.contains("wasmtime"), "host crates do not belong");
        assert!(lock.package.iter().all(|p| p.source.is_some()));
    }
}
