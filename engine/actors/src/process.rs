//! A process's life, whatever its body: [`Body`] is what runs it (a
//! guest, [`crate::guest::GuestBody`], or a supervisor,
//! [`crate::supervisor::SupervisorBody`]), and [`run`] is its loop:
//! one message at a time, in order, with exit signals able to end it even
//! mid-handler, and a boundary between messages where the body may move to
//! a new version and the engine may look at its state.

use std::sync::Arc;

use tokio::sync::watch;
use wbx_core::BoxFuture;

use crate::message::{ActorError, Letter};
use crate::system::System;
use crate::table::{Entry, Status};

/// What runs a process: its `init`, its handler, what it does between
/// messages and when it ends.
pub(crate) trait Body: Send + 'static {
    /// Handles one message; `Ok(Some(json))` is a call's reply, an error
    /// ends the process with that reason.
    fn handle<'a>(
        &'a mut self,
        entry: &'a Arc<Entry>,
        letter: &'a Letter,
    ) -> BoxFuture<'a, Result<Option<String>, String>>;

    /// Between two messages, when a module's version changed since the
    /// last boundary (and once at the start): an error ends the process
    /// with that reason.
    fn boundary<'a>(&'a mut self, entry: &'a Arc<Entry>) -> BoxFuture<'a, Result<(), String>> {
        let _ = entry;
        Box::pin(async { Ok(()) })
    }

    /// Its state for people (JSON), when it can tell.
    fn inspect(&mut self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }

    /// The process is ending with `why` (a supervisor stops its children).
    fn terminate<'a>(&'a mut self, entry: &'a Arc<Entry>, why: &'a str) -> BoxFuture<'a, ()> {
        let _ = (entry, why);
        Box::pin(async {})
    }
}

/// Runs a started process until it exits, then takes it out of the table.
pub(crate) async fn run(system: Arc<System>, entry: Arc<Entry>, mut body: Box<dyn Body>) {
    let mut versions = system.engine.watch_versions();
    // The first boundary looks at the version (one may have come since the
    // body started); later ones only when some module's version changed.
    let mut look = true;
    let why = loop {
        if let Some(why) = entry.lock().fatal.clone() {
            break why;
        }
        serve_inspections(&entry, body.as_mut()).await;
        if look || versions.has_changed().unwrap_or(false) {
            versions.borrow_and_update();
            look = false;
            if let Err(why) = body.boundary(&entry).await {
                break why;
            }
        }
        let next = entry.lock().mailbox.pop_front();
        let Some(mut letter) = next else {
            entry.set_status(Status::Idle);
            tokio::select! {
                () = entry.mail.notified() => {}
                () = entry.attention.notified() => {}
                () = version_changed(&mut versions) => look = true,
            }
            continue;
        };
        entry.set_status(Status::Running);
        entry.trace_in(&letter);
        let reply = letter.reply.take();
        let handled = tokio::select! {
            biased;
            why = fatal(&entry) => Err(why),
            result = body.handle(&entry, &letter) => result,
        };
        match handled {
            Ok(answer) => {
                entry.lock().handled += 1;
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(answer.unwrap_or_else(|| "null".to_owned())));
                }
            }
            Err(why) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(ActorError::Exited {
                        target: entry.pid.to_string(),
                        reason: why.clone(),
                    }));
                }
                break why;
            }
        }
    };
    body.terminate(&entry, &why).await;
    system.exited(&entry, &why);
}

/// Resolves when an exit signal has ended the process.
async fn fatal(entry: &Entry) -> String {
    loop {
        let notified = entry.attention.notified();
        if let Some(why) = entry.lock().fatal.clone() {
            return why;
        }
        notified.await;
    }
}

async fn version_changed(versions: &mut watch::Receiver<u64>) {
    if versions.changed().await.is_err() {
        // The engine is going away; shutdown ends the process.
        std::future::pending::<()>().await;
    }
}

async fn serve_inspections(entry: &Entry, body: &mut dyn Body) {
    let waiting = std::mem::take(&mut entry.lock().inspections);
    if waiting.is_empty() {
        return;
    }
    let state = body.inspect().await;
    for inspection in waiting {
        let _ = inspection.send(state.clone());
    }
}
