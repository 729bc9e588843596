//! What `wbx flows`, `wbx flow`, `wbx push` and `wbx tap` share: the
//! running engine they need (flows run only while one does), a flow's
//! routes, and the control API's refusals in words that name the flow, the
//! edge or the node, and the next step.

use wbx_engine::project::Project;

use crate::client::{Answer, Client, error_message, path_segment};

/// The project's engine; `None` once it said that none runs.
pub fn engine(project: &Project) -> Option<Client> {
    Client::running_for(project, "flows and their queues")
}

/// The route of `action` on `flow`: `/api/flows/clicks/push`.
pub fn route(flow: &str, action: &str) -> String {
    format!("/api/flows/{}/{action}", path_segment(flow))
}

/// Why the engine refused an action on `flow`, said so the flow (and the
/// edge or node) is named and the next step is plain.
pub fn refusal(client: &Client, flow: &str, answer: &Answer) -> String {
    let mut message = error_message(&answer.body);
    if !message.contains(&format!("'{flow}'")) {
        message = format!("flow '{flow}': {message}");
    }
    match answer.error_kind() {
        // The engine says which and how to go on: `wbx flows`, `wbx flow start`.
        Some("no-such-flow" | "not-running") => message,
        Some("no-such-edge") => format!(
            "{message}: FROM and TO are nodes of the flow, --port a router's port (`wbx flows` \
             lists its edges)"
        ),
        Some("no-such-stage") => format!("{message} (--node names one of its push sources)"),
        Some("no-push-node") => format!("{message} (--node names a push source)"),
        Some("queue-full") => format!(
            "{message} (the elements pushed before the refused one were queued; it and those \
             after it were not)"
        ),
        Some("bad-request") => message,
        _ => client.unexpected(answer, "flows", &format!("flow '{flow}'")),
    }
}
