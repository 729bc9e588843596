//! An actor for the engine's tests: each message is one JSON object
//! `{"op": …}` that makes the process do one thing an actor may do, or
//! misbehave. `probe-v2` builds this source reporting version `v2` and
//! taking the state `probe` hands over; `probe-nostate` reports `v2` too
//! but hands no state over (its `save-state` and `restore-state` fail), so
//! a swap to it restarts each process through `init` with its args.
//!
//! State (what `get` replies and `inspect` shows):
//! `{"count": u64, "seen": [u64], "events": [json], "args": json, "version": "v1"|"v2"}`.
//! `args` are the init args; `init` fails with reason R when they hold
//! `{"fail_init": R}`. `version` is always the running code's, never the
//! saved one. Exit and down messages are pushed to `events` as
//! `{"kind":"exit","from":pid|null,"reason":r}` and
//! `{"kind":"down","ref":r,"from":pid|null,"reason":r}`.
//!
//! A target `T` is a pid or a registered name. "ok/error" below is
//! `{"ok": null}` or `{"error": "…"}` (the SDK's error text, e.g.
//! `no such process: …`, `mailbox full: …`, `timeout: no reply in time`,
//! `exited before replying: …`). Replies matter for calls only.
//!
//! | message | does | replies |
//! |---|---|---|
//! | `{"op":"count"}` | count += 1 | count |
//! | `{"op":"get"}` | | the state |
//! | `{"op":"seq","n":k}` | pushes k to `seen` | k |
//! | `{"op":"done"}` | pushes count + 1 to `seen`, count += 1 | count |
//! | `{"op":"send","to":T,"msg":M}` | sends M to T | ok/error |
//! | `{"op":"relay","to":T,"msg":M}` | sends M to T, records nothing | ok/error |
//! | `{"op":"call","to":T,"msg":M,"timeout_ms":N,"then_ms":W}` | calls T (N defaults to 5000), then busy-waits W ms (default 0) | `{"ok": reply}` or `{"error": …}` |
//! | `{"op":"spawn","module":m,"args":a,"link":b,"monitor":b,"register":n}` | spawns (all but `module` optional) | `{"pid":p,"monitor":ref\|null}` or `{"error": …}` |
//! | `{"op":"link","to":T}` | links | ok/error |
//! | `{"op":"unlink","to":T}` | unlinks | null |
//! | `{"op":"monitor","to":T}` | monitors | the monitor's ref (a number) |
//! | `{"op":"demonitor","ref":r}` | demonitors | null |
//! | `{"op":"trap_exit","on":b}` | traps exits or stops | null |
//! | `{"op":"exit","to":T,"reason":r}` | sends an exit signal | ok/error |
//! | `{"op":"register","name":n}` | registers itself | ok/error |
//! | `{"op":"unregister","name":n}` | | null |
//! | `{"op":"whereis","name":n}` | | the pid or null |
//! | `{"op":"self"}` | | its pid |
//! | `{"op":"send_after","to":T,"msg":M,"ms":N}` | starts a timer | the timer's id (a number) |
//! | `{"op":"cancel_timer","timer":t}` | | true when cancelled in time |
//! | `{"op":"compute","ms":N}` | busy-waits N ms of wall clock | N |
//! | `{"op":"http","url":U}` | `GET U` (a service is `http://{namespace}.{module}/…`) | `{"status":s,"body":text}` or `{"error": …}` |
//! | `{"op":"exec","command":C,"input":I}` | executes command C with input I | `{"events":n,"position":p}` or `{"error": …}` |
//! | `{"op":"stop","reason":r}` | exits with reason r | — |
//! | `{"op":"loop"}` | logs `looping`, then loops forever | — |
//! | `{"op":"trap"}` | executes `unreachable` | — |
//! | `{"op":"panic"}` | panics with `probe panics` | — |
//! | `{"op":"bomb"}` | allocates until it fails | — |
//! | `{"op":"ping","peer":T,"left":n,"done":D}` | n = 0: sends `{"op":"done"}` to D; else `{"op":"ping","peer":<its pid>,"left":n-1,"done":D}` to T | ok/error |
//! | `{"op":"token","next":T,"hops":h,"done":D}` | h = 0: sends `{"op":"done"}` to D; else `{"op":"token","next":N,"hops":h-1,"done":D}` to N, where N is its own `args.next` when set, else T (`next` is optional when `args.next` is set) | ok/error |
//! | `{"op":"set_next","next":p}` | sets `args.next` (a ring's next process) | null |
//!
//! Any other op replies `{"error":"unknown op"}`; a known op with missing
//! or mistyped fields replies `{"error":"bad message: …"}`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wbx_guest::actor::{self, Actor, Message, MonitorRef, SpawnOptions, TimerRef};

