//! Templates: the directories of the repository's `templates/`, embedded.
//!
//! ```text
//! templates/<id>/metadata/wbx-template.toml   the manifest: what it makes, its parameters
//! templates/<id>/content/…                    the files, paths and text with {{placeholders}}
//! ```
//!
//! A `project` template is a whole project for `wbx new`; a `module`
//! template is one module crate of a kind (and its scenario file) for
//! `wbx add`. A new model's templates are new directories here, no code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use include_dir::{Dir, DirEntry, include_dir};
use serde::Deserialize;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates");

const MANIFEST: &str = "metadata/wbx-template.toml";
const CONTENT: &str = "content";
/// The manifest format this wbx reads.
const MANIFEST_VERSION: u32 = 1;

/// What module templates take from the project's `[workspace.dependencies]`.
pub const WORKSPACE_DEPENDENCIES: [&str; 3] = ["wbx-guest", "serde", "serde_json"];

/// `metadata/wbx-template.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    pub manifest_version: u32,
    /// One line, shown when choosing a template.
    pub description: String,
    pub creates: Creates,
    /// Module templates: the kind of module they make.
    pub kind: Option<String>,
    /// Values asked for (or set with `--set`), each `{{name}}` in the files.
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Creates {
    Project,
    Module,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// The question asked in a terminal.
    pub prompt: String,
    pub default: String,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub manifest: Manifest,
    content: &'static Dir<'static>,
}

/// Every template, by id.
pub fn all() -> Result<Vec<Template>> {
    TEMPLATES.dirs().map(load).collect()
}

/// The templates `wbx new` offers.
pub fn projects() -> Result<Vec<Template>> {
    Ok(all()?
        .into_iter()
        .filter(|t| t.manifest.creates == Creates::Project)
        .collect())
}

/// The project template `id`.
pub fn project(id: &str) -> Result<Template> {
    let projects = projects()?;
    match projects.iter().find(|t| t.id == id) {
        Some(template) => Ok(template.clone()),
        None => bail!(
            "no project template named '{id}'; templates: {}",
            ids(&projects)
        ),
    }
}

/// The module template for modules of `kind`.
pub fn module(kind: &str) -> Result<Template> {
    let modules: Vec<_> = all()?
        .into_iter()
        .filter(|t| t.manifest.creates == Creates::Module)
        .collect();
    match modules
        .iter()
        .find(|t| t.manifest.kind.as_deref() == Some(kind))
    {
        Some(template) => Ok(template.clone()),
        None => bail!(
            "no template for '{kind}' modules; wbx adds modules of these kinds: {}",
            modules
                .iter()
                .filter_map(|t| t.manifest.kind.as_deref())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn ids(templates: &[Template]) -> String {
    templates
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn load(dir: &'static Dir<'static>) -> Result<Template> {
    let id = dir.path().to_string_lossy().into_owned();
    let where_ = format!("templates/{id}/{MANIFEST}");
    let text = dir
        .get_file(dir.path().join(MANIFEST))
        .and_then(|f| f.contents_utf8())
        .with_context(|| format!("{where_} is missing"))?;
    let manifest: Manifest =
        toml::from_str(text).with_context(|| format!("{where_} is invalid"))?;
    if manifest.manifest_version != MANIFEST_VERSION {
        bail!(
            "{where_}: manifest-version {} is not {MANIFEST_VERSION}, the one this wbx reads",
            manifest.manifest_version
        );
    }
    if (manifest.creates == Creates::Module) != manifest.kind.is_some() {
        bail!("{where_}: a module template names its `kind`, a project template does not");
    }
    let content = dir
        .get_dir(dir.path().join(CONTENT))
        .with_context(|| format!("templates/{id}/{CONTENT}/ is missing"))?;
    Ok(Template {
        id,
        manifest,
        content,
    })
}

impl Template {
    /// The parameters' values: `given` ones, the defaults for the rest.
    /// A name the template does not have is an error.
    pub fn values(&self, given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
        if let Some(unknown) = given
            .keys()
            .find(|k| !self.manifest.parameters.contains_key(*k))
        {
            bail!(
                "template '{}' has no parameter '{unknown}'; its parameters: {}",
                self.id,
                if self.manifest.parameters.is_empty() {
                    "none".to_owned()
                } else {
                    let names: Vec<_> = self.manifest.parameters.keys().cloned().collect();
                    names.join(", ")
                }
            );
        }
        Ok(self
            .manifest
            .parameters
            .iter()
            .map(|(name, p)| {
                let value = given.get(name).unwrap_or(&p.default);
                (name.clone(), value.clone())
            })
            .collect())
    }

    /// Every file of the template with `{{name}}` replaced by its value, in
    /// paths and text; paths relative to where the files go. A placeholder
    /// without a value is an error (a broken template).
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut files = Vec::new();
        collect_files(self.content, &mut files);
        files
            .into_iter()
            .map(|file| {
                let relative = relative(self.content, file.path());
                let where_ = format!("templates/{}", file.path().display());
                let path = substitute(&relative.to_string_lossy(), values)
                    .with_context(|| format!("{where_}: in its path"))?;
                let contents = match file.contents_utf8() {
                    Some(text) => substitute(text, values)
                        .with_context(|| where_.clone())?
                        .into_bytes(),
                    None => file.contents().to_vec(),
                };
                Ok((PathBuf::from(path), contents))
            })
            .collect()
    }
}

pub(crate) fn collect_files(
    dir: &'static Dir<'static>,
    into: &mut Vec<&'static include_dir::File<'static>>,
) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(dir) => collect_files(dir, into),
            DirEntry::File(file) => into.push(file),
        }
    }
}

