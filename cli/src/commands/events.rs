//! `wbx events [--type T] [--tag K:V] [--from N] [--limit N] [--backwards]
//! [--grep TEXT] [--follow] [--json]`: lists events from the running engine
//! or the project's store; `--follow` streams new ones from a running
//! engine. A text is looked up in the store's text index where it has one.

use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::Value;
use wbx_engine::events::{Browse, EventStore, Query, QueryItem, ReadOptions, StoreLocation};

use crate::cli::EventsArgs;
use crate::client::{Client, error_message};
use crate::console;
use crate::show::event_line;

pub fn run(args: EventsArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let print = |event: &Value| {
        if args.json {
            console::out(&event.to_string());
        } else {
            console::out(&event_line(event));
        }
    };
    match Client::running(&project) {
        Some(client) => {
            let query = query_string(&args);
            if args.follow {
                client.stream(&format!("/api/events/stream?{query}"), |line| {
                    if let Ok(event) = serde_json::from_str::<Value>(line) {
                        print(&event);
                    }
                    true
                })?;
            } else {
                let answer = client.get(&format!("/api/events?{query}"))?;
                if answer.status != 200 {
                    bail!("{}", error_message(&answer.body));
                }
                answer.body.as_array().into_iter().flatten().for_each(print);
            }
        }
        None => {
            if args.follow {
                bail!("--follow needs a running engine: start one with `wbx run`");
            }
            let location = StoreLocation::of_project(&project.manifest, &project.state)?;
            let Some(store) = EventStore::connect_existing(&location)? else {
                return Ok(ExitCode::SUCCESS);
            };
            let item = QueryItem {
                types: args.types.clone(),
                tags: args.tags.clone(),
            };
            let query = if item.types.is_empty() && item.tags.is_empty() {
                Query::all()
            } else {
                Query::new(vec![item])
            };
            query.validate().map_err(anyhow::Error::msg)?;
            let options = ReadOptions {
                from: args.from,
                backwards: args.backwards,
                limit: args.limit,
            };
            let text = args.grep.clone();
            for event in store.browse(&Browse { query, text }, options)? {
                print(&serde_json::to_value(&event)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn query_string(args: &EventsArgs) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for t in &args.types {
        query.append_pair("type", t);
    }
    for t in &args.tags {
        query.append_pair("tag", t);
    }
    if let Some(from) = args.from {
        query.append_pair("from", &from.to_string());
    }
    if let Some(limit) = args.limit {
        query.append_pair("limit", &limit.to_string());
    }
    if args.backwards {
        query.append_pair("backwards", "true");
    }
    if let Some(text) = &args.grep {
        query.append_pair("grep", text);
    }
    query.finish()
}
