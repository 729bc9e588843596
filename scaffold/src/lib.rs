//! `wbx-scaffold`: new projects from templates (`wbx new`) and new modules
//! in a project (`wbx add`), with the guest library they build against.
//!
//! Code map:
//! - [`template`]: the templates of the repository's `templates/`, embedded
//!   in the binary: each a manifest (`metadata/wbx-template.toml`) and files
//!   (`content/`) with `{{placeholders}}`.
//! - [`sdk`]: the guest library (`sdk/`) and the WIT files (`wit/`),
//!   embedded, and written into every new project as `wbx-sdk/` with
//!   standalone manifests and a `Cargo.lock` of the versions wbx itself
//!   locks, so a new project builds offline from the registry cache.
//! - [`new_project`] and [`add_module`]: the two operations, on plain
//!   directories; they never overwrite what is there unless told.
//!
//! This crate knows nothing of terminals or clap: the CLI asks the questions
//! and prints; here are only checks, files and errors with their context.

pub mod sdk;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use template::{Creates, Template};

/// What a new project is made of.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// The directory to create (or, with `force`, to write into).
    pub dir: PathBuf,
    /// The project's name: its directory name, `[project] name`, crate prefixes.
    pub name: String,
    pub template: Template,
    /// Values of the template's parameters; a missing one takes its default.
    pub values: BTreeMap<String, String>,
    /// Write into a non-empty directory, replacing files of the same name.
    pub force: bool,
}

/// What [`new_project`] or [`add_module`] wrote, relative to the project root.
#[derive(Debug, Clone)]
pub struct Written {
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Checks a project or module name: it becomes a directory and a crate
/// name, so 1 to 64 lowercase letters, digits, `-` or `_`, starting with a letter.
pub fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if starts_well && rest_ok && name.len() <= 64 && !name.ends_with(['-', '_']) {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a usable name: 1 to 64 lowercase letters, digits, '-' or '_', \
             starting with a letter (it names a directory and a crate)"
        ))
    }
}

/// Writes a new project: the template's files, `wbx-sdk/` and `Cargo.lock`.
/// Refuses a directory that is not empty unless `force` is set.
pub fn new_project(new: &NewProject) -> Result<Written> {
    check_name(&new.name).map_err(anyhow::Error::msg)?;
    if new.template.manifest.creates != Creates::Project {
        bail!(
            "template '{}' makes a module, not a project (use it with `wbx add`)",
            new.template.id
        );
    }
    if !new.force && !is_empty_or_missing(&new.dir)? {
        bail!(
            "{} exists and is not empty: choose another name, or pass --force to write into it \
             (files of the same name are replaced, others are kept)",
            new.dir.display()
        );
    }
    let mut values = new.template.values(&new.values)?;
    values.insert("project-name".into(), new.name.clone());
    values.insert("project_name".into(), new.name.replace('-', "_"));

    let mut files = new.template.render(&values)?;
    files.extend(sdk::files()?);
    files.push((PathBuf::from("Cargo.lock"), sdk::lock()?.into_bytes()));
    write_files(&new.dir, &files)?;
    Ok(Written {
        root: new.dir.clone(),
        files: files.into_iter().map(|(path, _)| path).collect(),
    })
}

/// Adds a module crate of `kind` named `name` to the project at `root`: its
/// template's files (the crate, and for some kinds a scenario file) and its
/// place in the workspace's `members`. Refuses to replace any file.
pub fn add_module(root: &Path, kind: &str, name: &str) -> Result<Written> {
    check_name(name).map_err(anyhow::Error::msg)?;
    let template = template::module(kind)?;
    let manifest_path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest = add_member(&text, name, &template)
        .with_context(|| format!("cannot add '{name}' to {}", manifest_path.display()))?;

    let project = project_name(root);
    let values = BTreeMap::from([
        ("module-name".to_owned(), name.to_owned()),
        ("module_name".to_owned(), name.replace('-', "_")),
        ("ModuleName".to_owned(), pascal_case(name)),
        ("project-name".to_owned(), project.clone()),
        ("project_name".to_owned(), project.replace('-', "_")),
        // A service's namespace: the project's name, so its services are
        // `{project}.{module}` until someone chooses otherwise.
        ("namespace".to_owned(), project),
    ]);
    let files = template.render(&values)?;
    if let Some((path, _)) = files.iter().find(|(path, _)| root.join(path).exists()) {
        bail!(
            "{} exists already: a module named '{name}' would replace it; choose another name",
            root.join(path).display()
        );
    }
    write_files(root, &files)?;
    std::fs::write(&manifest_path, manifest)
        .with_context(|| format!("cannot write {}", manifest_path.display()))?;
    Ok(Written {
        root: root.to_owned(),
        files: files.into_iter().map(|(path, _)| path).collect(),
    })
}

