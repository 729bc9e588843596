//! `wbx bench [SCENARIO…] [--json] [--repetitions N] [--scale X]`: the
//! built-in scenarios, each next to its bare baseline measured in the same
//! run. Run it from a release build (`cargo run --release -- bench`).

use std::process::ExitCode;

use anyhow::{Context, Result};
use wbx_engine::bench::{self, BenchOptions, Measurement};

use crate::cli::BenchArgs;
use crate::console;

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale.is_finite()) {
        anyhow::bail!("--scale must be a positive number, not {}", args.scale);
    }
    // Guests build into cargo's target directory, beside wbx's own build.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("wasm-guests");
    if !args.json {
        console::err("building the benchmark guests (release)…");
    }
    let guests = bench::build_guests(&target)?;
    let options = BenchOptions {
        scenarios: args.scenarios,
        repetitions: args.repetitions,
        scale: args.scale,
    };
    if !args.json {
        console::out(&format!(
            "{:<18} {:>14} {:<13} {:>14} {:>7}  spread",
            "scenario", "value", "", "baseline", "ratio"
        ));
    }
    let print = |m: &Measurement| {
        if args.json {
            console::out(&serde_json::to_string(m).unwrap_or_default());
        } else {
            console::out(&format!(
                "{:<18} {:>14.1} {:<13} {:>14.1} {:>7.3}  {:.1}..{:.1}",
                m.scenario, m.value, m.unit, m.baseline, m.ratio, m.spread.0, m.spread.1
            ));
        }
    };
    tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")?
        .block_on(bench::run(&guests, &options, print))?;
    Ok(ExitCode::SUCCESS)
}
