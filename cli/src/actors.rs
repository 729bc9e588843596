//! What `wbx ps`, `wbx send`, `wbx tree` and `wbx kill` share: the running
//! engine they need (processes exist only while one runs), a target in a
//! route's path, and the control API's refusals in words that name the
//! target.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use serde_json::value::RawValue;
use wbx_engine::project::Project;

use crate::client::{Answer, Client, error_message, path_segment};

/// The project's engine; `None` once it said that none runs.
pub fn engine(project: &Project) -> Option<Client> {
    Client::running_for(project, "processes")
}

/// A target as the user gave it, refused when it cannot name a process.
pub fn check_target(target: &str) -> Result<()> {
    if target.trim().is_empty() {
        bail!("TARGET is empty: give a pid such as '<0.12>' or a registered name");
    }
    Ok(())
}

/// The route of `action` on `target`: `/api/actors/%3C0.12%3E/send`.
pub fn route(target: &str, action: &str) -> String {
    format!("/api/actors/{}/{action}", path_segment(target))
}

/// One item of a listing: parsed, and as the engine wrote it (`--json`
/// prints that, keys in the engine's order).
pub struct Item {
    pub value: Value,
    pub raw: Box<RawValue>,
}

/// The array a listing route answers (`/api/actors`, `/api/actors/tree`).
pub fn list(client: &Client, path: &str, what: &str) -> Result<Vec<Item>> {
    let answer = client.get(path)?;
    if answer.status != 200 {
        bail!("{}", unexpected(client, &answer, what));
    }
    let not_array = || {
        format!(
            "the engine at {} answered {what} with something not a JSON array: {}",
            client.api(),
            answer.text
        )
    };
    let raws: Vec<Box<RawValue>> = serde_json::from_str(&answer.text).with_context(not_array)?;
    raws.into_iter()
        .map(|raw| {
            let value = serde_json::from_str(raw.get()).with_context(not_array)?;
            Ok(Item { value, raw })
        })
        .collect()
}

/// Items as one JSON array, each as the engine wrote it.
pub fn json_array<'a>(items: impl IntoIterator<Item = &'a Item>) -> String {
    let raws: Vec<&str> = items.into_iter().map(|item| item.raw.get()).collect();
    format!("[{}]", raws.join(","))
}

/// Why the engine refused an action on `target`, said so the target is
/// named and the next step is plain.
pub fn refusal(client: &Client, target: &str, answer: &Answer) -> String {
    let mut message = error_message(&answer.body);
    // The engine may name the process by its pid where the user gave a name.
    if !message.contains(&format!("'{target}'")) {
        message = format!("{target}: {message}");
    }
    match answer.error_kind() {
        Some("no-such-process") => format!(
            "{message}: no live process has that pid or registered name (`wbx ps` lists them)"
        ),
        Some("timeout") => format!("{message} (--timeout-ms sets how long to wait)"),
        Some("mailbox-full" | "exited") => message,
        _ => unexpected(client, answer, &format!("'{target}'")),
    }
}

/// An answer the actors routes do not give: an engine without them, or a
/// failure of its own.
fn unexpected(client: &Client, answer: &Answer, what: &str) -> String {
    if answer.status == 404 && answer.error_kind().is_none() {
        return format!(
            "the engine at {} has no actors routes: it is older than this wbx; restart it",
            client.api()
        );
    }
    format!(
        "the engine at {} answered {} for {what}: {}",
        client.api(),
        answer.status,
        error_message(&answer.body)
    )
}
