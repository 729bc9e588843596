//! `wbx new [NAME] [--template T] [--set KEY=VALUE]… [--yes] [--force]`:
//! a new project from a template. In a terminal, without `--yes` or
//! `--template`, it asks (inquire) for the name, the template and its
//! parameters; otherwise it never asks, for scripts and CI.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use inquire::{Select, Text};
use wbx_scaffold::{NewProject, Template, check_name, template};

use crate::cli::NewArgs;
use crate::console::{self, DIM, GREEN, Stream, paint};

/// The template `wbx new` starts from when none is named.
const DEFAULT_TEMPLATE: &str = "events";

pub fn run(args: NewArgs) -> Result<ExitCode> {
    if args.list {
        list()?;
        return Ok(ExitCode::SUCCESS);
    }
    let ask = !args.yes
        && args.template.is_none()
        && args.set.is_empty()
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let name = match args.name {
        Some(name) => name,
        None if ask => Text::new("Project name:")
            .with_validator(|name: &str| {
                Ok(match check_name(name) {
                    Ok(()) => inquire::validator::Validation::Valid,
                    Err(e) => inquire::validator::Validation::Invalid(e.into()),
                })
            })
            .prompt()
            .context("no project name given")?,
        None => bail!(
            "a project name is needed when wbx new does not ask (with --yes, --template or \
             --set, or outside a terminal): wbx new my-app --yes"
        ),
    };
    check_name(&name).map_err(anyhow::Error::msg)?;
    let template = match &args.template {
        Some(id) => template::project(id)?,
        None if ask => choose_template()?,
        None => template::project(DEFAULT_TEMPLATE)?,
    };
    let mut values = parse_sets(&args.set)?;
    if ask {
        for (key, parameter) in &template.manifest.parameters {
            let value = Text::new(&format!("{}:", parameter.prompt))
                .with_default(&parameter.default)
                .prompt()
                .with_context(|| format!("no value for '{key}'"))?;
            values.insert(key.clone(), value);
        }
    }

    let dir = super::cwd()?.join(&name);
    let written = wbx_scaffold::new_project(&NewProject {
        dir,
        name: name.clone(),
        template: template.clone(),
        values,
        force: args.force,
    })?;
    console::out(&format!(
        "{} {name} from the '{}' template: {} in ./{name}",
        paint(Stream::Stdout, "created", GREEN),
        template.id,
        console::count(written.files.len() as u64, "file")
    ));
    console::out("next:");
    for (command, what) in [
        (format!("cd {name}"), ""),
        (
            "wbx build".to_owned(),
            "build the modules for wasm32-wasip2",
        ),
        ("wbx test".to_owned(), "run the scenarios in scenarios/"),
        (
            "wbx dev".to_owned(),
            "run, watch the sources, rebuild and hot-swap",
        ),
    ] {
        let what = if what.is_empty() {
            String::new()
        } else {
            paint(Stream::Stdout, &format!("# {what}"), DIM)
        };
        console::out(format!("  {command:<12} {what}").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

fn choose_template() -> Result<Template> {
    let templates = template::projects()?;
    let labels: Vec<String> = templates
        .iter()
        .map(|t| format!("{}: {}", t.id, t.manifest.description))
        .collect();
    let start = templates
        .iter()
        .position(|t| t.id == DEFAULT_TEMPLATE)
        .unwrap_or(0);
    let chosen = Select::new("Template:", labels.clone())
        .with_starting_cursor(start)
        .prompt()
        .context("no template chosen")?;
    let index = labels.iter().position(|l| *l == chosen).unwrap_or(start);
    Ok(templates[index].clone())
}

/// `--set KEY=VALUE` flags as a map.
fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>> {
    sets.iter()
        .map(|set| match set.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => bail!("--set '{set}': expected KEY=VALUE"),
        })
        .collect()
}

fn list() -> Result<()> {
    for template in template::projects()? {
        console::out(&format!(
            "{}  {}",
            template.id, template.manifest.description
        ));
        for (key, parameter) in &template.manifest.parameters {
            console::out(&format!(
                "    --set {key}=…  {} (default: {})",
                parameter.prompt, parameter.default
            ));
        }
    }
    Ok(())
}
