//! `wbx push FLOW [--node NAME] [--data JSON|@FILE]…`: elements into a push
//! source of a flow of the running engine (`POST
//! /api/flows/{flow}/push[?node=NAME]`, one JSON array), each a JSON value:
//! each `--data`, or without one each non-empty line of standard input.
//! Every value is checked here first; one that is not JSON is shown where
//! it is and nothing is pushed. Exits 0 once the engine queued them all,
//! printing how many and their sequence numbers.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::PushArgs;
use crate::console::{self, DIM, Stream, paint};
use crate::{flows, input};

pub fn run(args: PushArgs) -> Result<ExitCode> {
    let elements = read_elements(&args)?;
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = flows::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let mut route = flows::route(&args.flow, "push");
    if let Some(node) = &args.node {
        route += &format!(
            "?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("node", node)
                .finish()
        );
    }
    let body = format!("[{}]", elements.join(","));
    let answer = client.post(&route, &[], &body)?;
    if answer.status != 200 {
        console::error(&flows::refusal(&client, &args.flow, &answer));
        return Ok(ExitCode::FAILURE);
    }
    let sequences: Vec<u64> = answer.body["sequences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_u64())
        .collect();
    let accepted = answer.body["accepted"]
        .as_u64()
        .unwrap_or(sequences.len() as u64);
    let range = match (sequences.iter().min(), sequences.iter().max()) {
        (Some(first), Some(last)) if first == last => format!(" (sequence {first})"),
        (Some(first), Some(last)) => format!(" (sequences {first} to {last})"),
        _ => String::new(),
    };
    console::out(&format!(
        "accepted {} into {}{range}",
        console::count(accepted, "element"),
        args.flow
    ));
    Ok(ExitCode::SUCCESS)
}

/// The elements' JSON texts: each `--data`, or each non-empty line of
/// standard input; all checked before any is sent.
fn read_elements(args: &PushArgs) -> Result<Vec<String>> {
    let nothing = |e: anyhow::Error| e.context("nothing was pushed");
    if !args.data.is_empty() {
        let several = args.data.len() > 1;
        return args
            .data
            .iter()
            .enumerate()
            .map(|(i, data)| {
                let what = if several {
                    format!("the element of --data #{}", i + 1)
                } else {
                    "the element".to_owned()
                };
                input::json(data, &what).map(|text| text.trim().to_owned())
            })
            .collect::<Result<_>>()
            .map_err(nothing);
    }
    if std::io::stdin().is_terminal() {
        console::err(&paint(
            Stream::Stderr,
            "reading elements from standard input, one JSON value a line (Ctrl-D ends)",
            DIM,
        ));
    }
    let text = input::stdin("the elements")?;
    let elements = input::json_lines(&text, "standard input").map_err(nothing)?;
    if elements.is_empty() {
        bail!("nothing to push: standard input held no JSON value (one a line, or give --data)");
    }
    Ok(elements.into_iter().map(str::to_owned).collect())
}
