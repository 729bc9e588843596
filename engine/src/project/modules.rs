//! Guest crates: the workspace members that declare themselves in
//! `[package.metadata.wbx]`, found through `cargo metadata`.
//!
//! ```toml
//! [package.metadata.wbx]
//! kind = "command"          # command | projector | effect | service | actor | source | processor | sink
//! namespace = "shop"        # services only: addressed as http://shop.<crate>/…
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use cargo_metadata::{CrateType, MetadataCommand, Package, PackageId};
use serde::Deserialize;

use crate::kind::ModuleKind;

/// A guest crate as its manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDecl {
    /// The package name; also the module's name in the engine.
    pub name: String,
    pub kind: ModuleKind,
    pub namespace: Option<String>,
    /// The package version.
    pub version: String,
    pub manifest_path: PathBuf,
    pub package_id: PackageId,
    /// The file stem of the built component (`<lib name>.wasm`).
    pub artifact_stem: String,
}

impl ModuleDecl {
    /// Where `cargo build --target wasm32-wasip2` puts this module's component.
    pub fn artifact_path(&self, target_dir: &Path, release: bool) -> PathBuf {
        target_dir
            .join("wasm32-wasip2")
            .join(if release { "release" } else { "debug" })
            .join(format!("{}.wasm", self.artifact_stem))
    }
}

/// What discovery found: the good declarations and every problem, each
/// naming the crate and saying how to fix it.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub modules: Vec<ModuleDecl>,
    pub problems: Vec<String>,
    pub target_dir: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WbxMetadata {
    kind: String,
    namespace: Option<String>,
}

/// Reads the Cargo workspace at `root` and collects its guest crates.
pub fn discover(root: &Path) -> Result<Discovery> {
    let metadata = MetadataCommand::new()
        .manifest_path(root.join("Cargo.toml"))
        .no_deps()
        .exec()
        .with_context(|| {
            format!(
                "cannot read the Cargo workspace at {}",
                root.join("Cargo.toml").display()
            )
        })?;
    let mut discovery = Discovery {
        modules: Vec::new(),
        problems: Vec::new(),
        target_dir: metadata.target_directory.clone().into_std_path_buf(),
    };
    for package in metadata.workspace_packages() {
        match declaration(package) {
            Ok(Some(decl)) => discovery.modules.push(decl),
            Ok(None) => {}
            Err(problem) => discovery
                .problems
                .push(format!("{}: {problem}", package.manifest_path)),
        }
    }
    discovery.modules.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(discovery)
}

/// The crate's declaration, `None` when it declares nothing (a plain library).
fn declaration(package: &Package) -> Result<Option<ModuleDecl>, String> {
    let Some(value) = package.metadata.get("wbx") else {
        return Ok(None);
    };
    let meta: WbxMetadata = serde_json::from_value(value.clone())
        .map_err(|e| format!("[package.metadata.wbx]: {e}"))?;
    let kind: ModuleKind = meta
        .kind
        .parse()
        .map_err(|e| format!("[package.metadata.wbx] kind: {e}"))?;
    match (&meta.namespace, kind.needs_namespace()) {
        (None, true) => {
            return Err(format!(
                "[package.metadata.wbx]: a {kind} needs a namespace, e.g. namespace = \"shop\""
            ));
        }
        (Some(_), false) => {
            return Err(format!(
                "[package.metadata.wbx]: namespace is only for services, not a {kind}"
            ));
        }
        _ => {}
    }
    let lib = package
        .targets
        .iter()
        .find(|t| t.crate_types.contains(&CrateType::CDyLib))
        .ok_or_else(|| {
            "a guest crate must build a component: add `[lib] crate-type = [\"cdylib\"]`".to_owned()
        })?;
    Ok(Some(ModuleDecl {
        name: package.name.to_string(),
        kind,
        namespace: meta.namespace,
        version: package.version.to_string(),
        manifest_path: package.manifest_path.clone().into_std_path_buf(),
        package_id: package.id.clone(),
        artifact_stem: lib.name.replace('-', "_"),
    }))
}
