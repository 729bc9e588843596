//! `moderator`: one process (registered as `moderator`) that every room
//! calls before passing a line on. Banned words (its args, in wbx.toml)
//! become `***`; it counts who said them, and reports each flagged line
//! by executing the command `report-member` (events model), whose events
//! outlive any process.
//!
//! | message | what it does | as a call, it replies |
//! |---|---|---|
//! | `{"check": {"member": "ada", "room": "general", "text": "…"}}` | masks banned words; a flagged line is counted and reported | `{"text": …, "flagged": bool, "reported": bool}` |
//! | `{"ban": "word"}` | bans one more word | the banned words |
//! | `{"flagged": {}}` | nothing | lines flagged, per member |
//!
//! Kill it (`wbx kill moderator`) and rooms go on: their call fails, they
//! pass lines unchecked and log it until the supervisor has started it
//! again, with the words of wbx.toml and no counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::actor::{Actor, Message};

#[derive(Serialize, Deserialize)]
struct Moderator {
    /// Lower case.
    banned: Vec<String>,
    flagged: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct Args {
    #[serde(default)]
    banned: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Check {
        member: String,
        #[serde(default)]
        room: String,
        text: String,
    },
    Ban(String),
    Flagged {},
}

impl Actor for Moderator {
    type Args = Args;
    type Message = Op;
    type Reply = Value;

    fn init(args: Args) -> Result<Self, String> {
        Ok(Moderator {
            banned: args.banned.iter().map(|w| w.to_lowercase()).collect(),
            flagged: BTreeMap::new(),
        })
    }

    fn handle(&mut self, message: Message<Op>) -> Result<Option<Value>, String> {
        let Some(op) = message.body() else {
            // It monitors nothing and traps no exits.
            return Ok(None);
        };
        Ok(Some(match op {
            Op::Check { member, room, text } => {
                let (masked, flagged) = self.mask(text);
                let reported = flagged && {
                    *self.flagged.entry(member.clone()).or_default() += 1;
                    report(member, room, text)
                };
                json!({ "text": masked, "flagged": flagged, "reported": reported })
            }
            Op::Ban(word) => {
                let word = word.to_lowercase();
                if !self.banned.contains(&word) {
                    self.banned.push(word);
                }
                json!(self.banned)
            }
            Op::Flagged {} => json!(self.flagged),
        }))
    }
}

/// Executes `report-member`; whether it was recorded. A report that
/// fails is logged, not fatal: moderation goes on without it.
fn report(member: &str, room: &str, text: &str) -> bool {
    let input = json!({ "member": member, "room": room, "text": text });
    match wbx_guest::commands::execute("report-member", &input.to_string(), None) {
        Ok(_) => {
            wbx_guest::info!("reported a line from {member} in #{room}");
            true
        }
        Err(e) => {
            wbx_guest::warn!("the report on {member} was not recorded: {e:?}");
            false
        }
    }
}

impl Moderator {
    /// `text` with each banned word (whole words, any case) as `***`, and
    /// whether there was one.
    fn mask(&self, text: &str) -> (String, bool) {
        let mut flagged = false;
        let words: Vec<String> = text
            .split(' ')
            .map(|word| {
                let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
                if !bare.is_empty() && self.banned.contains(&bare.to_lowercase()) {
                    flagged = true;
                    word.replace(bare, "***")
                } else {
                    word.to_owned()
                }
            })
            .collect();
        (words.join(" "), flagged)
    }
}

wbx_guest::export_actor!(Moderator with state);
