//! What `wbx ps`, `wbx send`, `wbx tree` and `wbx kill` share: the running
//! engine they need (processes exist only while one runs), a target in a
//! route's path, and the control API's refusals in words that name the
//! target.

use anyhow::{Result, bail};
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
        _ => client.unexpected(answer, "actors", &format!("'{target}'")),
    }
}
