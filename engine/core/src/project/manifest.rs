//! `wbx.toml`: what is not per module. Read strictly: an unknown key or a bad
//! value is an error that names the file, line and column.
//!
//! The core reads `[project]` and `[engine]`; every other top-level table
//! belongs to a model, which reads it with [`Manifest::section`] (errors
//! located in the same file) and says which tables it reads, so a table no
//! model reads is an error too. A `[modules.NAME]` table holds one
//! module's settings: the core checks that NAME is a module of the project
//! and the model of its kind reads the table ([`Manifest::module_table`]).
//!
//! ```toml
//! [project]
//! name = "shop"
//!
//! [engine]
//! memory-limit-mb = 64      # largest memory a guest may grow to
//! call-timeout-ms = 5000    # longest a guest call may run
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::host_http::OutsideHosts;
use crate::limits::Limits;

/// The keys of a `[modules.NAME]` table the core reads itself
/// ([`ModuleEntry`]); the model of the module's kind gets the others.
pub const CORE_MODULE_KEYS: [&str; 4] = ["component", "kind", "namespace", "env"];

/// The core's part of a `[modules.NAME]` table: where a prebuilt module's
/// component is and what it is, and any module's environment.
///
/// ```toml
/// [modules.hello]
/// component = "components/hello.wasm"   # relative to wbx.toml
/// kind = "service"
/// namespace = "demo"
/// env = { GREETING = "hi" }             # any module, crate or component
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ModuleEntry {
    pub component: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// The tables the core reads itself (`[modules.NAME]` it checks by name,
/// and hands each to the model of the module's kind).
const CORE_SECTIONS: [&str; 3] = ["project", "engine", "modules"];

#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub project: ProjectSection,
    pub engine: EngineSection,
    /// Where it was read from, and its text, for the models' tables.
    path: PathBuf,
    text: Arc<str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct CoreTables {
    #[serde(default)]
    project: ProjectSection,
    #[serde(default)]
    engine: EngineSection,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectSection {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EngineSection {
    pub memory_limit_mb: Option<Spanned<u64>>,
    pub call_timeout_ms: Option<Spanned<u64>>,
}

/// Bounds that keep a typo from giving a guest the whole machine or no time at all.
const MEMORY_LIMIT_MB: Range<u64> = 1..65_537;
const CALL_TIMEOUT_MS: Range<u64> = 1..3_600_001;

/// A problem in `wbx.toml`, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// Reads `path`; `sections` are the tables the registered models read.
    pub fn load(path: &Path, sections: &[&str]) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
            path: path.to_owned(),
            position: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path, sections)
    }

    /// Parses `text`; `path` is only used to name the file in errors.
    pub fn parse(text: &str, path: &Path, sections: &[&str]) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest {
            path: path.to_owned(),
            text: Arc::from(text),
            ..Manifest::default()
        };
        let tables: BTreeMap<Spanned<String>, IgnoredAny> =
            toml::from_str(text).map_err(|e| manifest.toml_error(e))?;
        let known: Vec<&str> = CORE_SECTIONS.iter().chain(sections).copied().collect();
        if let Some(unknown) = tables
            .keys()
            .find(|k| !known.contains(&k.get_ref().as_str()))
        {
            let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            return Err(manifest.error_at(
                unknown.span(),
                format!(
                    "unknown field `{}`, expected one of {}",
                    unknown.get_ref(),
                    expected.join(", ")
                ),
            ));
        }
        let core: CoreTables = toml::from_str(text).map_err(|e| manifest.toml_error(e))?;
        let engine = &core.engine;
        manifest.check_range(
            "engine",
            "memory-limit-mb",
            &engine.memory_limit_mb,
            MEMORY_LIMIT_MB,
        )?;
        manifest.check_range(
            "engine",
            "call-timeout-ms",
            &engine.call_timeout_ms,
            CALL_TIMEOUT_MS,
        )?;
        manifest.project = core.project;
        manifest.engine = core.engine;
        Ok(manifest)
    }

    /// A model's table `name`, read strictly from the same text, its errors
    /// located in the file; the default when the table is absent.
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, ManifestError> {
        self.table(&[name])
    }

    /// Module `name`'s table, `[modules.NAME]`, read as [`Manifest::section`]
    /// reads a model's table, without the keys the core reads
    /// ([`CORE_MODULE_KEYS`]): what is left are the model's settings.
    pub fn module_table<T: DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, ManifestError> {
        self.table_without(&["modules", name], &CORE_MODULE_KEYS)
    }

    /// The core's part of every `[modules.NAME]` table, with its name.
    pub fn module_entries(&self) -> Result<Vec<(Spanned<String>, ModuleEntry)>, ManifestError> {
        #[derive(Default, Deserialize)]
        struct Entries(BTreeMap<Spanned<String>, ModuleEntry>);
        Ok(self.table::<Entries>(&["modules"])?.0.into_iter().collect())
    }

    /// Each module's environment (`[modules.NAME] env`), for the engine.
    pub fn module_envs(
        &self,
    ) -> Result<std::collections::HashMap<String, Vec<(String, String)>>, ManifestError> {
        Ok(self
            .module_entries()?
            .into_iter()
            .filter(|(_, entry)| !entry.env.is_empty())
            .map(|(name, entry)| (name.into_inner(), entry.env.into_iter().collect()))
            .collect())
    }

    /// The file this manifest was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the `[modules.NAME]` tables, each with where it is.
    pub fn module_names(&self) -> Result<Vec<Spanned<String>>, ManifestError> {
        #[derive(Default, Deserialize)]
        struct Names(BTreeMap<Spanned<String>, IgnoredAny>);
        Ok(self.table::<Names>(&["modules"])?.0.into_keys().collect())
    }

    /// The table at `path` (`["modules", "shop"]` is `[modules.shop]`).
    fn table<T: DeserializeOwned + Default>(&self, path: &[&str]) -> Result<T, ManifestError> {
        self.table_without(path, &[])
    }

    /// The table at `path`, its keys in `skip` left out.
    fn table_without<T: DeserializeOwned + Default>(
        &self,
        path: &[&str],
        skip: &[&str],
    ) -> Result<T, ManifestError> {
        let refused_key = Cell::new(None);
        let seed = TableSeed {
            path,
            skip,
            refused_key: &refused_key,
            table: PhantomData,
        };
        let deserializer = toml::Deserializer::parse(&self.text).map_err(|e| self.toml_error(e))?;
        seed.deserialize(deserializer)
            .map(Option::unwrap_or_default)
            .map_err(|e| match refused_key.take() {
                // A key the reader refused: located at the key, not its table.
                Some(span) => self.error_at(span, e.message().trim().to_owned()),
                None => self.toml_error(e),
            })
    }

    /// Problems of the core's with the project's modules: a `[modules.NAME]`
    /// table that names no module of the project.
    pub fn check_module_names(&self, modules: &[super::ModuleDecl]) -> Result<(), ManifestError> {
        for name in self.module_names()? {
            if !modules.iter().any(|m| &m.name == name.get_ref()) {
                let known: Vec<_> = modules.iter().map(|m| m.name.as_str()).collect();
                return Err(self.error_at(
                    name.span(),
                    format!(
                        "[modules.{0}]: no module named '{0}' in this project (modules: {1})",
                        name.get_ref(),
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// An error about the text at `span`.
    pub fn error_at(&self, span: Range<usize>, message: String) -> ManifestError {
        ManifestError {
            path: self.path.clone(),
            position: Some(line_column(&self.text, span.start)),
            message,
        }
    }

    fn toml_error(&self, error: toml::de::Error) -> ManifestError {
        ManifestError {
            path: self.path.clone(),
            position: error.span().map(|s| line_column(&self.text, s.start)),
            message: error.message().trim().to_owned(),
        }
    }

    /// An error when `[table] key = value` is outside `range`.
    pub fn check_range(
        &self,
        table: &str,
        key: &str,
        value: &Option<Spanned<u64>>,
        range: Range<u64>,
    ) -> Result<(), ManifestError> {
        match value {
            Some(value) if !range.contains(value.get_ref()) => Err(self.error_at(
                value.span(),
                format!(
                    "[{table}] {key} = {} is out of range: expected {} to {}",
                    value.get_ref(),
                    range.start,
                    range.end - 1
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The hosts of an `allow-http` list of `[table]`, each checked to be a
    /// host or `host:port`.
    pub fn outside_hosts(
        &self,
        table: &str,
        hosts: &[Spanned<String>],
    ) -> Result<OutsideHosts, ManifestError> {
        if let Some(bad) = hosts.iter().find(|h| !OutsideHosts::is_entry(h.get_ref())) {
            return Err(self.error_at(
                bad.span(),
                format!(
                    "[{table}] allow-http: '{}' is not a host or host:port",
                    bad.get_ref()
                ),
            ));
        }
        Ok(OutsideHosts {
            hosts: hosts.iter().map(|h| h.get_ref().clone()).collect(),
        })
    }

    /// Guest limits with this manifest's overrides applied.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(mb) = &self.engine.memory_limit_mb {
            limits.memory_bytes = (*mb.get_ref() as usize) << 20;
        }
        if let Some(ms) = &self.engine.call_timeout_ms {
            limits.call_timeout = Duration::from_millis(*ms.get_ref());
        }
        limits
    }
}

/// Deserializes the table at a path of keys of a document, skipping the
/// rest, and leaving out the table's own keys in `skip`.
struct TableSeed<'p, T> {
    path: &'p [&'p str],
    skip: &'p [&'p str],
    /// Where the key the reader refused is, when it refused one.
    refused_key: &'p Cell<Option<Range<usize>>>,
    table: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for TableSeed<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        match self.path {
            [] if self.skip.is_empty() => T::deserialize(deserializer).map(Some),
            [] => deserializer.deserialize_map(SkipKeys::<T> {
                skip: self.skip,
                refused_key: self.refused_key,
                table: PhantomData,
            }),
            _ => deserializer.deserialize_map(self),
        }
    }
}

/// A table read without some of its keys: what another reader takes.
struct SkipKeys<'p, T> {
    skip: &'p [&'p str],
    refused_key: &'p Cell<Option<Range<usize>>>,
    table: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> Visitor<'de> for SkipKeys<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML table")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        let rest = Skipping {
            map,
            skip: self.skip,
            refused_key: self.refused_key,
        };
        T::deserialize(serde::de::value::MapAccessDeserializer::new(rest)).map(Some)
    }
}

