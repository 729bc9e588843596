//! The actors model's `wbx bench` scenarios, with the `probe` test actor.
//! A rate with a baseline alternates with it within each repetition, so a
//! machine that slows down slows both; the figures have no bare baseline.
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `actor-spawn` | processes/s spawned and initialised by the engine, one after another by a task of its runtime (as a process or an API request spawns), in batches (killed between repetitions) | `probe` instantiated from its `InstancePre` in a store like a process's (WASI, the resource limits), `init` called, the instance dropped, in a loop |
//! | `actor-ping-pong` | round trips/s between two processes (`ping`: one message each way) | the same rally between two bare instances in one loop: each handler's ping, as its `send` import got it, handed straight to the other's handler |
//! | `actor-ring` | messages/s: a token passed around a ring of 1 000 processes (Savina's thread ring) | — |
//! | `actor-fork-join` | messages/s: one sender (the host), 60 receivers, each sent its share round-robin, until all are handled (Savina's fork-join throughput) | — |
//! | `actor-idle-memory` | KiB of resident memory each idle process adds | — |
//!
//! Each timed run ends when a `done` process has handled the message that
//! says the work is over; the host looks at its count every millisecond.
//!
//! - [`groups`]: the one group, what the model registers.
//! - `Actors`: the engine side: one runtime running `probe`.
//! - `Bare`: the baselines' host: `probe` compiled by a plain wasmtime
//!   engine, its bindings' pre-instance, one store per instance.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wbx_core::bench::{
    BareState, BenchFuture, BenchGroup, BenchOptions, BenchRun, Measurement, figure, measurement,
    per_second, resident_kib, summarize, trap_outside_wasi,
};
use wbx_core::project::ModuleDecl;
use wbx_core::{Catalog, Engine, EngineConfig, Limits};

use crate::bindings::actor_module::{ActorModule, ActorModulePre};
use crate::bindings::process::SendError;
use crate::bindings::{Kind, Message};
use crate::kinds::{ACTOR, KINDS};
use crate::pid::Pid;
use crate::runtime::ActorRuntime;
use crate::settings::{ActorSettings, DEFAULT_MAILBOX, ModuleSettings};
use crate::table::Entry;

/// The module the scenarios spawn.
const PROBE: &str = "probe";
/// A message the probe handles without calling the engine.
const COUNT: &str = r#"{"op":"count"}"#;
/// How often the host looks whether the work is done.
const POLL: Duration = Duration::from_millis(1);
/// How long a timed run may take before the scenario gives up on it.
const PATIENCE: Duration = Duration::from_secs(120);
/// Where the baseline's rally ends: no instance has this pid.
const BARE_DONE: Pid = Pid(3);

/// The actors model's scenarios.
pub fn groups() -> Vec<BenchGroup> {
    vec![BenchGroup {
        names: &[
            "actor-spawn",
            "actor-ping-pong",
            "actor-ring",
            "actor-fork-join",
            "actor-idle-memory",
        ],
        run: run_group,
    }]
}

