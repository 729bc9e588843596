//! `wbx kill TARGET`: kills a process of the running engine, by pid or
//! registered name (`POST /api/actors/{target}/kill`), with the reason
//! `kill`, which it cannot trap. Its supervisor, if it has one, restarts it
//! or not as its restart type says; `wbx ps` shows which.

use std::process::ExitCode;

use anyhow::Result;

use crate::actors;
use crate::cli::KillArgs;
use crate::console;

pub fn run(args: KillArgs) -> Result<ExitCode> {
    actors::check_target(&args.target)?;
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = actors::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let answer = client.post(&actors::route(&args.target, "kill"), &[], "")?;
    if answer.status != 200 {
        console::error(&actors::refusal(&client, &args.target, &answer));
        return Ok(ExitCode::FAILURE);
    }
    let pid = answer.body["killed"].as_str().unwrap_or(&args.target);
    console::out(&format!("killed {pid}"));
    Ok(ExitCode::SUCCESS)
}
