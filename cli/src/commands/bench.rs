//! `wbx bench [SCENARIO…] [--json] [--repetitions N] [--scale X]
//! [--store postgres://…]`: the built-in scenarios, each next to its bare
//! baseline measured in the same run. Run it from a release build
//! (`cargo run --release -- bench`).

use std::process::ExitCode;

use anyhow::{Context, Result};
use wbx_engine::bench::{self, BenchOptions, Measurement};
use wbx_engine::events::StoreLocation;

use crate::cli::BenchArgs;
use crate::console;

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale.is_finite()) {
        anyhow::bail!("--scale must be a positive number, not {}", args.scale);
    }
    if let Some(url) = &args.store {
        StoreLocation::parse(url).map_err(|e| anyhow::anyhow!("--store: {e}"))?;
    }
    let (engine_scenarios, tui_scenarios) = split_scenarios(&args.scenarios)?;
    // Guests build into cargo's target directory, beside wbx's own build.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            // The workspace's own target directory, named without `..`: cargo
            // takes two spellings of one directory for two directories.
            let cli = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            cli.parent().unwrap_or(cli).join("target")
        })
        .join("wasm-guests");
    let options = |scenarios| BenchOptions {
        scenarios,
        repetitions: args.repetitions,
        scale: args.scale,
        store: args.store.clone(),
    };
    if !args.json {
        console::out(&format!(
            "{:<26} {:>14} {:<13} {:>14} {:>7}  spread",
            "scenario", "value", "", "baseline", "ratio"
        ));
    }
    let print = |m: &Measurement| {
        if args.json {
            console::out(&serde_json::to_string(m).unwrap_or_default());
        } else {
            let (baseline, ratio) = match (m.baseline, m.ratio) {
                (Some(baseline), Some(ratio)) => (format!("{baseline:.1}"), format!("{ratio:.3}")),
                _ => ("—".to_owned(), "—".to_owned()),
            };
            console::out(&format!(
                "{:<26} {:>14.1} {:<13} {:>14} {:>7}  {:.1}..{:.1}",
                m.scenario, m.value, m.unit, baseline, ratio, m.spread.0, m.spread.1
            ));
        }
    };
    if let Some(scenarios) = engine_scenarios {
        if !args.json {
            console::err("building the benchmark guests (release)…");
        }
        let guests = bench::build_guests(&target)?;
        tokio::runtime::Runtime::new()
            .context("cannot start the async runtime")?
            .block_on(bench::run(&guests, &options(scenarios), print))?;
    }
    if let Some(scenarios) = tui_scenarios {
        wbx_tui::bench::run(&options(scenarios), print)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The engine's scenarios and the interface's among those asked for (all
/// when none are named); `None` where none of that side's are wanted.
type Selection = Option<Vec<String>>;

fn split_scenarios(asked: &[String]) -> Result<(Selection, Selection)> {
    if asked.is_empty() {
        return Ok((Some(Vec::new()), Some(Vec::new())));
    }
    let (mut engine, mut tui) = (Vec::new(), Vec::new());
    let engine_scenarios = bench::scenarios();
    for name in asked {
        if engine_scenarios.contains(&name.as_str()) {
            engine.push(name.clone());
        } else if wbx_tui::bench::SCENARIOS.contains(&name.as_str()) {
            tui.push(name.clone());
        } else {
            anyhow::bail!(
                "no scenario named '{name}'; scenarios: {}, {}",
                engine_scenarios.join(", "),
                wbx_tui::bench::SCENARIOS.join(", ")
            );
        }
    }
    let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
    Ok((some(engine), some(tui)))
}
