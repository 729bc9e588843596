//! [`Guest`]: one instance of a module's version, and the one call path every
//! model's calls go through.
//!
//! A model instantiates its world's bindings ([`WorldPre`]) and calls them
//! with [`Guest::call`], which arms the deadline, bounds the call in time,
//! and turns every failure into a [`GuestError`] that names the module and
//! the cause (and is published as a `CallFailed` observation). A model's
//! typed wrappers are one line each over it, so no call can skip the timer.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::InstancePre;
use wasmtime::{Store, Trap};

use crate::error::{Failure, GuestError};
use crate::host_state::{Deadline, DeadlineAt, HostState};
use crate::kind::ModuleKind;
use crate::limits::Refusal;
use crate::observe::{Observation, Observer};
use crate::registry::LoadedModule;
use crate::sync::lock;

/// A world's typed pre-instance, as `bindgen!` makes it: what a kind's
/// module is linked into, and what an instance of it is made from.
/// Implemented by each model for its worlds.
pub trait WorldPre: Sized + Send + Sync + 'static {
    /// The kind whose modules implement this world.
    const KIND: ModuleKind;
    /// The instantiated bindings: the world's exports.
    type Bindings: Send + Sync + 'static;

    /// Checks `pre` against the world's shape.
    fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self>;

    fn instantiate(
        &self,
        store: &mut Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<Self::Bindings>> + Send;
}

/// What explains a failed call, readable while the store is busy.
#[derive(Clone)]
pub(crate) struct Probe {
    pub(crate) refused: Arc<Mutex<Option<Refusal>>>,
    pub(crate) stderr_tail: Arc<Mutex<VecDeque<String>>>,
    pub(crate) call_timeout: Duration,
    pub(crate) deadline: Deadline,
}

/// An instance of one module version. It keeps that version alive, so a swap
/// while it runs does not affect it. After a failed call it is spent: make a
/// new one.
pub struct Guest<B> {
    module: Arc<LoadedModule>,
    store: Store<HostState>,
    bindings: B,
    probe: Probe,
    observer: Observer,
}

impl<B: Send + Sync + 'static> Guest<B> {
    /// Instantiates `pre` (the module's typed pre-instance) in `store`.
    pub(crate) async fn new<P: WorldPre<Bindings = B>>(
        module: Arc<LoadedModule>,
        pre: &P,
        mut store: Store<HostState>,
        observer: &Observer,
    ) -> Result<Self, GuestError> {
        let probe = store.data().probe();
        let bindings = match pre.instantiate(&mut store).await {
            Ok(bindings) => bindings,
            Err(e) => return Err(explain(&module, &probe, observer, e)),
        };
        Ok(Guest {
            module,
            store,
            bindings,
            probe,
            observer: observer.clone(),
        })
    }

    /// The module version this instance runs.
    pub fn module(&self) -> &LoadedModule {
        &self.module
    }

    /// The instance's exports, to see which optional ones it has.
    pub fn bindings(&self) -> &B {
        &self.bindings
    }

    /// The linear memory the instance holds, readable while it runs.
    pub fn memory(&self) -> crate::limits::MemoryGauge {
        self.store.data().limiter.memory.clone()
    }

    /// Bounds each call from now on by `timeout` (a batch of n elements
    /// gets n times a per-element timeout).
    pub fn set_call_timeout(&mut self, timeout: Duration) {
        self.store.data_mut().call_timeout = timeout;
        self.probe.call_timeout = timeout;
    }

    /// The instance's host state, where a model keeps its extensions.
    pub fn state(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// Calls the guest: `call` gets the bindings and the store, with the
    /// deadline armed. The call is bounded by the call timeout, also while
    /// the guest waits in a host call (which epoch interruption does not
    /// reach), and any failure is explained and reported.
    pub async fn call<'a, R, F, Fut>(&'a mut self, call: F) -> Result<R, GuestError>
    where
        F: FnOnce(&'a B, &'a mut Store<HostState>) -> Fut,
        Fut: Future<Output = wasmtime::Result<R>> + 'a,
    {
        let Guest {
            module,
            store,
            bindings,
            probe,
            observer,
        } = self;
        store.data_mut().arm_deadline();
        let result = timed(&probe.deadline, call(bindings, store)).await;
        result.map_err(|e| explain(module, probe, observer, e))
    }
}

/// Runs a guest call, giving up a little after its deadline. Dropping the
/// call's future leaves the instance spent, which is what a timeout means.
async fn timed<R>(
    deadline: &Deadline,
    call: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    // The epoch deadline normally fires first; this catches host waits.
    let grace = crate::engine::EPOCH_TICK * 4;
    tokio::pin!(call);
    // Most calls finish in their first poll, never waiting: they need no
    // timer (registering one can wake the thread parked on the timer
    // driver, which costs more than a short call).
    let first = std::future::poll_fn(|cx| match call.as_mut().poll(cx) {
        std::task::Poll::Ready(result) => std::task::Poll::Ready(Some(result)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await;
    if let Some(result) = first {
        return result;
    }
    loop {
        let resumed = deadline.resumed();
        tokio::pin!(resumed);
        resumed.as_mut().enable();
        match deadline.at() {
            DeadlineAt::Running(at) => {
                if std::time::Instant::now() >= at + grace {
                    return Err(Trap::Interrupt.into());
                }
                tokio::select! {
                    result = &mut call => return result,
                    () = tokio::time::sleep_until(tokio::time::Instant::from_std(at + grace)) => {}
                }
            }
            // Paused: no clock runs until the guest's wait ends.
            DeadlineAt::Paused(_) => tokio::select! {
                result = &mut call => return result,
                () = resumed => {}
            },
        }
    }
}

/// Turns a failed guest call into a [`GuestError`] that says which module
/// failed and why, in the terms a guest author can act on, and reports it.
fn explain(
    module: &LoadedModule,
    probe: &Probe,
    observer: &Observer,
    error: wasmtime::Error,
) -> GuestError {
    let trap = error.downcast_ref::<Trap>().copied();
    let refused = *lock(&probe.refused);
    let failure = if let Some(refusal) = refused {
        Failure::Limit(refusal)
    } else if trap == Some(Trap::Interrupt) {
        Failure::Timeout(probe.call_timeout)
    } else if let Some(trap) = trap {
        let tail: Vec<String> = lock(&probe.stderr_tail).iter().cloned().collect();
        match panic_message(&tail) {
            Some(message) => Failure::Panic(message),
            None => Failure::Trap(trap),
        }
    } else {
        Failure::Host(format!("{error:#}"))
    };
    let error = GuestError {
        module: module.name.to_string(),
        kind: module.kind,
        version: module.version.clone(),
        failure,
        wasm: error,
    };
    observer.publish(Observation::CallFailed {
        module: error.module.clone(),
        error: error.to_string(),
    });
    error
}

/// `panicked at src/lib.rs:27:29: boom` from the stderr lines of a Rust
/// guest's panic, without the thread name and the backtrace note.
fn panic_message(stderr: &[String]) -> Option<String> {
    let start = stderr
        .iter()
        .rposition(|line| line.contains("panicked at"))?;
    let first = &stderr[start][stderr[start].find("panicked at")?..];
    let rest = stderr[start + 1..]
        .iter()
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"));
    Some(
        std::iter::once(first)
            .chain(rest.map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    )
}
