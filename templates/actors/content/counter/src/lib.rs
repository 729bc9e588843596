//! `counter`: one number, kept by one process, registered as `counter`.
//!
//! | message | as a cast | as a call, it replies |
//! |---|---|---|
//! | `{"add": N}` | adds N | `{"count": …}`, after adding |
//! | `{"get": {}}` | nothing | `{"count": …}` |
//! | `{"reset": {}}` | sets it to 0 | `{"count": 0}` |
//!
//! The number lives in the process (the `Counter` value below), not in a
//! database. `export_actor!(Counter with state)` hands it to the new
//! version when this file changes under `wbx dev`, so the count carries on
//! under the new code. A process that is killed or crashes loses it: its
//! supervisor starts a new one from its args (`start`, in wbx.toml).

use serde::{Deserialize, Serialize};
use wbx_guest::actor::{Actor, Message};

/// The process's state: what a hot swap hands over, and what the Actors
/// pane shows. A field added later needs `#[serde(default)]`, so that the
/// state the old version saved still reads.
#[derive(Serialize, Deserialize)]
struct Counter {
    count: i64,
}

/// `init`'s args: `args = { start = 0 }` in wbx.toml.
#[derive(Deserialize)]
struct Args {
    #[serde(default)]
    start: i64,
}

/// What it is sent: `{"add": 2}`, `{"get": {}}`, `{"reset": {}}`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Add(i64),
    Get {},
    Reset {},
}

#[derive(Serialize)]
struct Count {
    count: i64,
}

impl Actor for Counter {
    type Args = Args;
    type Message = Op;
    type Reply = Count;

    fn init(args: Args) -> Result<Self, String> {
        Ok(Counter { count: args.start })
    }

    fn handle(&mut self, message: Message<Op>) -> Result<Option<Count>, String> {
        match message {
            // A cast and a call carry the same messages; only a call's
            // sender waits for what this returns.
            Message::Cast { body, .. } | Message::Call { body, .. } => match body {
                Op::Add(n) => self.count += n,
                Op::Get {} => {}
                Op::Reset {} => self.count = 0,
            },
            // Exit and down messages come only to a process that traps
            // exits or monitors another; this one does neither.
            Message::Exit { .. } | Message::Down { .. } => {}
        }
        Ok(Some(Count { count: self.count }))
    }
}

wbx_guest::export_actor!(Counter with state);
