//! `room`: one chat room, one process (`general` and `rust`, started by
//! `[supervisors.rooms]` in wbx.toml).
//!
//! | message | what it does | as a call, it replies |
//! |---|---|---|
//! | `{"join": "ada"}` | spawns a `member` process for ada, registered as `ada@general`, and monitors it | `{"joined": "general", "as": "ada@general", "pid": …, "members": […]}` |
//! | `{"say": {"member": "ada", "text": "hi"}}` | asks `moderator` to check the text, keeps the line, passes it to every member | `{"delivered": N, "flagged": bool}` |
//! | `{"leave": "ada"}` | ends ada's member process with reason `left` | `{"left": "ada"}` |
//! | `{"who": {}}` | nothing | the members' names |
//! | `{"history": {}}` | nothing | the latest lines, oldest first |
//!
//! A sender's mistake (joining twice, speaking without having joined) is a
//! reply saying so (`{"error": …}`), not a crash: a room's members should
//! not go down because someone mistyped. A member process that ends
//! without leaving (killed, crashed) reaches the room as a `down` message:
//! the room drops the member and tells the others.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::actor::{self, Actor, Message, MonitorRef, Pid, SpawnOptions};

/// Lines a room keeps.
const HISTORY: usize = 50;
/// How long a line waits for the moderator before it goes out unchecked.
const MODERATOR_TIMEOUT: Duration = Duration::from_millis(500);

/// The room's state, handed to the new version on a hot swap: members and
/// history survive an edit of this file. A restart (after a crash or a
/// kill) starts from `init`: an empty room, and its members' processes,
/// which monitor it, end with it.
#[derive(Serialize, Deserialize)]
struct Room {
    name: String,
    topic: String,
    members: BTreeMap<String, Seat>,
    history: Vec<Line>,
}

/// A member's process, as the room holds it.
#[derive(Serialize, Deserialize)]
struct Seat {
    pid: Pid,
    monitor: MonitorRef,
}

#[derive(Clone, Serialize, Deserialize)]
struct Line {
    from: String,
    text: String,
}

#[derive(Deserialize)]
struct Args {
    name: String,
    #[serde(default)]
    topic: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Join(String),
    Say { member: String, text: String },
    Leave(String),
    Who {},
    History {},
}

/// What the room sends each member.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ToMember<'a> {
    Heard { from: &'a str, text: &'a str },
}

/// What the room asks the moderator, and its answer.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ToModerator<'a> {
    Check {
        member: &'a str,
        room: &'a str,
        text: &'a str,
    },
}

#[derive(Deserialize)]
struct Checked {
    text: String,
    flagged: bool,
}

impl Actor for Room {
    type Args = Args;
    type Message = Op;
    type Reply = Value;

    fn init(args: Args) -> Result<Self, String> {
        wbx_guest::info!("#{} open: {}", args.name, args.topic);
        Ok(Room {
            name: args.name,
            topic: args.topic,
            members: BTreeMap::new(),
            history: Vec::new(),
        })
    }

    fn handle(&mut self, message: Message<Op>) -> Result<Option<Value>, String> {
        match message {
            Message::Cast { body, .. } | Message::Call { body, .. } => self.op(body).map(Some),
            Message::Down {
                monitor, reason, ..
            } => {
                self.gone(monitor, &reason);
                Ok(None)
            }
            // The room traps no exits and links to nothing: never sent.
            Message::Exit { .. } => Ok(None),
        }
    }
}

impl Room {
    fn op(&mut self, op: Op) -> Result<Value, String> {
        match op {
            Op::Join(member) => self.join(member),
            Op::Say { member, text } => self.say(&member, &text),
            Op::Leave(member) => self.leave(&member),
            Op::Who {} => Ok(json!(self.members.keys().collect::<Vec<_>>())),
            Op::History {} => Ok(json!(self.history)),
        }
    }