const VERSION: &str = if cfg!(feature = "v2") { "v2" } else { "v1" };

#[derive(Serialize, Deserialize)]
struct Probe {
    count: u64,
    seen: Vec<u64>,
    events: Vec<Value>,
    args: Value,
    #[serde(skip_deserializing, default = "running_version")]
    version: String,
}

fn running_version() -> String {
    VERSION.to_owned()
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Count,
    Get,
    Seq {
        n: u64,
    },
    Done,
    Send {
        to: String,
        msg: Value,
    },
    Relay {
        to: String,
        msg: Value,
    },
    Call {
        to: String,
        msg: Value,
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        /// Busy-waits this long after the call returns.
        #[serde(default)]
        then_ms: u64,
    },
    Spawn {
        module: String,
        #[serde(default)]
        args: Value,
        #[serde(default)]
        link: bool,
        #[serde(default)]
        monitor: bool,
        #[serde(default)]
        register: Option<String>,
    },
    Link {
        to: String,
    },
    Unlink {
        to: String,
    },
    Monitor {
        to: String,
    },
    Demonitor {
        #[serde(rename = "ref")]
        monitor: MonitorRef,
    },
    TrapExit {
        on: bool,
    },
    Exit {
        to: String,
        reason: String,
    },
    Register {
        name: String,
    },
    Unregister {
        name: String,
    },
    Whereis {
        name: String,
    },
    #[serde(rename = "self")]
    SelfPid,
    SendAfter {
        to: String,
        msg: Value,
        ms: u64,
    },
    CancelTimer {
        timer: TimerRef,
    },
    Compute {
        ms: u64,
    },
    Http {
        url: String,
    },
    Exec {
        command: String,
        input: Value,
    },
    Stop {
        reason: String,
    },
    Loop,
    Trap,
    Panic,
    Bomb,
    Ping {
        peer: String,
        left: u64,
        done: String,
    },
    Token {
        #[serde(default)]
        next: Option<String>,
        hops: u64,
        done: String,
    },
    SetNext {
        next: String,
    },
    #[serde(other)]
    Unknown,
}

fn default_timeout_ms() -> u64 {
    5000
}

impl Actor for Probe {
    type Args = Value;
    type Message = Op;
    type Reply = Value;

    fn init(args: Value) -> Result<Self, String> {
        if let Some(reason) = args.get("fail_init") {
            return Err(reason
                .as_str()
                .map_or_else(|| reason.to_string(), str::to_owned));
        }
        Ok(Probe {
            count: 0,
            seen: Vec::new(),
            events: Vec::new(),
            args,
            version: running_version(),
        })
    }

    fn handle(&mut self, message: Message<Op>) -> Result<Option<Value>, String> {
        match message {
            Message::Cast { body, .. } | Message::Call { body, .. } => self.run(body).map(Some),
            Message::Exit { from, reason } => {
                self.events
                    .push(json!({"kind": "exit", "from": from, "reason": reason}));
                Ok(None)
            }
            Message::Down {
                monitor,
                from,
                reason,
            } => {
                self.events
                    .push(json!({"kind": "down", "ref": monitor, "from": from, "reason": reason}));
                Ok(None)
            }
        }
    }

    fn unreadable(
        &mut self,
        _from: Option<actor::Pid>,
        body: &str,
        error: String,
    ) -> Result<Option<Value>, String> {
        let named_op = serde_json::from_str::<Value>(body)
            .is_ok_and(|body| body.get("op").is_some_and(Value::is_string));
        Ok(Some(if named_op {
            json!({"error": format!("bad message: {error}")})
        } else {
            json!({"error": "unknown op"})
        }))
    }
}

