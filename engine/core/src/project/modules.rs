//! Guest crates: the workspace members that declare themselves in
//! `[package.metadata.wbx]`, found through `cargo metadata`.
//!
//! ```toml
//! [package.metadata.wbx]
//! kind = "command"          # command | projector | effect | service | actor | source | processor | sink
//! namespace = "shop"        # services only: addressed as http://shop.<crate>/…
//! ```
//!
//! A module can also be a prebuilt component that `wbx.toml` declares
//! ([`prebuilt`]): any language's, nothing to build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use cargo_metadata::{CrateType, MetadataCommand, Package, PackageId};
use serde::Deserialize;

use super::{Manifest, ManifestError};
use crate::kind::{Catalog, ModuleKind};

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
    /// The file stem of the built component (`<lib name>.wasm`, or the
    /// binary's name for a crate that builds a binary).
    pub artifact_stem: String,
    /// A prebuilt module's component (`[modules.NAME] component` in
    /// `wbx.toml`): nothing to build, the file is the module.
    pub component: Option<PathBuf>,
}

impl ModuleDecl {
    /// The names of the modules of `kind` among `modules`.
    pub fn names_of(modules: &[ModuleDecl], kind: ModuleKind) -> Vec<String> {
        modules
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| m.name.clone())
            .collect()
    }

    /// Where this module's component is: a prebuilt module's file, or where
    /// `cargo build --target wasm32-wasip2` puts a crate's.
    pub fn artifact_path(&self, target_dir: &Path, release: bool) -> PathBuf {
        if let Some(component) = &self.component {
            return component.clone();
        }
        target_dir
            .join("wasm32-wasip2")
            .join(if release { "release" } else { "debug" })
            .join(format!("{}.wasm", self.artifact_stem))
    }

    /// Whether it is built by cargo (not a prebuilt component).
    pub fn is_crate(&self) -> bool {
        self.component.is_none()
    }

    /// A module that is the component at `component`, with nothing to build.
    pub fn prebuilt(
        name: &str,
        kind: ModuleKind,
        namespace: Option<&str>,
        component: PathBuf,
    ) -> Self {
        ModuleDecl {
            name: name.to_owned(),
            kind,
            namespace: namespace.map(str::to_owned),
            version: "0.0.0".to_owned(),
            manifest_path: PathBuf::new(),
            package_id: PackageId {
                repr: format!("component {name}"),
            },
            artifact_stem: name.to_owned(),
            component: Some(component),
        }
    }
}

/// What discovery found: the good declarations and every problem, each
/// naming the crate and saying how to fix it.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub modules: Vec<ModuleDecl>,
    pub problems: Vec<String>,
    pub target_dir: PathBuf,
    /// Each workspace crate's directory and the modules built from it: the
    /// crate itself if it is a module, and every module that depends on it
    /// through path dependencies, directly or not.
    pub crate_dirs: Vec<(PathBuf, Vec<String>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WbxMetadata {
    kind: String,
    namespace: Option<String>,
}

/// Reads the Cargo workspace at `root` and collects its guest crates,
/// declared with the kinds of `kinds`.
pub fn discover(root: &Path, kinds: &Catalog) -> Result<Discovery> {
    if !root.join("Cargo.toml").is_file() {
        // A project of prebuilt components only: no crate to find.
        return Ok(Discovery {
            modules: Vec::new(),
            problems: Vec::new(),
            target_dir: root.join("target"),
            crate_dirs: Vec::new(),
        });
    }
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
        crate_dirs: Vec::new(),
    };
    for package in metadata.workspace_packages() {
        match declaration(package, kinds) {
            Ok(Some(decl)) => discovery.modules.push(decl),
            Ok(None) => {}
            Err(problem) => discovery
                .problems
                .push(format!("{}: {problem}", package.manifest_path)),
        }
    }
    discovery.modules.sort_by(|a, b| a.name.cmp(&b.name));
    discovery.crate_dirs = crate_dirs(&metadata.workspace_packages(), &discovery.modules);
    Ok(discovery)
}

fn dir_of(package: &Package) -> PathBuf {
    package
        .manifest_path
        .parent()
        .map(|d| d.as_std_path().to_owned())
        .unwrap_or_default()
}

/// For each workspace crate, the modules whose build includes its sources.
fn crate_dirs(packages: &[&Package], modules: &[ModuleDecl]) -> Vec<(PathBuf, Vec<String>)> {
    let dirs: BTreeMap<PathBuf, Vec<PathBuf>> = packages
        .iter()
        .map(|p| {
            let deps = p
                .dependencies
                .iter()
                .filter_map(|d| d.path.as_ref().map(|path| path.as_std_path().to_owned()))
                .collect();
            (dir_of(p), deps)
        })
        .collect();
    let mut users: BTreeMap<PathBuf, Vec<String>> =
        dirs.keys().map(|d| (d.clone(), Vec::new())).collect();
    for module in modules {
        let own = module
            .manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut stack = vec![own];
        let mut seen = BTreeSet::new();
        while let Some(dir) = stack.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            if let Some(list) = users.get_mut(&dir) {
                list.push(module.name.clone());
            }
            stack.extend(dirs.get(&dir).into_iter().flatten().cloned());
        }
    }
    users.into_iter().collect()
}

