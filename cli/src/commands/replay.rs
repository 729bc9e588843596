//! `wbx replay <projector> [--from-file FILE] [--to POSITION] [--against
//! build|WASM] [--release] [--json]`: replays a history through the
//! projector's built version into a scratch read model and shows it; with
//! `--against`, replays a second version too and shows how the two read
//! models differ, table by table and row by row. The live store and read
//! model are only read, never written, and the project's build is left as
//! it is: `--against build` builds the working tree elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wbx_engine::events::kinds::PROJECTOR;
use wbx_engine::events::{EventStore, StoreLocation};
use wbx_engine::project::{ModuleDecl, Project};
use wbx_engine::replay::read_model::{self, ReadModel, TableDiff};
use wbx_engine::replay::{History, Replayer, versions};
use wbx_engine::{Engine, ModuleVersion};

use crate::cli::ReplayArgs;
use crate::console::{self, DIM, GREEN, RED, Stream, paint};

/// Where `--against build` builds, inside the project's target directory.
const REPLAY_TARGET: &str = "wbx-replay";

/// Rows of each table shown without `--json`.
const ROWS_SHOWN: usize = 20;

/// A version to replay: its bytes and what to call it.
struct Candidate {
    label: &'static str,
    bytes: Vec<u8>,
}

/// What one replay gave.
struct Replayed {
    module: String,
    label: &'static str,
    version: ModuleVersion,
    events: u64,
    elapsed: Duration,
    model: ReadModel,
}

pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    if args.to == Some(0) {
        bail!("--to 0 is before the first event; positions start at 1");
    }
    let decl = projector(&project, &args.projector)?;
    let artifact = decl.artifact_path(&project.target_dir, args.release);
    let built = Candidate {
        label: "built",
        bytes: std::fs::read(&artifact).with_context(|| {
            format!(
                "'{}' is not built (no {}): run `wbx build`",
                decl.name,
                artifact.display()
            )
        })?,
    };
    let against = match args.against.as_deref() {
        None => None,
        Some("build") => match working_tree(&project, decl, args.release)? {
            Some(candidate) => Some(candidate),
            None => return Ok(ExitCode::FAILURE),
        },
        Some(other) => Some(other_version(&project, decl, other)?),
    };

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let replays = runtime.block_on(async {
        // Guest logs of a replay are not the live module's: kept in memory only.
        let engine = Arc::new(Engine::new(wbx_engine::EngineConfig {
            log_dir: None,
            ..project.engine_config()?
        })?);
        let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
        let mut replays = Vec::new();
        for (n, candidate) in std::iter::once(&built).chain(against.as_ref()).enumerate() {
            let database = scratch.path().join(format!("read-model-{n}.sqlite"));
            let replayed = replay(&engine, &project, decl, candidate, &args, &database)
                .await
                .with_context(|| format!("replaying the {} version", candidate.label))?;
            replays.push(replayed);
        }
        anyhow::Ok(replays)
    })?;
    let diff = (replays.len() == 2).then(|| read_model::diff(&replays[0].model, &replays[1].model));
    if args.json {
        print_json(&args, &replays, diff.as_deref());
    } else {
        print_text(&replays, diff.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

/// `--against build`: the working tree's version, built now into a target
/// directory of its own ([`REPLAY_TARGET`] in the project's), so the
/// project's artifact, which `wbx run` loads and a later replay calls
/// "built", stays the version the user built. `None` when the build failed
/// (the build has said why).
///
/// The build runs as `wbx build` in a child process whose `CARGO_TARGET_DIR`
/// names that directory: cargo takes its target directory from there, and
/// this process's own environment is left alone.
fn working_tree(project: &Project, decl: &ModuleDecl, release: bool) -> Result<Option<Candidate>> {
    let target = project.target_dir.join(REPLAY_TARGET);
    let wbx = std::env::current_exe().context("cannot find the wbx executable")?;
    let mut command = Command::new(wbx);
    command
        .current_dir(&project.root)
        .args(["build", "--json", &decl.name])
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if release {
        command.arg("--release");
    }
    let output = command.output().context("cannot run wbx build")?;
    if !output.status.success() {
        return Ok(None);
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cannot read the report of wbx build")?;
    let artifact = report["built"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["module"] == decl.name.as_str())
        .and_then(|b| b["artifact"].as_str())
        .map(PathBuf::from)
        .unwrap_or_else(|| decl.artifact_path(&target, release));
    Ok(Some(Candidate {
        label: "working tree",
        bytes: std::fs::read(&artifact)
            .with_context(|| format!("cannot read {}", artifact.display()))?,
    }))
}

/// `--against` naming a .wasm file or a version kept from an earlier run.
fn other_version(project: &Project, decl: &ModuleDecl, against: &str) -> Result<Candidate> {
    let found = versions::against(&project.state.versions_dir(), &decl.name, against);
    let (label, path) = match found {
        Ok(found @ versions::Against::File(_)) => ("--against", found.path().to_owned()),
        Ok(found) => ("kept", found.path().to_owned()),
        Err(kept) => bail!(
            "--against '{against}' is neither `build`, a .wasm file, nor a version of {} kept \
             from an earlier run; kept versions: {kept}",
            decl.name
        ),
    };
    Ok(Candidate {
        label,
        bytes: std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
    })
}

fn projector<'a>(project: &'a Project, name: &str) -> Result<&'a ModuleDecl> {
    let projectors: Vec<&str> = project
        .modules
        .iter()
        .filter(|m| m.kind == PROJECTOR)
        .map(|m| m.name.as_str())
        .collect();
    match project.module(name) {
        Some(decl) if decl.kind == PROJECTOR => Ok(decl),
        Some(decl) => bail!(
            "'{name}' is not a projector (its kind is {}); projectors: {}",
            decl.kind,
            projectors.join(", ")
        ),
        None => bail!(
            "no projector named '{name}'; projectors: {}",
            projectors.join(", ")
        ),
    }
}

async fn replay(
    engine: &Arc<Engine>,
    project: &Project,
    decl: &ModuleDecl,
    candidate: &Candidate,
    args: &ReplayArgs,
    database: &Path,
) -> Result<Replayed> {
    let version = engine.load(&decl.name, decl.kind, &decl.version, &candidate.bytes)?;
    let mut history = match &args.from_file {
        Some(path) => History::file(path)?,
        None => {
            let location = StoreLocation::of_project(&project.manifest, &project.state)?;
            let Some(store) = EventStore::connect_existing(&location)? else {
                bail!(
                    "no event store at {location}: nothing to replay (give an exported \
                     history with --from-file)"
                );
            };
            History::store(store)
        }
    };
    let mut replayer = Replayer::start(engine.clone(), &decl.name, database).await?;
    let elapsed = replayer.replay(&mut history, args.to).await?;
    Ok(Replayed {
        module: decl.name.clone(),
        label: candidate.label,
        version,
        events: replayer.handled,
        elapsed,
        model: replayer.read_model()?,
    })
}

fn rate(events: u64, elapsed: Duration) -> String {
    format!(
        "{} in {:.1} ms ({:.0} events/s)",
        console::count(events, "event"),
        elapsed.as_secs_f64() * 1000.0,
        events as f64 / elapsed.as_secs_f64().max(1e-9)
    )
}

fn print_text(replays: &[Replayed], diff: Option<&[TableDiff]>) {
    for r in replays {
        console::out(&format!(
            "{} {} {} ({}): {}",
            paint(Stream::Stdout, "replayed", GREEN),
            r.module,
            r.version,
            r.label,
            rate(r.events, r.elapsed)
        ));
    }
    match diff {
        None => print_model(&replays[0].model),
        Some(diffs) => print_diff(diffs, &replays[1].model),
    }
}

fn print_model(model: &ReadModel) {
    for table in &model.tables {
        console::out(&format!(
            "\n{} ({}): {}",
            table.name,
            table.columns.join(", "),
            console::count(table.rows.len() as u64, "row")
        ));
        for row in table.rows.iter().take(ROWS_SHOWN) {
            console::out(&format!("  {}", read_model::row_text(row)));
        }
        if table.rows.len() > ROWS_SHOWN {
            console::out(&paint(
                Stream::Stdout,
                &format!(
                    "  … and {} more (--json has them all)",
                    table.rows.len() - ROWS_SHOWN
                ),
                DIM,
            ));
        }
    }
}

fn print_diff(diffs: &[TableDiff], after: &ReadModel) {
    for diff in diffs {
        console::out(&format!("\n{}", diff.heading()));
        for line in diff.unified().lines() {
            let style = if line.starts_with('-') { RED } else { GREEN };
            console::out(&paint(Stream::Stdout, line, style));
        }
    }
    let summary = read_model::summarize(diffs);
    console::out(&if diffs.is_empty() {
        format!(
            "\nthe read models are the same ({})",
            console::count(after.tables.len() as u64, "table")
        )
    } else {
        format!(
            "\n{} added, {} removed, {} changed in {} of {}",
            console::count(summary.added as u64, "row"),
            summary.removed,
            summary.changed,
            summary.tables_changed,
            console::count(after.tables.len() as u64, "table")
        )
    });
}

fn print_json(args: &ReplayArgs, replays: &[Replayed], diff: Option<&[TableDiff]>) {
    let value = json!({
        "projector": args.projector,
        "to": args.to,
        "replays": replays.iter().map(|r| json!({
            "version": r.version.to_string(),
            "label": r.label,
            "events": r.events,
            "elapsed_ms": r.elapsed.as_secs_f64() * 1000.0,
            "read_model": r.model,
        })).collect::<Vec<_>>(),
        "diff": diff,
        "summary": diff.map(read_model::summarize),
    });
    console::out(&value.to_string());
}
