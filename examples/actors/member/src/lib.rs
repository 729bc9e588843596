//! `member`: one person in one room, as a process. A room spawns it when
//! someone joins (`{"join": "ada"}` to `general` makes `ada@general`);
//! nothing supervises it.
//!
//! | message | what it does | as a call, it replies |
//! |---|---|---|
//! | `{"heard": {"from": "bo", "text": "hi"}}` | keeps the line (the room sends these) | — |
//! | `{"say": "hi"}` | casts `{"say": {"member": …, "text": "hi"}}` to its room | — |
//! | `{"inbox": {}}` | nothing | the lines it heard, `"from: text"`, oldest first |
//!
//! It monitors its room: when the room's process ends (a crash, a kill,
//! its supervisor restarting it), a `down` message arrives and the member
//! ends too, with a reason that says so. The room monitors it in turn.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::actor::{self, Actor, Message};

/// Lines a member keeps.
const INBOX: usize = 100;

#[derive(Serialize, Deserialize)]
struct Member {
    name: String,
    room: String,
    inbox: Vec<String>,
}

#[derive(Deserialize)]
struct Args {
    name: String,
    /// The room's registered name.
    room: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Heard { from: String, text: String },
    Say(String),
    Inbox {},
}

/// What a member sends its room.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ToRoom<'a> {
    Say { member: &'a str, text: &'a str },
}

impl Actor for Member {
    type Args = Args;
    type Message = Op;
    type Reply = Value;

    fn init(args: Args) -> Result<Self, String> {
        // By name: the room that holds the name now. If none does, a
        // `down` with reason `noproc` comes at once, and this process ends.
        actor::monitor(&args.room);
        Ok(Member {
            name: args.name,
            room: args.room,
            inbox: Vec::new(),
        })
    }

    fn handle(&mut self, message: Message<Op>) -> Result<Option<Value>, String> {
        match message {
            Message::Cast { body, .. } | Message::Call { body, .. } => match body {
                Op::Heard { from, text } => {
                    self.inbox.push(format!("{from}: {text}"));
                    if self.inbox.len() > INBOX {
                        self.inbox.remove(0);
                    }
                    Ok(None)
                }
                Op::Say(text) => {
                    let say = ToRoom::Say {
                        member: &self.name,
                        text: &text,
                    };
                    actor::send(&self.room, &say)?;
                    Ok(None)
                }
                Op::Inbox {} => Ok(Some(json!(self.inbox))),
            },
            Message::Down { reason, .. } => {
                Err(format!("its room #{} went down ({reason})", self.room))
            }
            // It links to nothing and traps no exits: never sent.
            Message::Exit { .. } => Ok(None),
        }
    }
}

wbx_guest::export_actor!(Member with state);
