//! [`Lease`]: a name held by one engine at a time among those that share a
//! store, such as an effect, so that its side effects are not done twice
//! because two developers ran `wbx dev` against one database.

use tokio::sync::watch;

/// Held until dropped. On PostgreSQL it is a session advisory lock on a
/// connection of its own: when the engine dies, the server ends the
/// session and the lease passes to an engine waiting for it.
pub struct Lease {
    /// What holds the lease while this lives (the connection, on PostgreSQL).
    _held: Option<Box<dyn Send + Sync>>,
    /// Turns true when the lease is lost while held (its connection broke).
    lost: watch::Receiver<bool>,
}

impl Lease {
    /// A lease nothing else can take: the store belongs to this engine alone.
    pub(crate) fn sole() -> Lease {
        let (tx, lost) = watch::channel(false);
        // Kept so the receiver never sees the channel close.
        Lease {
            _held: Some(Box::new(tx)),
            lost,
        }
    }

    pub(crate) fn held(held: Box<dyn Send + Sync>, lost: watch::Receiver<bool>) -> Lease {
        Lease {
            _held: Some(held),
            lost,
        }
    }

    /// Whether the lease was lost while held.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow() || self.lost.has_changed().is_err()
    }

    /// Returns when the lease is lost (its connection broke, or its store
    /// was closed); never while it holds.
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }
}