/// The workspace manifest `text` with `name` appended to its `members`,
/// comments and layout kept. Checks that the workspace provides what the
/// module template's crate takes from `[workspace.dependencies]`.
fn add_member(text: &str, name: &str, template: &Template) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().context("not valid TOML")?;
    let workspace = doc
        .get_mut("workspace")
        .and_then(|w| w.as_table_like_mut())
        .context("no [workspace] table: wbx add works in a Cargo workspace")?;
    let provided: Vec<String> = workspace
        .get("dependencies")
        .and_then(|d| d.as_table_like())
        .map(|d| d.iter().map(|(k, _)| k.to_owned()).collect())
        .unwrap_or_default();
    let missing: Vec<_> = template::WORKSPACE_DEPENDENCIES
        .iter()
        .filter(|dep| !provided.iter().any(|p| p == *dep))
        .collect();
    if !missing.is_empty() {
        bail!(
            "a {} module takes {} from [workspace.dependencies], which has no {}",
            template.id,
            template::WORKSPACE_DEPENDENCIES.join(", "),
            missing
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let members = workspace
        .get_mut("members")
        .and_then(|m| m.as_array_mut())
        .context("[workspace] has no `members` list")?;
    if members.iter().any(|m| m.as_str() == Some(name)) {
        bail!("'{name}' is a workspace member already");
    }
    members.push(name);
    // Keep a one-member-a-line list that way.
    if text.contains("members = [\n") {
        for member in members.iter_mut() {
            member.decor_mut().set_prefix("\n    ");
        }
        members.set_trailing(",\n");
        members.set_trailing_comma(false);
    }
    Ok(doc.to_string())
}

/// The project's `[project] name` in `wbx.toml`, else its directory's name.
fn project_name(root: &Path) -> String {
    std::fs::read_to_string(root.join("wbx.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|manifest| {
            manifest
                .get("project")?
                .get("name")?
                .as_str()
                .map(str::to_owned)
        })
        .or_else(|| Some(root.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".to_owned())
}

/// `reserve-room` → `ReserveRoom`: type names in module templates.
fn pascal_case(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn is_empty_or_missing(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

fn write_files(root: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    for (path, contents) in files {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["app", "my-app", "a1_b"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in ["", "App", "1app", "my app", "app-", "../x", &"a".repeat(65)] {
            let error = check_name(bad).unwrap_err();
            assert!(error.contains("is not a usable name"), "{bad}: {error}");
        }
    }

    #[test]
    fn module_names_become_type_names() {
        assert_eq!(pascal_case("reserve-room"), "ReserveRoom");
        assert_eq!(pascal_case("a_b-c"), "ABC");
    }

    #[test]
    fn a_member_is_appended_keeping_the_layout() {
        let template = template::module("command").unwrap();
        let text = "[workspace]\nmembers = [\n    \"a\",\n    \"b\",\n]\n\n\
                    [workspace.dependencies]\n# the library\nwbx-guest = { path = \"x\" }\n\
                    serde = \"1\"\nserde_json = \"1\"\n";
        let edited = add_member(text, "c", &template).unwrap();
        assert_eq!(
            edited,
            text.replace("    \"b\",\n", "    \"b\",\n    \"c\",\n")
        );
        let error = add_member(&edited, "c", &template).unwrap_err();
        assert_eq!(error.to_string(), "'c' is a workspace member already");

        let error = add_member("[workspace]\nmembers = []\n", "c", &template).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a command module takes wbx-guest, serde, serde_json from [workspace.dependencies], \
             which has no wbx-guest, serde, serde_json"
        );
    }
}
