//! `worker`: one process of the pool (`worker-1`, `worker-2`, `worker-3`,
//! started by `[supervisors.pool]` in wbx.toml). It counts the words of a
//! text and adds them to `counter`.
//!
//! | message | what it does | as a call, it replies |
//! |---|---|---|
//! | `{"words": "some text"}` | counts the words; as a call it *calls* `counter` (`{"add": N}`) and waits for the new count, as a cast it *casts* to `counter` and goes on | `{"worker": …, "words": N, "count": …}` |
//! | `{"nap": MS}` | sleeps MS milliseconds: send a few and watch its mailbox fill, then drain | `{"worker": …, "napped_ms": MS}` |
//! | `{"crash": "why"}` | ends the process with reason "why"; its supervisor starts a new one | — |
//! | `{"stats": {}}` | nothing | `{"worker": …, "jobs": …, "words": …}` |
//!
//! A nap longer than the module's deadline (`timeout-ms` in wbx.toml) is
//! cut short: the process ends with reason `timeout`, and is restarted too.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::actor::{self, Actor, Message};

/// The counter, by its registered name: whichever process holds the name
/// now, even after a restart gave it a new pid.
const COUNTER: &str = "counter";

/// How long a call to the counter may wait for its reply.
const COUNTER_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's state, handed over on a hot swap.
#[derive(Serialize, Deserialize)]
struct Worker {
    name: String,
    /// Jobs done by this process (a restarted one starts at 0).
    jobs: u64,
    /// Words counted by this process.
    words: u64,
}

/// `init`'s args: `args = { name = "worker-1" }` in wbx.toml.
#[derive(Deserialize)]
struct Args {
    name: String,
}

/// What it is sent: `{"words": "…"}`, `{"nap": 500}`, `{"crash": "…"}`, `{"stats": {}}`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Job {
    Words(String),
    Nap(u64),
    Crash(String),
    Stats {},
}

/// What `counter` reads and answers. Each crate declares the messages it
/// sends: between actors the contract is the JSON, not a shared type.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ToCounter {
    Add(u64),
}

#[derive(Deserialize)]
struct Count {
    count: i64,
}

impl Actor for Worker {
    type Args = Args;
    type Message = Job;
    type Reply = Value;

    fn init(args: Args) -> Result<Self, String> {
        Ok(Worker {
            name: args.name,
            jobs: 0,
            words: 0,
        })
    }

    fn handle(&mut self, message: Message<Job>) -> Result<Option<Value>, String> {
        let (job, is_call) = match message {
            Message::Cast { body, .. } => (body, false),
            Message::Call { body, .. } => (body, true),
            // Exit and down messages come only to a process that traps
            // exits or monitors another; this one does neither.
            Message::Exit { .. } | Message::Down { .. } => return Ok(None),
        };
        match job {
            Job::Words(text) => {
                let words = text.split_whitespace().count() as u64;
                self.jobs += 1;
                self.words += words;
                let add = ToCounter::Add(words);
                if is_call {
                    // Request/reply: this handler waits for the counter's
                    // answer; every other process goes on meanwhile.
                    let Count { count } = actor::call(COUNTER, &add, COUNTER_TIMEOUT)?;
                    Ok(Some(
                        json!({ "worker": self.name, "words": words, "count": count }),
                    ))
                } else {
                    // Fire and forget: queued in the counter's mailbox.
                    actor::send(COUNTER, &add)?;
                    wbx_guest::info!("{}: {words} words sent to the counter", self.name);
                    Ok(None)
                }
            }
            Job::Nap(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                self.jobs += 1;
                Ok(Some(json!({ "worker": self.name, "napped_ms": ms })))
            }
            // An error from a handler ends the process with it as the
            // reason: links and monitors learn it, and the supervisor
            // starts the worker again.
            Job::Crash(why) => Err(why),
            Job::Stats {} => Ok(Some(
                json!({ "worker": self.name, "jobs": self.jobs, "words": self.words }),
            )),
        }
    }
}

wbx_guest::export_actor!(Worker with state);
