//! A guest stage: an instance of a source, processor or sink module, the
//! version it runs and the state it saved after its last good batch, and
//! how it is started, made again after a failure, and swapped to a new
//! version with its state handed over.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;
use wbx_core::capability::Capabilities;
use wbx_core::{Engine, Extensions, Guest, GuestError, HostState, InstanceSetup, ModuleVersion};

use crate::bindings::{
    Output, ProcessorWorld, Pulled, SinkWorld, SourceWorld, StageInstance, StagePre, StageWorld,
    Verdict,
};
use crate::element::Element;

/// What a stage's instances are made with.
pub struct StageContext {
    pub engine: Arc<Engine>,
    pub capabilities: Arc<Capabilities>,
    pub module: String,
    /// The node's `config`, as JSON text.
    pub config: String,
    /// The timeout of one element: a call on n elements gets n times it.
    pub timeout: Duration,
}

/// A failed call, in words: a trap, a panic, a timeout, a memory bomb.
/// The instance is spent.
#[derive(Debug, Clone)]
pub struct Spent(pub String);

impl From<GuestError> for Spent {
    fn from(error: GuestError) -> Spent {
        Spent(if error.is_timeout() {
            "timeout".to_owned()
        } else {
            error.failure.to_string()
        })
    }
}

/// A stage's instance.
pub struct GuestStage<W: StageWorld> {
    guest: Guest<StageInstance<W>>,
    pub version: ModuleVersion,
    /// The state saved after the last good batch, or handed over.
    saved: Option<Vec<u8>>,
    context: Arc<StageContext>,
}

/// How a stage (re)started: from a saved state, or through `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    Restored,
    Init,
}

impl<W: StageCalls> GuestStage<W> {
    /// An instance of the module's active version, restored from `saved`
    /// when it can be, else through `init`.
    pub async fn start(
        context: Arc<StageContext>,
        saved: Option<Vec<u8>>,
    ) -> Result<(GuestStage<W>, Started), String> {
        let mut stage = GuestStage {
            guest: instantiate::<W>(&context).await?,
            version: ModuleVersion::new("", ""),
            saved: None,
            context,
        };
        stage.version = stage.guest.module().version.clone();
        if let Some(state) = saved
            && stage.guest.bindings().restore.is_some()
        {
            let handed = state.clone();
            let restored = stage
                .guest
                .call(|b, store| async move {
                    let restore = b.restore.as_ref().expect("looked up above");
                    Ok(restore.call_async(&mut *store, (handed,)).await?.0)
                })
                .await;
            match restored {
                Ok(Ok(())) => {
                    stage.saved = Some(state);
                    return Ok((stage, Started::Restored));
                }
                // A refused state leaves a usable instance; a trap does not.
                Ok(Err(_)) => {}
                Err(_) => stage.guest = instantiate::<W>(&stage.context).await?,
            }
        }
        let config = stage.context.config.clone();
        let init = stage
            .guest
            .call(|b, store| W::init(&b.exports, store, config))
            .await;
        match init {
            Ok(Ok(())) => Ok((stage, Started::Init)),
            Ok(Err(e)) => Err(format!("init failed: {e}")),
            Err(e) => Err(format!("init failed: {}", Spent::from(e).0)),
        }
    }

    /// The same stage again after a failure, from its last saved state.
    pub async fn restart(&mut self) -> Result<Started, String> {
        let (stage, started) =
            GuestStage::<W>::start(self.context.clone(), self.saved.clone()).await?;
        *self = stage;
        Ok(started)
    }

    /// The module's active version with this stage's state, when it is not
    /// the version running; `None` when it is.
    pub async fn swap(&mut self) -> Option<Result<Started, String>> {
        let active = self.context.engine.version_of(&self.context.module)?;
        if active == self.version {
            return None;
        }
        if let Err(e) = self.save().await {
            return Some(Err(e));
        }
        Some(
            // A copy: when the new version cannot start, this one goes on
            // and still restarts from its state.
            match GuestStage::<W>::start(self.context.clone(), self.saved.clone()).await {
                Ok((stage, started)) => {
                    *self = stage;
                    Ok(started)
                }
                Err(e) => Err(e),
            },
        )
    }