/// `text` with every `{{name}}` replaced; an unknown name is an error.
fn substitute(text: &str, values: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_end];
        if name.is_empty() || !after[name_end..].starts_with("}}") {
            // Not a placeholder (Rust's `{{` escape, say): keep it.
            out.push_str("{{");
            rest = after;
            continue;
        }
        let value = values
            .get(name)
            .with_context(|| format!("no value for the placeholder {{{{{name}}}}}"))?;
        out.push_str(value);
        rest = &after[name_end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The path of `file` below `root` (an embedded directory), as written out.
pub(crate) fn relative<'a>(root: &Dir<'_>, file: &'a Path) -> &'a Path {
    file.strip_prefix(root.path()).unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_loads_and_renders() {
        let templates = all().unwrap();
        assert!(templates.iter().any(|t| t.id == "events"));
        for template in templates {
            let mut values = template.values(&BTreeMap::new()).unwrap();
            for name in [
                "project-name",
                "project_name",
                "module-name",
                "module_name",
                "ModuleName",
                "namespace",
            ] {
                values.insert(name.into(), "x".into());
            }
            let files = template.render(&values).unwrap();
            assert!(!files.is_empty(), "{}", template.id);
            for (path, text) in files {
                let text = String::from_utf8(text).unwrap();
                assert!(!path.to_string_lossy().contains("{{"), "{}", path.display());
                assert!(!text.contains("{{x"), "{}", path.display());
            }
        }
    }

    #[test]
    fn placeholders_are_replaced_and_unknown_ones_refused() {
        let values = BTreeMap::from([("name".to_owned(), "ada".to_owned())]);
        assert_eq!(
            substitute("hi {{name}}, {{ {{", &values).unwrap(),
            "hi ada, {{ {{"
        );
        let error = substitute("hi {{nmae}}", &values).unwrap_err();
        assert_eq!(error.to_string(), "no value for the placeholder {{nmae}}");
    }

    #[test]
    fn unknown_parameters_and_templates_are_named() {
        let events = project("events").unwrap();
        let given = BTreeMap::from([("colour".to_owned(), "red".to_owned())]);
        assert_eq!(
            events.values(&given).unwrap_err().to_string(),
            "template 'events' has no parameter 'colour'; its parameters: description"
        );
        assert_eq!(
            project("nope").unwrap_err().to_string(),
            "no project template named 'nope'; templates: actors, events, mesh, pipeline"
        );
        assert_eq!(
            module("gadget").unwrap_err().to_string(),
            "no template for 'gadget' modules; wbx adds modules of these kinds: actor, command, effect, processor, projector, service, sink, source"
        );
    }

    #[test]
    fn the_templates_are_those_of_the_templates_directory() {
        let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        let mut dirs: Vec<String> = std::fs::read_dir(&on_disk)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        let templates = all().unwrap();
        let mut ids: Vec<&str> = templates.iter().map(|t| t.id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "actor",
                "actors",
                "command",
                "effect",
                "events",
                "mesh",
                "pipeline",
                "processor",
                "projector",
                "service",
                "sink",
                "source"
            ]
        );
        assert_eq!(ids, dirs);

        let projects: Vec<String> = projects().unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(projects, ["actors", "events", "mesh", "pipeline"]);
        for kind in [
            "actor",
            "command",
            "effect",
            "projector",
            "service",
            "source",
            "processor",
            "sink",
        ] {
            let template = module(kind).unwrap();
            assert_eq!(template.id, kind);
            assert_eq!(template.manifest.creates, Creates::Module);
            assert_eq!(template.manifest.kind.as_deref(), Some(kind));
        }
        for template in &templates {
            let dir = on_disk.join(&template.id);
            assert!(dir.join(MANIFEST).is_file(), "{}", dir.display());
            assert!(dir.join(CONTENT).is_dir(), "{}", dir.display());
        }
    }
}
