//! `wbx flow start|stop|pause|resume|redrive FLOW`: one lifecycle action on
//! a flow of the running engine (`POST /api/flows/{flow}/{action}`),
//! printing the flow's status after it (`clicks: paused`); `stop` answers
//! once what was queued went through. `redrive` sends the flow's dead
//! letters again, each into the stage where it failed, and prints how many.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{FlowAction, FlowArgs};
use crate::console;
use crate::flows;

pub fn run(args: FlowArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = flows::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let answer = client.post(&flows::route(&args.flow, args.action.as_str()), &[], "")?;
    if answer.status != 200 {
        console::error(&flows::refusal(&client, &args.flow, &answer));
        return Ok(ExitCode::FAILURE);
    }
    let said = match args.action {
        FlowAction::Redrive => match answer.body["redriven"].as_u64().unwrap_or(0) {
            0 => "no dead letters to re-send".to_owned(),
            n => format!("{} re-sent", console::count(n, "dead letter")),
        },
        _ => answer.body["status"].as_str().unwrap_or("?").to_owned(),
    };
    console::out(&format!("{}: {said}", args.flow));
    Ok(ExitCode::SUCCESS)
}
