//! `wbx export [--output FILE]`: every event of the project's store as JSON
//! Lines, one envelope a line, in position order. Reads the store directly
//! (SQLite or PostgreSQL, wherever `[store]` or `WBX_STORE_URL` says), so it
//! works whether an engine runs or not.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use wbx_engine::events::{EventStore, Query, ReadOptions, StoreLocation};

use crate::cli::ExportArgs;
use crate::console;

/// Events read from the store at a time.
const PAGE: u64 = 10_000;

pub fn run(args: ExportArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let location = StoreLocation::of_project(&project.manifest, &project.state)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(file) => Box::new(BufWriter::new(
            File::create(file).with_context(|| format!("cannot create {}", file.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut count = 0u64;
    if let Some(store) = EventStore::connect_existing(&location)? {
        let mut from = 1;
        loop {
            let options = ReadOptions::forward(from, PAGE);
            let page = store.read(&Query::all(), options)?;
            for event in &page {
                serde_json::to_writer(&mut out, event)?;
                out.write_all(b"\n")?;
                from = event.position + 1;
            }
            count += page.len() as u64;
            if (page.len() as u64) < PAGE {
                break;
            }
        }
    }
    out.flush().context("cannot write the export")?;
    if let Some(file) = &args.output {
        console::err(&format!(
            "exported {} to {}",
            console::count(count, "event"),
            file.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