impl Probe {
    fn run(&mut self, op: Op) -> Result<Value, String> {
        Ok(match op {
            Op::Count => {
                self.count += 1;
                json!(self.count)
            }
            Op::Get => serde_json::to_value(&*self).map_err(|e| e.to_string())?,
            Op::Seq { n } => {
                self.seen.push(n);
                json!(n)
            }
            Op::Done => {
                self.seen.push(self.count + 1);
                self.count += 1;
                json!(self.count)
            }
            Op::Send { to, msg } | Op::Relay { to, msg } => sent(actor::send(&to, &msg)),
            Op::Call {
                to,
                msg,
                timeout_ms,
                then_ms,
            } => {
                let reply = match actor::call::<Value>(&to, &msg, Duration::from_millis(timeout_ms)) {
                    Ok(reply) => json!({"ok": reply}),
                    Err(e) => json!({"error": e.to_string()}),
                };
                busy(then_ms);
                reply
            }
            Op::Spawn {
                module,
                args,
                link,
                monitor,
                register,
            } => {
                let options = SpawnOptions {
                    link,
                    monitor,
                    register,
                };
                match actor::spawn(&module, &args, options) {
                    Ok(spawned) => json!({"pid": spawned.pid, "monitor": spawned.monitor}),
                    Err(e) => json!({"error": e}),
                }
            }
            Op::Link { to } => sent(actor::link(&to)),
            Op::Unlink { to } => {
                actor::unlink(&to);
                Value::Null
            }
            Op::Monitor { to } => json!(actor::monitor(&to)),
            Op::Demonitor { monitor } => {
                actor::demonitor(monitor);
                Value::Null
            }
            Op::TrapExit { on } => {
                actor::trap_exit(on);
                Value::Null
            }
            Op::Exit { to, reason } => sent(actor::exit(&to, &reason)),
            Op::Register { name } => sent(actor::register(&name)),
            Op::Unregister { name } => {
                actor::unregister(&name);
                Value::Null
            }
            Op::Whereis { name } => json!(actor::whereis(&name)),
            Op::SelfPid => json!(actor::self_pid()),
            Op::SendAfter { to, msg, ms } => {
                json!(actor::send_after(&to, &msg, Duration::from_millis(ms))?)
            }
            Op::CancelTimer { timer } => json!(actor::cancel_timer(timer)),
            Op::Http { url } => match wbx_guest::http::get(&url) {
                Ok(response) => json!({"status": response.status, "body": response.text()}),
                Err(e) => json!({"error": e}),
            },
            Op::Exec { command, input } => {
                match wbx_guest::commands::execute(&command, &input.to_string(), None) {
                    Ok(done) => json!({"events": done.events, "position": done.position}),
                    Err(e) => json!({"error": format!("{e:?}")}),
                }
            }
            Op::Compute { ms } => {
                busy(ms);
                json!(ms)
            }
            Op::Stop { reason } => return Err(reason),
            Op::Loop => {
                // Says it is about to loop, for a test that waits for it.
                wbx_guest::info!("looping");
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            Op::Trap => trap(),
            Op::Panic => panic!("probe panics"),
            Op::Bomb => {
                let mut blocks = Vec::new();
                loop {
                    blocks.push(black_box(vec![1u8; 1 << 20]));
                    black_box(&blocks);
                }
            }
            Op::Ping { peer, left, done } => {
                if left == 0 {
                    sent(actor::send(&done, &json!({"op": "done"})))
                } else {
                    let ping = json!({"op": "ping", "peer": actor::self_pid(), "left": left - 1, "done": done});
                    sent(actor::send(&peer, &ping))
                }
            }
            Op::Token { next, hops, done } => {
                if hops == 0 {
                    sent(actor::send(&done, &json!({"op": "done"})))
                } else {
                    let own_next = self.args.get("next").and_then(Value::as_str);
                    match own_next.map(str::to_owned).or(next) {
                        Some(next) => {
                            let token = json!({"op": "token", "next": next, "hops": hops - 1, "done": done});
                            sent(actor::send(&next, &token))
                        }
                        None => json!({"error": "token: no next process (args.next or next)"}),
                    }
                }
            }
            Op::SetNext { next } => {
                match &mut self.args {
                    Value::Object(args) => {
                        args.insert("next".to_owned(), json!(next));
                    }
                    other => *other = json!({"next": next}),
                }
                Value::Null
            }
            Op::Unknown => json!({"error": "unknown op"}),
        })
    }
}

/// `{"ok": null}`, or the error as `{"error": …}`.
fn sent<E: ToString>(result: Result<(), E>) -> Value {
    match result {
        Ok(()) => json!({"ok": null}),
        Err(e) => json!({"error": e.to_string()}),
    }
}

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

#[cfg(feature = "state")]
wbx_guest::export_actor!(Probe with state);
#[cfg(not(feature = "state"))]
wbx_guest::export_actor!(Probe);

/// Busy-waits `ms` of wall clock. `Instant` reads
/// `wasi:clocks/monotonic-clock`: wall time, however often the engine
/// interrupts the loop.
fn busy(ms: u64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {
        black_box(());
    }
}