/// A map's entries, those whose key is in `skip` passed over.
struct Skipping<'p, A> {
    map: A,
    skip: &'p [&'p str],
    refused_key: &'p Cell<Option<Range<usize>>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Skipping<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        use serde::de::IntoDeserializer;
        while let Some(key) = self.map.next_key::<Spanned<String>>()? {
            let span = key.span();
            let key = key.into_inner();
            if self.skip.contains(&key.as_str()) {
                self.map.next_value::<IgnoredAny>()?;
            } else {
                return seed
                    .deserialize(key.into_deserializer())
                    .map(Some)
                    .inspect_err(|_| {
                        self.refused_key.set(Some(span));
                    });
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for TableSeed<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML table")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.path[0] {
                found = map.next_value_seed(TableSeed::<T> {
                    path: &self.path[1..],
                    skip: self.skip,
                    refused_key: self.refused_key,
                    table: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(text, Path::new("wbx.toml"), &["extra"]).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_manifest_gives_default_limits() {
        assert_eq!(parse("").unwrap().limits(), Limits::default());
    }

    #[test]
    fn engine_values_override_limits() {
        let m = parse("[engine]\nmemory-limit-mb = 16\ncall-timeout-ms = 250\n").unwrap();
        assert_eq!(m.limits().memory_bytes, 16 << 20);
        assert_eq!(m.limits().call_timeout, Duration::from_millis(250));
    }

    #[test]
    fn unknown_key_is_located() {
        let err = parse("[project]\nname = \"x\"\ncolour = 1\n").unwrap_err();
        assert!(
            err.starts_with("wbx.toml:3:1: unknown field `colour`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_table_is_located() {
        let err = parse("[project]\n\n[engin]\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:3:2: unknown field `engin`, expected one of `project`, `engine`, `modules`, `extra`"
        );
    }

    #[test]
    fn wrong_type_is_located() {
        let err = parse("[engine]\ncall-timeout-ms = \"soon\"\n").unwrap_err();
        assert!(err.starts_with("wbx.toml:2:19: "), "{err}");
        assert!(err.contains("invalid type: string \"soon\""), "{err}");
    }

    #[test]
    fn out_of_range_value_is_located() {
        let err = parse("[engine]\nmemory-limit-mb = 0\n").unwrap_err();
        assert_eq!(
            err,
            "wbx.toml:2:19: [engine] memory-limit-mb = 0 is out of range: expected 1 to 65536"
        );
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Extra {
        size: Option<u64>,
    }

    #[test]
    fn a_model_table_is_read_strictly_and_located() {
        let m = parse("[project]\nname = \"x\"\n\n[extra]\nsize = 3\n").unwrap();
        assert_eq!(
            m.section::<Extra>("extra").unwrap(),
            Extra { size: Some(3) }
        );
        assert_eq!(
            parse("").unwrap().section::<Extra>("extra").unwrap(),
            Extra::default()
        );
        let m = parse("[extra]\nsize = 3\nsise = 4\n").unwrap();
        let err = m.section::<Extra>("extra").unwrap_err().to_string();
        assert!(
            err.starts_with("wbx.toml:3:1: unknown field `sise`"),
            "{err}"
        );
    }

    #[test]
    fn a_module_table_is_read_strictly_and_located() {
        let text = "[modules.shop]\nsize = 2\n\n[modules.cart]\nsise = 1\n";
        let m = parse(text).unwrap();
        let names: Vec<_> = m
            .module_names()
            .unwrap()
            .into_iter()
            .map(|n| n.into_inner())
            .collect();
        assert_eq!(names, ["cart", "shop"]);
        assert_eq!(
            m.module_table::<Extra>("shop").unwrap(),
            Extra { size: Some(2) }
        );
        assert_eq!(m.module_table::<Extra>("none").unwrap(), Extra::default());
        let err = m.module_table::<Extra>("cart").unwrap_err().to_string();
        assert!(
            err.starts_with("wbx.toml:5:1: unknown field `sise`"),
            "{err}"
        );
    }

    #[test]
    fn the_core_reads_component_kind_namespace_and_env_and_the_model_the_rest() {
        let text = "[modules.hello]\ncomponent = \"c/hello.wasm\"\nkind = \"service\"\n\
                    namespace = \"demo\"\nenv = { GREETING = \"hi\" }\nsize = 3\n\n\
                    [modules.shop]\nenv = { A = \"1\", B = \"2\" }\n";
        let m = parse(text).unwrap();
        assert_eq!(
            m.module_table::<Extra>("hello").unwrap(),
            Extra { size: Some(3) }
        );
        assert_eq!(m.module_table::<Extra>("shop").unwrap(), Extra::default());
        let entries = m.module_entries().unwrap();
        let (name, hello) = &entries[0];
        assert_eq!(name.get_ref(), "hello");
        assert_eq!(hello.component.as_ref().unwrap().get_ref(), "c/hello.wasm");
        assert_eq!(hello.namespace.as_ref().unwrap().get_ref(), "demo");
        let envs = m.module_envs().unwrap();
        assert_eq!(envs["hello"], [("GREETING".to_owned(), "hi".to_owned())]);
        assert_eq!(envs["shop"].len(), 2);
    }

    #[test]
    fn syntax_error_is_located() {
        let err = parse("[project\n").unwrap_err();
        assert!(err.starts_with("wbx.toml:1:"), "{err}");
    }
}
