//! `wbx import FILE`: appends a JSON Lines history (as `wbx export` writes
//! it) to the project's store (SQLite or PostgreSQL, wherever `[store]` or
//! `WBX_STORE_URL` says), keeping positions, ids and timestamps. The
//! whole file is checked first and written in one transaction: a bad line
//! writes nothing. Refused while an engine runs, so its projectors and
//! effects never miss events written behind their back.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use wbx_engine::events::{EventStore, StoreLocation, StoredEvent};

use crate::cli::ImportArgs;
use crate::client::Client;
use crate::console;

pub fn run(args: ImportArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    if let Some(client) = Client::running(&project) {
        bail!(
            "an engine runs for this project at {}: stop it before importing",
            client.api()
        );
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: StoredEvent = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not an event", args.file.display(), n + 1))?;
        events.push(event);
    }
    project.state.create()?;
    let location = StoreLocation::of_project(&project.manifest, &project.state)?;
    let store = EventStore::connect(&location)?;
    let count = store
        .import(&events)
        .with_context(|| format!("cannot import {}: nothing was written", args.file.display()))?;
    match (events.first(), events.last()) {
        (Some(first), Some(last)) => console::out(&format!(
            "imported {} (positions {}..={})",
            console::count(count, "event"),
            first.position,
            last.position
        )),
        _ => console::out("imported 0 events: the file is empty"),
    }
    Ok(ExitCode::SUCCESS)
}
