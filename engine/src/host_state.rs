//! `HostState`, the `T` in every `Store<T>`: one per guest instance.
//!
//! It holds the guest's WASI context (stdout and stderr captured into
//! [`Logs`], nothing else granted: no files, no environment, no network), its
//! resource limiter and its call deadline, what its kind is given
//! ([`InstanceOptions`]: a fixed clock, a database, a command executor), and
//! it implements the host side of `wbx:guest/log`. The `sql` and `commands`
//! imports are in `host_sql.rs` and `host_commands.rs`.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::imports::wbx::guest::{log, types};
use crate::host_commands::CommandContext;
use crate::host_http::{AllowList, HttpGrant};
use crate::limits::{Limiter, Limits};
use crate::logs::{GuestOutput, Level, LogSource, Logs};

/// What an instance gets beyond the basics, by kind.
#[derive(Default)]
pub struct InstanceOptions {
    /// The wall clock reads this instant for the instance's whole life
    /// (commands: one execution, one time).
    pub fixed_clock: Option<std::time::SystemTime>,
    /// The module's own database, for the `sql` import.
    pub database: Option<rusqlite::Connection>,
    /// Lets the guest execute commands (effects).
    pub commands: Option<CommandContext>,
    /// Hosts the guest may reach over `wasi:http` (effects); none by default.
    pub allow_http: AllowList,
}

pub struct HostState {
    module: Arc<str>,
    pub(crate) database: Option<rusqlite::Connection>,
    /// Puts the guest's rules in force on `database`.
    pub(crate) guest_rules: Arc<AtomicBool>,
    pub(crate) commands: Option<CommandContext>,
    http: HttpGrant,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    logs: Arc<Logs>,
    pub(crate) stderr_tail: Arc<Mutex<VecDeque<String>>>,
    call_timeout: Duration,
    deadline: Instant,
}

impl HostState {
    /// A store for one instance of `module`, with its limits and a deadline
    /// armed for the first call.
    pub(crate) fn new_store(
        engine: &wasmtime::Engine,
        module: Arc<str>,
        limits: Limits,
        logs: Arc<Logs>,
        options: InstanceOptions,
    ) -> Store<HostState> {
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let output = |source, tail| GuestOutput {
            module: module.clone(),
            source,
            logs: logs.clone(),
            tail,
        };
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(output(LogSource::Stdout, None))
            .stderr(output(LogSource::Stderr, Some(stderr_tail.clone())));
        if let Some(at) = options.fixed_clock {
            wasi.wall_clock(FixedClock(
                at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default(),
            ));
        }
        let guest_rules = options
            .database
            .as_ref()
            .map(crate::host_sql::install_guest_rules)
            .unwrap_or_default();
        let state = HostState {
            module: module.clone(),
            database: options.database,
            guest_rules,
            commands: options.commands,
            http: HttpGrant {
                allow: options.allow_http,
                ..HttpGrant::default()
            },
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(limits),
            logs,
            stderr_tail,
            call_timeout: limits.call_timeout,
            deadline: Instant::now() + limits.call_timeout,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        // Each epoch tick either yields to the async runtime, so a long guest
        // call never holds a worker thread, or ends the call past its deadline.
        store.epoch_deadline_callback(|store| {
            if Instant::now() >= store.data().deadline {
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
        self.deadline = Instant::now() + self.call_timeout;
    }

    pub(crate) fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// The HTTP grant and the resource table, borrowed together.
    pub(crate) fn http_parts(&mut self) -> (&mut HttpGrant, &mut ResourceTable) {
        (&mut self.http, &mut self.table)
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

impl types::Host for HostState {}

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