/// The crate's declaration, `None` when it declares nothing (a plain library).
fn declaration(package: &Package, kinds: &Catalog) -> Result<Option<ModuleDecl>, String> {
    let Some(value) = package.metadata.get("wbx") else {
        return Ok(None);
    };
    let meta: WbxMetadata = serde_json::from_value(value.clone())
        .map_err(|e| format!("[package.metadata.wbx]: {e}"))?;
    let kind: ModuleKind = kinds
        .parse(&meta.kind)
        .map_err(|e| format!("[package.metadata.wbx] kind: {e}"))?;
    check_name(&package.name)?;
    if let Some(namespace) = &meta.namespace {
        check_namespace(namespace).map_err(|e| format!("[package.metadata.wbx] {e}"))?;
    }
    let needs_namespace = kinds.get(kind).is_some_and(|spec| spec.needs_namespace);
    match (&meta.namespace, needs_namespace) {
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
    // A library built as a cdylib, or else a binary (a `wasi:http` server
    // built with another guest library often is one).
    let lib = package
        .targets
        .iter()
        .find(|t| t.crate_types.contains(&CrateType::CDyLib))
        .or_else(|| package.targets.iter().find(|t| t.is_bin()))
        .ok_or_else(|| {
            "a guest crate must build a component: add `[lib] crate-type = [\"cdylib\"]` \
             (or a binary target)"
                .to_owned()
        })?;
    Ok(Some(ModuleDecl {
        name: package.name.to_string(),
        kind,
        namespace: meta.namespace,
        version: package.version.to_string(),
        manifest_path: package.manifest_path.clone().into_std_path_buf(),
        package_id: package.id.clone(),
        artifact_stem: if lib.is_bin() {
            lib.name.clone()
        } else {
            lib.name.replace('-', "_")
        },
        component: None,
    }))
}

/// What calls from outside the engine are recorded as coming from.
pub const RESERVED_NAME: &str = "gateway";

/// A module name: letters, digits, `-` and `_` (so `{namespace}.{module}`
/// is one way to read), and not the name the gateway's calls go by.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "'{name}' is not a module name: use letters, digits, '-' and '_'"
        ));
    }
    if name == RESERVED_NAME {
        return Err(format!(
            "'{RESERVED_NAME}' is the name calls from outside the engine go by; name the module otherwise"
        ));
    }
    Ok(())
}

/// A namespace: lower-case letters, digits and `-`, as a host name's label.
fn check_namespace(namespace: &str) -> Result<(), String> {
    let label = !namespace.is_empty()
        && !namespace.starts_with('-')
        && namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if label {
        Ok(())
    } else {
        Err(format!(
            "namespace: '{namespace}' is not a namespace: use lower-case letters, digits and '-'"
        ))
    }
}

