//! `HostState`, the `T` in every `Store<T>`: one per guest instance.
//!
//! It holds what every instance has, whatever its model: the guest's WASI
//! context (stdout and stderr captured into [`Logs`], the module's own
//! environment from `wbx.toml`, nothing else granted: no files, no network), its `wasi:http` context and
//! outgoing policy, its resource limiter and its call deadline, and the
//! host side of `wbx:guest/log`. What a model adds for its kinds (a
//! database, a command grant, …) lives in [`HostState::extensions`], set up
//! through [`InstanceSetup`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::wbx::guest::log;
use crate::extensions::Extensions;
use crate::host_http::{Outgoing, OutsideHosts, Serving};
use crate::instance::Probe;
use crate::limits::{Limiter, Limits};
use crate::logs::{GuestOutput, Level, LogSource, Logs};

/// What an instance gets beyond the basics, chosen by its model.
#[derive(Debug, Default)]
pub struct InstanceSetup {
    /// The wall clock reads this instant for the instance's whole life
    /// (one execution, one time).
    pub fixed_clock: Option<SystemTime>,
    /// Hosts outside the engine the guest may reach over `wasi:http`; none
    /// by default.
    pub outside_hosts: OutsideHosts,
    /// The model's per-instance contexts.
    pub extensions: Extensions,
    /// A call timeout of its own instead of the engine's (a service's
    /// `timeout-ms`).
    pub call_timeout: Option<Duration>,
    /// The routed request the instance serves, when it serves one.
    pub serving: Option<Serving>,
}

pub struct HostState {
    module: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) outgoing: Outgoing,
    pub(crate) limiter: Limiter,
    logs: Arc<Logs>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    pub(crate) call_timeout: Duration,
    deadline: Deadline,
    /// What the instance's model keeps per instance, by type.
    pub extensions: Extensions,
}

impl HostState {
    /// A store for one instance of `module`, with its limits and a deadline
    /// armed for the first call.
    pub(crate) fn new_store(
        engine: &wasmtime::Engine,
        module: Arc<str>,
        limits: Limits,
        logs: Arc<Logs>,
        outgoing: Outgoing,
        env: &[(String, String)],
        setup: InstanceSetup,
    ) -> Store<HostState> {
        let call_timeout = setup.call_timeout.unwrap_or(limits.call_timeout);
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let output = |source, tail| GuestOutput {
            module: module.clone(),
            source,
            logs: logs.clone(),
            tail,
        };
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(output(LogSource::Stdout, None))
            .stderr(output(LogSource::Stderr, Some(stderr_tail.clone())))
            .envs(env);
        if let Some(at) = setup.fixed_clock {
            wasi.wall_clock(FixedClock(
                at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default(),
            ));
        }
        let state = HostState {
            module: module.clone(),
            wasi: wasi.build(),
            table: ResourceTable::new(),
            outgoing: outgoing.with_setup(setup.outside_hosts, setup.serving),
            limiter: Limiter::new(limits),
            logs,
            stderr_tail,
            call_timeout,
            deadline: Deadline::new(call_timeout),
            extensions: setup.extensions,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        // Each epoch tick either yields to the async runtime, so a long guest
        // call never holds a worker thread, or ends the call past its deadline.
        store.epoch_deadline_callback(|store| {
            if store.data().deadline.passed() {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        store
    }

    pub fn module(&self) -> &str {
        &self.module
    }

    /// Gives the next call a full call timeout.
    pub(crate) fn arm_deadline(&mut self) {
        self.deadline.arm(self.call_timeout);
        // A refusal the guest recovered from does not explain a later
        // failure of a long-lived instance.
        *crate::sync::lock(&self.limiter.refused) = None;
    }

    /// Stops the call's clock while the guest waits in a host call for
    /// something that is not its own computing (an actor's reply): the
    /// wait does not count against its deadline. [`Self::resume_deadline`]
    /// starts the clock again with what was left.
    pub fn pause_deadline(&mut self) {
        self.deadline.pause();
    }

    pub fn resume_deadline(&mut self) {
        self.deadline.resume();
    }

    pub(crate) fn probe(&self) -> Probe {
        Probe {
            refused: self.limiter.refused.clone(),
            stderr_tail: self.stderr_tail.clone(),
            call_timeout: self.call_timeout,
            deadline: self.deadline.clone(),
        }
    }

    /// The outgoing HTTP side and the resource table, borrowed together.
    pub(crate) fn http_parts(&mut self) -> (&mut Outgoing, &mut ResourceTable) {
        (&mut self.outgoing, &mut self.table)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        self.logs.push(&self.module, level, LogSource::Log, message);
    }
}

/// A call's deadline, shared by the epoch callback (inside the store) and
/// the timer that bounds the call from outside ([`crate::instance`]), so
/// both see a pause, and the timer hears of the resume.
#[derive(Clone)]
pub(crate) struct Deadline(Arc<DeadlineState>);

struct DeadlineState {
    at: Mutex<DeadlineAt>,
    resumed: Notify,
}

#[derive(Clone, Copy)]
pub(crate) enum DeadlineAt {
    Running(Instant),
    /// Stopped with this much of the call's time left.
    Paused(Duration),
}

impl Deadline {
    fn new(limit: Duration) -> Self {
        Deadline(Arc::new(DeadlineState {
            at: Mutex::new(DeadlineAt::Running(Instant::now() + limit)),
            resumed: Notify::new(),
        }))
    }

    fn arm(&self, limit: Duration) {
        *crate::sync::lock(&self.0.at) = DeadlineAt::Running(Instant::now() + limit);
    }

    pub(crate) fn at(&self) -> DeadlineAt {
        *crate::sync::lock(&self.0.at)
    }

    /// Resolves at the next [`Self::resume`]: make it before reading
    /// [`Self::at`], so a resume in between is not missed.
    pub(crate) fn resumed(&self) -> tokio::sync::futures::Notified<'_> {
        self.0.resumed.notified()
    }

    fn passed(&self) -> bool {
        matches!(self.at(), DeadlineAt::Running(at) if Instant::now() >= at)
    }

    fn pause(&self) {
        let mut at = crate::sync::lock(&self.0.at);
        if let DeadlineAt::Running(until) = *at {
            *at = DeadlineAt::Paused(until.saturating_duration_since(Instant::now()));
        }
    }

    fn resume(&self) {
        let mut at = crate::sync::lock(&self.0.at);
        if let DeadlineAt::Paused(left) = *at {
            *at = DeadlineAt::Running(Instant::now() + left);
            self.0.resumed.notify_waiters();
        }
    }
}

/// A wall clock that always reads the same time.
struct FixedClock(Duration);

impl wasmtime_wasi::HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}