fn run_group(run: BenchRun<'_>) -> BenchFuture<'_> {
    Box::pin(async move {
        let BenchRun {
            guests,
            options,
            report,
        } = run;
        let probe = guests.get("probe")?;
        let fork_join = ForkJoin::sized(options);
        // Compiled once for every scenario: they measure running processes.
        let actors = Actors::new(probe, fork_join.mailbox())?;
        let bare = Bare::new(probe)?;
        let scenarios = [
            ("actor-spawn", Scenario::Spawn),
            ("actor-ping-pong", Scenario::PingPong),
            ("actor-ring", Scenario::Ring),
            ("actor-fork-join", Scenario::ForkJoin(fork_join)),
            ("actor-idle-memory", Scenario::IdleMemory),
        ];
        for (name, scenario) in scenarios {
            if options.selected(name) {
                let measured = scenario.measure(name, &actors, &bare, options).await;
                // Each scenario starts from an empty process table.
                actors.runtime.system().stop_all().await;
                report(&measured?);
            }
        }
        Ok(())
    })
}

enum Scenario {
    Spawn,
    PingPong,
    Ring,
    ForkJoin(ForkJoin),
    IdleMemory,
}

impl Scenario {
    async fn measure(
        self,
        name: &str,
        actors: &Actors,
        bare: &Bare,
        options: &BenchOptions,
    ) -> Result<Measurement> {
        let reps = options.reps();
        let (mut values, mut baselines) = (Vec::new(), Vec::new());
        match self {
            Scenario::Spawn => {
                let batch = options.size(1_000.0);
                for _ in 0..reps {
                    values.push(actors.spawns(batch).await?);
                    baselines.push(bare.spawns(batch).await?);
                }
                let (values, baselines) = (summarize(values), summarize(baselines));
                Ok(measurement(name, "processes/s", values, baselines))
            }
            Scenario::PingPong => {
                let round_trips = options.size(20_000.0);
                let mut pair = PingPong::start(actors).await?;
                let mut bare_pair = [bare.start(Pid(1)).await?, bare.start(Pid(2)).await?];
                // Every handler's first calls (its pages touched) untimed.
                let warm = round_trips.min(100);
                pair.round_trips(actors, warm).await?;
                bare_rally(&mut bare_pair, warm).await?;
                for _ in 0..reps {
                    values.push(pair.round_trips(actors, round_trips).await?);
                    baselines.push(bare_rally(&mut bare_pair, round_trips).await?);
                }
                let (values, baselines) = (summarize(values), summarize(baselines));
                Ok(measurement(name, "round trips/s", values, baselines))
            }
            Scenario::Ring => {
                let mut ring = Ring::start(actors, options.size(1_000.0)).await?;
                // Once around untimed, so every process has handled a token.
                ring.pass(actors, ring.size).await?;
                let hops = options.size(100_000.0);
                for _ in 0..reps {
                    values.push(ring.pass(actors, hops).await?);
                }
                Ok(figure(name, "messages/s", summarize(values)))
            }
            Scenario::ForkJoin(shape) => {
                let mut receivers = Receivers::start(actors, shape.receivers).await?;
                receivers.fill(actors, 1).await?;
                for _ in 0..reps {
                    values.push(receivers.fill(actors, shape.each).await?);
                }
                Ok(figure(name, "messages/s", summarize(values)))
            }
            Scenario::IdleMemory => {
                let batch = options.size(1_000.0);
                // The first processes grow the host's pools; not counted.
                for _ in 0..batch.min(10) {
                    actors.spawn("null").await?;
                }
                for _ in 0..reps {
                    values.push(actors.idle_memory(batch).await?);
                }
                Ok(figure(name, "KiB/process", summarize(values)))
            }
        }
    }
}

/// The engine side: one runtime over an engine without caches, running
/// `probe` as the only actor module.
#[derive(Clone)]
struct Actors {
    runtime: Arc<ActorRuntime>,
}

impl Actors {
    fn new(probe: &[u8], mailbox: usize) -> Result<Self> {
        let engine = Arc::new(Engine::new(EngineConfig {
            cache_dir: None,
            log_dir: None,
            limits: Limits::default(),
            kinds: Catalog::new(KINDS.to_vec()),
        })?);
        engine.load(PROBE, ACTOR, "0.1.0", probe)?;
        let module = ModuleDecl::prebuilt(PROBE, ACTOR, None, PathBuf::new());
        let settings = ActorSettings {
            modules: [(
                PROBE.to_owned(),
                ModuleSettings {
                    mailbox,
                    ..ModuleSettings::default()
                },
            )]
            .into(),
            ..ActorSettings::default()
        };
        let runtime = ActorRuntime::new(engine, Arc::default(), &[module], settings);
        Ok(Actors { runtime })
    }

    /// A started process of `probe` with `args` (JSON).
    async fn spawn(&self, args: &str) -> Result<Pid> {
        self.runtime
            .spawn(PROBE, args, None)
            .await
            .map_err(|e| anyhow!("spawning a probe: {e}"))
    }

    /// Sends `body` to `to` from outside, as a guest's send does.
    fn send(&self, to: Pid, body: String) -> Result<()> {
        self.runtime
            .system()
            .send(None, &to.to_string(), body)
            .map_err(|e| anyhow!("sending to {to}: {e}"))
    }

    fn entry(&self, pid: Pid) -> Result<Arc<Entry>> {
        self.runtime
            .system()
            .table
            .get(pid)
            .with_context(|| format!("{pid} is gone"))
    }

    /// Spawns/s of `n` processes, one after another, each answering once
    /// its `init` has returned; they are stopped after the clock.
    async fn spawns(&self, n: usize) -> Result<f64> {
        // The spawner is a task of the engine's runtime, as every spawner
        // in wbx is (a process, a supervisor, an API request): a spawn
        // starts the process on a task of its own, which from outside the
        // runtime costs two thread wake-ups that no real spawner pays.
        let spawner = self.clone();
        let elapsed = tokio::spawn(async move {
            let start = Instant::now();
            for _ in 0..n {
                spawner.spawn("null").await?;
            }
            anyhow::Ok(start.elapsed())
        })
        .await??;
        self.runtime.system().stop_all().await;
        Ok(per_second(n, elapsed))
    }

    /// KiB of resident memory each of `n` new idle processes adds. The
    /// processes of earlier repetitions stay, so memory they freed cannot
    /// be taken again and hide what a process holds.
    async fn idle_memory(&self, n: usize) -> Result<f64> {
        let before = resident_kib()?;
        for _ in 0..n {
            self.spawn("null").await?;
        }
        let after = resident_kib()?;
        Ok(after.saturating_sub(before) as f64 / n as f64)
    }
}

/// A process that counts the `done` messages the work's end sends it.
struct Done {
    pid: Pid,
    entry: Arc<Entry>,
    /// The `done` messages it has been sent before.
    expected: u64,
}

impl Done {
    async fn start(actors: &Actors) -> Result<Self> {
        let pid = actors.spawn("null").await?;
        Ok(Done {
            pid,
            entry: actors.entry(pid)?,
            expected: 0,
        })
    }

    /// Waits until `more` further `done` messages have been handled.
    async fn wait(&mut self, actors: &Actors, more: u64) -> Result<()> {
        self.expected += more;
        let expected = self.expected;
        let give_up = Instant::now() + PATIENCE;
        loop {
            let handled = self.entry.lock().handled;
            if handled >= expected {
                return Ok(());
            }
            if actors.runtime.system().table.get(self.pid).is_none() {
                bail!("the done process {} exited", self.pid);
            }
            if Instant::now() > give_up {
                let dead = actors.runtime.dead_letters();
                bail!(
                    "the work did not end within {} s: {handled} of {expected} done messages \
                     arrived ({} sends found no process)",
                    PATIENCE.as_secs(),
                    dead.total
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Two processes and where they report the end of a rally.
struct PingPong {
    a: Pid,
    b: Pid,
    done: Done,
}

impl PingPong {
    async fn start(actors: &Actors) -> Result<Self> {
        Ok(PingPong {
            done: Done::start(actors).await?,
            a: actors.spawn("null").await?,
            b: actors.spawn("null").await?,
        })
    }

    /// Round trips/s of a rally of `n`: `a` and `b` send each other `2n`
    /// pings, the last one's receiver tells `done`.
    async fn round_trips(&mut self, actors: &Actors, n: usize) -> Result<f64> {
        let serve = json!({
            "op": "ping",
            "peer": self.b.to_string(),
            "left": 2 * n,
            "done": self.done.pid.to_string(),
        });
        let start = Instant::now();
        actors.send(self.a, serve.to_string())?;
        self.done.wait(actors, 1).await?;
        Ok(per_second(n, start.elapsed()))
    }
}

/// A ring of processes, each one's `args.next` the next one's pid.
struct Ring {
    first: Pid,
    size: usize,
    done: Done,
}

impl Ring {
    /// Spawns the ring from its end backwards, so each process is started
    /// knowing its next; the last one learns the first by a message, which
    /// it handles before any token reaches it.
    async fn start(actors: &Actors, size: usize) -> Result<Self> {
        let done = Done::start(actors).await?;
        let last = actors.spawn("null").await?;
        let mut first = last;
        for _ in 1..size {
            first = actors
                .spawn(&json!({"next": first.to_string()}).to_string())
                .await?;
        }
        let closing = json!({"op": "set_next", "next": first.to_string()});
        actors.send(last, closing.to_string())?;
        Ok(Ring { first, size, done })
    }

    /// Messages/s of a token passed `hops` times from the first process.
    async fn pass(&mut self, actors: &Actors, hops: usize) -> Result<f64> {
        let token = json!({"op": "token", "hops": hops, "done": self.done.pid.to_string()});
        let start = Instant::now();
        actors.send(self.first, token.to_string())?;
        self.done.wait(actors, 1).await?;
        Ok(per_second(hops, start.elapsed()))
    }
}

/// The fork-join shape: receivers, and messages each.
struct ForkJoin {
    receivers: usize,
    each: usize,
}

impl ForkJoin {
    fn sized(options: &BenchOptions) -> Self {
        ForkJoin {
            receivers: options.size(60.0),
            each: options.size(10_000.0),
        }
    }

    /// A mailbox that holds a receiver's whole share and its last message,
    /// should the sender outrun the receiver: a refused send would end the
    /// run, and Savina's actors have unbounded mailboxes.
    fn mailbox(&self) -> usize {
        DEFAULT_MAILBOX.max(self.each + 1)
    }
}

/// The receivers of the fork-join throughput scenario.
struct Receivers {
    pids: Vec<Pid>,
    done: Done,
}

impl Receivers {
    async fn start(actors: &Actors, n: usize) -> Result<Self> {
        let done = Done::start(actors).await?;
        let mut pids = Vec::with_capacity(n);
        for _ in 0..n {
            pids.push(actors.spawn("null").await?);
        }
        Ok(Receivers { pids, done })
    }

    /// Messages/s of `each` `count` messages sent to every receiver in
    /// turn, until every receiver has handled them (each then tells
    /// `done`, behind its share in its mailbox).
    async fn fill(&mut self, actors: &Actors, each: usize) -> Result<f64> {
        let report = json!({"op": "relay", "to": self.done.pid.to_string(), "msg": {"op": "done"}})
            .to_string();
        let start = Instant::now();
        for _ in 0..each {
            for &receiver in &self.pids {
                actors.send(receiver, COUNT.to_owned())?;
            }
        }
        for &receiver in &self.pids {
            actors.send(receiver, report.clone())?;
        }
        self.done.wait(actors, self.pids.len() as u64).await?;
        Ok(per_second(each * self.pids.len(), start.elapsed()))
    }
}

/// Round trips/s of a rally of `n` between two bare instances: each
/// handler's ping (what it sent through its `send` import) handed straight
/// to the other's handler, in one loop, until the last goes to `done`.
async fn bare_rally(pair: &mut [BareActor; 2], n: usize) -> Result<f64> {
    let done = BARE_DONE.to_string();
    let serve = json!({"op": "ping", "peer": pair[1].pid(), "left": 2 * n, "done": done});
    let mut message = Message {
        kind: Kind::Cast,
        from: None,
        body: serve.to_string(),
    };
    let mut at = 0;
    let start = Instant::now();
    loop {
        pair[at].handle(&message).await?;
        let (to, body) = pair[at]
            .store
            .data_mut()
            .data
            .outbox
            .take()
            .context("the bare probe's ping sent nothing")?;
        if to == done {
            break;
        }
        message = Message {
            kind: Kind::Cast,
            from: Some(pair[at].pid()),
            body,
        };
        at = 1 - at;
    }
    Ok(per_second(n, start.elapsed()))
}

/// The baselines' host: `probe` compiled by a plain wasmtime engine and
/// linked with WASI; of its other imports only `self-pid` and `send` do
/// something (what a ping calls), the rest trap, since neither `init` nor
/// a ping calls them.
struct Bare {
    pre: ActorModulePre<BareState<Rally>>,
}

/// What the rally's baseline keeps in a store: the instance's pid and the
/// message its handler sent last (its target and body).
struct Rally {
    pid: String,
    outbox: Option<(String, String)>,
}

/// One bare instance of `probe`, initialised.
struct BareActor {
    store: Store<BareState<Rally>>,
    actor: ActorModule,
}

impl Bare {
    fn new(component: &[u8]) -> Result<Self> {
        let engine = wasmtime::Engine::default();
        let component = Component::new(&engine, component).map_err(|e| {
            anyhow::Error::from(e).context("the baseline cannot compile the probe actor")
        })?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        link_outside_wasi(&mut linker, &component)?;
        Ok(Bare {
            pre: ActorModulePre::new(linker.instantiate_pre(&component)?)?,
        })
    }

    /// A fresh instance in a fresh store, its `init` returned.
    async fn start(&self, pid: Pid) -> Result<BareActor> {
        let mut store = BareState::store(
            self.pre.engine(),
            Rally {
                pid: pid.to_string(),
                outbox: None,
            },
        );
        let actor = self.pre.instantiate_async(&mut store).await?;
        actor
            .wbx_guest_actor()
            .call_init(&mut store, "null")
            .await?
            .map_err(|e| anyhow!("the bare probe's init failed: {e}"))?;
        Ok(BareActor { store, actor })
    }

    /// Instances/s of `n` instances started and dropped in turn.
    async fn spawns(&self, n: usize) -> Result<f64> {
        let start = Instant::now();
        for _ in 0..n {
            drop(self.start(Pid(1)).await?);
        }
        Ok(per_second(n, start.elapsed()))
    }
}

impl BareActor {
    fn pid(&self) -> String {
        self.store.data().data.pid.clone()
    }

    async fn handle(&mut self, message: &Message) -> Result<()> {
        self.actor
            .wbx_guest_actor()
            .call_handle(&mut self.store, message)
            .await?
            .map(drop)
            .map_err(|e| anyhow!("the bare probe's handler failed: {e}"))
    }
}

/// Links `component`'s imports outside WASI: `process`'s `self-pid` (the
/// store's pid) and `send` (kept in the store's outbox), and the rest to
/// functions that trap.
fn link_outside_wasi(linker: &mut Linker<BareState<Rally>>, component: &Component) -> Result<()> {
    let process = component
        .component_type()
        .imports(linker.engine())
        .map(|(name, _)| name.to_owned())
        .find(|name| name.starts_with("wbx:guest/process@"))
        .ok_or_else(|| anyhow!("the probe does not import wbx:guest/process"))?;
    let mut functions = linker.instance(&process)?;
    functions.func_wrap("self-pid", |store, (): ()| {
        Ok((store.data().data.pid.clone(),))
    })?;
    functions.func_wrap("send", |mut store, (to, body): (String, String)| {
        store.data_mut().data.outbox = Some((to, body));
        Ok((Ok::<(), SendError>(()),))
    })?;
    trap_outside_wasi(linker, component, |name, function| {
        name == process && (function == "self-pid" || function == "send")
    })
}