    /// Saves the stage's state, when it has `save-state`: the state a
    /// restart or a new version starts from.
    pub async fn save(&mut self) -> Result<(), String> {
        if self.guest.bindings().save.is_none() {
            return Ok(());
        }
        let saved = self
            .guest
            .call(|b, store| async move {
                let save = b.save.as_ref().expect("looked up above");
                Ok(save.call_async(&mut *store, ()).await?.0)
            })
            .await;
        match saved {
            Ok(Ok(state)) => {
                self.saved = Some(state);
                Ok(())
            }
            Ok(Err(e)) => Err(format!("save-state failed: {e}")),
            Err(e) => Err(format!("save-state failed: {}", Spent::from(e).0)),
        }
    }

    fn bound(&mut self, elements: usize) {
        let timeout = self.context.timeout * elements.max(1) as u32;
        self.guest.set_call_timeout(timeout);
    }
}

impl GuestStage<SourceWorld> {
    pub async fn pull(&mut self, max: u32) -> Result<Result<Pulled, String>, Spent> {
        self.bound(max as usize);
        Ok(self
            .guest
            .call(|b, store| b.exports.wbx_guest_source().call_pull(store, max))
            .await?)
    }
}

impl GuestStage<ProcessorWorld> {
    pub async fn process(
        &mut self,
        batch: &[Element],
    ) -> Result<Vec<Result<Vec<Output>, String>>, Spent> {
        self.bound(batch.len());
        Ok(self
            .guest
            .call(|b, store| b.call_batch(store, batch))
            .await?)
    }
}

impl GuestStage<SinkWorld> {
    pub async fn consume(&mut self, batch: &[Element]) -> Result<Result<Verdict, String>, Spent> {
        self.bound(batch.len());
        Ok(self
            .guest
            .call(|b, store| b.call_batch(store, batch))
            .await?)
    }
}

/// What the three worlds' `init` share, called through each one's bindings.
pub trait StageCalls: StageWorld {
    fn init<'a>(
        exports: &'a Self::Exports,
        store: &'a mut Store<HostState>,
        config: String,
    ) -> impl Future<Output = wasmtime::Result<Result<(), String>>> + Send + 'a;
}

impl StageCalls for SourceWorld {
    async fn init(
        exports: &Self::Exports,
        store: &mut Store<HostState>,
        config: String,
    ) -> wasmtime::Result<Result<(), String>> {
        exports.wbx_guest_source().call_init(store, &config).await
    }
}

impl StageCalls for ProcessorWorld {
    async fn init(
        exports: &Self::Exports,
        store: &mut Store<HostState>,
        config: String,
    ) -> wasmtime::Result<Result<(), String>> {
        exports
            .wbx_guest_processor()
            .call_init(store, &config)
            .await
    }
}

impl StageCalls for SinkWorld {
    async fn init(
        exports: &Self::Exports,
        store: &mut Store<HostState>,
        config: String,
    ) -> wasmtime::Result<Result<(), String>> {
        exports.wbx_guest_sink().call_init(store, &config).await
    }
}

async fn instantiate<W: StageWorld>(
    context: &StageContext,
) -> Result<Guest<StageInstance<W>>, String> {
    let mut extensions = Extensions::default();
    context.capabilities.grant(&mut extensions, None);
    context
        .engine
        .instantiate::<StagePre<W>>(
            &context.module,
            InstanceSetup {
                extensions,
                call_timeout: Some(context.timeout),
                ..InstanceSetup::default()
            },
        )
        .await
        .map_err(|e| format!("{e:#}"))
}