    fn join(&mut self, member: String) -> Result<Value, String> {
        if self.members.contains_key(&member) {
            return Ok(json!({ "error": format!("{member} is in #{} already", self.name) }));
        }
        let address = format!("{member}@{}", self.name);
        let args = json!({ "name": member, "room": self.name });
        // Monitored, not linked: a member that crashes must not take the
        // room down, and a `down` message tells the room it is gone.
        let options = SpawnOptions::default().monitored().registered(&address);
        let spawned = match actor::spawn("member", &args, options) {
            Ok(spawned) => spawned,
            // The name still held by a process on its way out, say: the
            // join fails, the room goes on.
            Err(e) => return Ok(json!({ "error": format!("{member} cannot join: {e}") })),
        };
        let monitor = spawned.monitor.ok_or("spawn gave no monitor")?;
        self.announce(&format!("{member} joined"));
        self.members.insert(
            member,
            Seat {
                pid: spawned.pid.clone(),
                monitor,
            },
        );
        Ok(json!({
            "joined": self.name,
            "as": address,
            "pid": spawned.pid,
            "members": self.members.keys().collect::<Vec<_>>(),
        }))
    }

    fn say(&mut self, member: &str, text: &str) -> Result<Value, String> {
        if !self.members.contains_key(member) {
            return Ok(json!({ "error": format!("{member} has not joined #{}", self.name) }));
        }
        // Request/reply with another process; if the moderator is down
        // (restarting, say), the line goes out as it is rather than not at all.
        let check = ToModerator::Check {
            member,
            room: &self.name,
            text,
        };
        let checked = match actor::call::<Checked>("moderator", &check, MODERATOR_TIMEOUT) {
            Ok(checked) => checked,
            Err(e) => {
                wbx_guest::warn!("#{}: unmoderated line from {member}: {e}", self.name);
                Checked {
                    text: text.to_owned(),
                    flagged: false,
                }
            }
        };
        let line = Line {
            from: member.to_owned(),
            text: checked.text,
        };
        let delivered = self.broadcast(&line);
        self.keep(line);
        Ok(json!({ "delivered": delivered, "flagged": checked.flagged }))
    }

    fn leave(&mut self, member: &str) -> Result<Value, String> {
        let Some(seat) = self.members.remove(member) else {
            return Ok(json!({ "error": format!("{member} is not in #{}", self.name) }));
        };
        // Taken off at once, so no `down` is waited for.
        actor::demonitor(seat.monitor);
        actor::exit(&seat.pid, "left")?;
        self.announce(&format!("{member} left"));
        Ok(json!({ "left": member }))
    }

    /// A monitored member process ended without leaving.
    fn gone(&mut self, monitor: MonitorRef, reason: &str) {
        let found = self
            .members
            .iter()
            .find(|(_, seat)| seat.monitor == monitor)
            .map(|(name, _)| name.clone());
        if let Some(member) = found {
            self.members.remove(&member);
            self.announce(&format!("{member} is gone ({reason})"));
        }
    }

    /// A line from the room itself.
    fn announce(&mut self, text: &str) {
        let line = Line {
            from: format!("#{}", self.name),
            text: text.to_owned(),
        };
        self.broadcast(&line);
        self.keep(line);
    }

    /// Casts the line to every member; the count that took it. A member
    /// whose mailbox is full misses it (and its refusal is counted on it).
    fn broadcast(&self, line: &Line) -> usize {
        let heard = ToMember::Heard {
            from: &line.from,
            text: &line.text,
        };
        let mut delivered = 0;
        for (member, seat) in &self.members {
            match actor::send(&seat.pid, &heard) {
                Ok(()) => delivered += 1,
                Err(e) => wbx_guest::warn!("#{}: {member} missed a line: {e}", self.name),
            }
        }
        delivered
    }

    fn keep(&mut self, line: Line) {
        self.history.push(line);
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
    }
}

wbx_guest::export_actor!(Room with state);
