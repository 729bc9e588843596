//! `wbx tap FLOW FROM TO [--port P] [--json]`: the elements passing one edge
//! of a flow of the running engine, live (`GET
//! /api/flows/{flow}/tap?from=&to=[&port=]`, JSON lines for as long as it
//! listens). One line an element: `#SEQUENCE KEY CONTENT-TYPE PAYLOAD`,
//! a JSON payload on one line; `--json` prints the lines as the engine
//! streams them. A tap never holds the flow: elements it is too slow for
//! are skipped, and a note says how many. It ends on Ctrl-C, or when the
//! engine ends the stream (it stops, or the flow starts a new run).

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::Value;
use wbx_engine::pipelines::info::ElementView;

use crate::cli::TapArgs;
use crate::console::{self, DIM, Stream, YELLOW, paint};
use crate::flows;

pub fn run(args: TapArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = flows::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("from", &args.from)
        .append_pair("to", &args.to);
    if let Some(port) = &args.port {
        query.append_pair("port", port);
    }
    let path = format!("{}?{}", flows::route(&args.flow, "tap"), query.finish());
    let lines = match client.open_stream(&path)? {
        Ok(lines) => lines,
        Err(answer) => {
            console::error(&flows::refusal(&client, &args.flow, &answer));
            return Ok(ExitCode::FAILURE);
        }
    };
    let from = match &args.port {
        Some(port) => format!("{}:{port}", args.from),
        None => args.from.clone(),
    };
    // Said once the engine answered: from here on no element passes unseen.
    console::err(&paint(
        Stream::Stderr,
        &format!(
            "tapping {from} → {} of flow {} (Ctrl-C to stop)",
            args.to, args.flow
        ),
        DIM,
    ));
    for line in lines {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if args.json {
            console::out(&line);
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .with_context(|| format!("the engine streamed a line that is not JSON: {line}"))?;
        if let Some(skipped) = value.get("skipped").and_then(Value::as_u64) {
            console::err(&paint(
                Stream::Stderr,
                &format!(
                    "({} skipped: this tap could not keep up, the flow did not wait)",
                    console::count(skipped, "element")
                ),
                YELLOW,
            ));
            continue;
        }
        let element: ElementView = serde_json::from_value(value).with_context(|| {
            format!("the engine streamed a line that is not an element: {line}")
        })?;
        console::out(&element_line(&element));
    }
    console::err(&paint(
        Stream::Stderr,
        "the tap ended: the engine stopped, or the flow started a new run",
        DIM,
    ));
    Ok(ExitCode::SUCCESS)
}

/// `#12 user:7 application/json {"n":12}`: the sequence, the key (`-` for
/// none), the content type and the payload on one line: JSON compact, text
/// with its control characters escaped, other bytes as `base64:…`.
fn element_line(element: &ElementView) -> String {
    let payload = match (&element.payload, &element.payload_base64) {
        (_, Some(encoded)) => format!("base64:{encoded}"),
        (Some(Value::String(text)), None) if !element.content_type.contains("json") => text
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
        (Some(value), None) => value.to_string(),
        (None, None) => String::new(),
    };
    format!(
        "#{} {} {} {payload}",
        element.sequence,
        paint(Stream::Stdout, element.key.as_deref().unwrap_or("-"), DIM),
        paint(Stream::Stdout, &element.content_type, DIM)
    )
}