/// The prebuilt modules `wbx.toml` declares (`[modules.NAME] component`),
/// checked against the kinds and the crate modules: a located error for a
/// table that names a crate but sets what only a component may, a
/// component without a kind, an unknown kind, a missing namespace, or a
/// name two modules share.
pub fn prebuilt(
    manifest: &Manifest,
    root: &Path,
    kinds: &Catalog,
    crates: &[ModuleDecl],
) -> Result<Vec<ModuleDecl>, ManifestError> {
    let mut modules = Vec::new();
    for (name, entry) in manifest.module_entries()? {
        let table = format!("[modules.{}]", name.get_ref());
        let Some(component) = &entry.component else {
            if let Some(key) = entry.kind.as_ref().or(entry.namespace.as_ref()) {
                return Err(manifest.error_at(
                    key.span(),
                    format!(
                        "{table}: a guest crate declares its kind and namespace in its \
                         [package.metadata.wbx]; only a prebuilt module (with `component`) \
                         sets them here"
                    ),
                ));
            }
            continue;
        };
        if crates.iter().any(|m| &m.name == name.get_ref()) {
            return Err(manifest.error_at(
                name.span(),
                format!(
                    "{table}: '{}' is already a guest crate of the workspace; \
                     give the prebuilt module another name",
                    name.get_ref()
                ),
            ));
        }
        check_name(name.get_ref())
            .map_err(|e| manifest.error_at(name.span(), format!("{table}: {e}")))?;
        if let Some(namespace) = &entry.namespace {
            check_namespace(namespace.get_ref())
                .map_err(|e| manifest.error_at(namespace.span(), format!("{table} {e}")))?;
        }
        let Some(kind) = &entry.kind else {
            return Err(manifest.error_at(
                component.span(),
                format!("{table}: a prebuilt module must set its kind, e.g. kind = \"service\""),
            ));
        };
        let parsed = kinds
            .parse(kind.get_ref())
            .map_err(|e| manifest.error_at(kind.span(), format!("{table} kind: {e}")))?;
        let needs_namespace = kinds.get(parsed).is_some_and(|spec| spec.needs_namespace);
        match (&entry.namespace, needs_namespace) {
            (None, true) => {
                return Err(manifest.error_at(
                    kind.span(),
                    format!("{table}: a {parsed} needs a namespace, e.g. namespace = \"demo\""),
                ));
            }
            (Some(namespace), false) => {
                return Err(manifest.error_at(
                    namespace.span(),
                    format!("{table}: namespace is only for services, not a {parsed}"),
                ));
            }
            _ => {}
        }
        modules.push(ModuleDecl {
            manifest_path: manifest.path().to_owned(),
            ..ModuleDecl::prebuilt(
                name.get_ref(),
                parsed,
                entry.namespace.as_ref().map(|n| n.get_ref().as_str()),
                root.join(component.get_ref()),
            )
        });
    }
    Ok(modules)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::kind::KindSpec;

    const SERVICE: ModuleKind = ModuleKind::new("service");
    const COMMAND: ModuleKind = ModuleKind::new("command");

    fn kinds() -> Catalog {
        Catalog::new(vec![
            KindSpec::planned(COMMAND, false),
            KindSpec::planned(SERVICE, true),
        ])
    }

    fn prebuilt_of(text: &str) -> Result<Vec<ModuleDecl>, String> {
        let manifest = Manifest::parse(text, Path::new("wbx.toml"), &[]).unwrap();
        let crates = [ModuleDecl::prebuilt("greet", COMMAND, None, "x".into())];
        prebuilt(&manifest, Path::new("/p"), &kinds(), &crates).map_err(|e| e.to_string())
    }

    #[test]
    fn a_component_table_declares_a_module() {
        let modules = prebuilt_of(
            "[modules.hello]\ncomponent = \"c/hello.wasm\"\nkind = \"service\"\nnamespace = \"demo\"\n\
             [modules.greet]\nenv = { A = \"1\" }\n",
        )
        .unwrap();
        assert_eq!(modules.len(), 1);
        assert_eq!(modules[0].name, "hello");
        assert_eq!(modules[0].kind, SERVICE);
        assert_eq!(modules[0].namespace.as_deref(), Some("demo"));
        assert_eq!(
            modules[0].artifact_path(Path::new("/t"), true),
            Path::new("/p/c/hello.wasm")
        );
        assert!(!modules[0].is_crate());
    }

    #[test]
    fn mistakes_in_a_component_table_are_located() {
        for (text, wanted) in [
            (
                "[modules.hello]\ncomponent = \"h.wasm\"\n",
                "wbx.toml:2:13: [modules.hello]: a prebuilt module must set its kind",
            ),
            (
                "[modules.hello]\ncomponent = \"h.wasm\"\nkind = \"servise\"\n",
                "wbx.toml:3:8: [modules.hello] kind: unknown kind 'servise'",
            ),
            (
                "[modules.hello]\ncomponent = \"h.wasm\"\nkind = \"service\"\n",
                "wbx.toml:3:8: [modules.hello]: a service needs a namespace",
            ),
            (
                "[modules.hello]\ncomponent = \"h.wasm\"\nkind = \"command\"\nnamespace = \"x\"\n",
                "wbx.toml:4:13: [modules.hello]: namespace is only for services",
            ),
            (
                "[modules.greet]\ncomponent = \"h.wasm\"\nkind = \"command\"\n",
                "wbx.toml:1:10: [modules.greet]: 'greet' is already a guest crate",
            ),
            (
                "[modules.greet]\nkind = \"command\"\n",
                "wbx.toml:2:8: [modules.greet]: a guest crate declares its kind",
            ),
            (
                "[modules.gateway]\ncomponent = \"h.wasm\"\nkind = \"command\"\n",
                "wbx.toml:1:10: [modules.gateway]: 'gateway' is the name calls from outside",
            ),
            (
                "[modules.hello]\ncomponent = \"h.wasm\"\nkind = \"service\"\nnamespace = \"Shop.x\"\n",
                "wbx.toml:4:13: [modules.hello] namespace: 'Shop.x' is not a namespace",
            ),
        ] {
            let error = prebuilt_of(text).unwrap_err();
            assert!(error.starts_with(wanted), "{error}\nwanted: {wanted}");
        }
    }
}
