//! Group commit: the appends that arrive while one transaction is being
//! written go together into the next one, so concurrent writers share a
//! commit instead of queueing for one each.
//!
//! A writer puts its append among the waiting ones. If no one is writing,
//! it becomes the writer: it takes every append waiting (its own among
//! them) and has the backend write them in one transaction, then hands each
//! its outcome and wakes its writer, and wakes one of the writers that came
//! meanwhile to write the next group. A writer that finds another writing
//! sleeps until woken with its outcome or to write. Each condition is
//! checked in order, after the appends before it in the group, and no
//! outcome is given before the commit.
//!
//! Writers are woken one by one (`unpark`), never all at once: with many
//! writers, waking all to find the few that are done costs more than the
//! commit it saves.

use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::Thread;

use anyhow::{Result, anyhow};
use wbx_core::sync::lock;

use super::{Append, AppendOutcome, Backend};
use crate::envelope::StoredEvent;

/// An append's outcome and, when appended, its events as stored.
pub(crate) type Done = (AppendOutcome, Vec<StoredEvent>);

#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Appends no writer has taken yet.
    waiting: Vec<Waiter>,
    /// Outcomes their writers have not collected yet, by ticket.
    outcomes: HashMap<u64, Result<Done>>,
    writing: bool,
    next_ticket: u64,
}

struct Waiter {
    ticket: u64,
    append: Append,
    thread: Thread,
}

impl GroupCommit {
    /// Writes `append` with whatever else is waiting, once it is durable.
    pub(crate) fn append(&self, backend: &dyn Backend, append: Append) -> Result<Done> {
        let mut state = lock(&self.state);
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.push(Waiter {
            ticket,
            append,
            thread: std::thread::current(),
        });
        while state.writing {
            drop(state);
            // Woken with its outcome, to write, or (rarely) for nothing.
            std::thread::park();
            state = lock(&self.state);
            if let Some(done) = state.outcomes.remove(&ticket) {
                return done;
            }
        }
        // This writer's append is still waiting: it writes the group.
        state.writing = true;
        let group = std::mem::take(&mut state.waiting);
        drop(state);
        let (mut appends, writers): (Vec<Append>, Vec<(u64, Thread)>) = group
            .into_iter()
            .map(|w| (w.append, (w.ticket, w.thread)))
            .unzip();
        // A panic in the backend must not leave `writing` set for ever.
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write(backend, &mut appends)
        }));
        let outcomes: Vec<Result<Done>> = match written {
            Ok(outcomes) => appends
                .into_iter()
                .zip(outcomes)
                .map(|(append, outcome)| {
                    outcome.map(|outcome| match outcome {
                        AppendOutcome::Appended { .. } => (outcome, append.events),
                        refused => (refused, Vec::new()),
                    })
                })
                .collect(),
            Err(_) => (0..writers.len())
                .map(|_| Err(anyhow!("the store panicked writing this append")))
                .collect(),
        };
        let mut state = lock(&self.state);
        state.writing = false;
        let mut own = None;
        let mut wake = Vec::with_capacity(writers.len() + 1);
        for ((t, thread), done) in writers.into_iter().zip(outcomes) {
            if t == ticket {
                own = Some(done);
            } else {
                state.outcomes.insert(t, done);
                wake.push(thread);
            }
        }
        if let Some(next) = state.waiting.first() {
            wake.push(next.thread.clone());
        }
        drop(state);
        for thread in wake {
            thread.unpark();
        }
        own.expect("a writer's group holds its own append")
    }
}

/// The outcome of each append of `group`: from one transaction, or, when
/// that fails, from one transaction each, so that an error is only that of
/// the append it belongs to.
fn write(backend: &dyn Backend, group: &mut [Append]) -> Vec<Result<AppendOutcome>> {
    match backend.append(group) {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) if group.len() == 1 => vec![Err(e)],
        Err(_) => group
            .iter_mut()
            .map(|append| {
                let outcomes = backend.append(std::slice::from_mut(append))?;
                Ok(outcomes.into_iter().next().expect("one outcome an append"))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Condvar};
    use std::time::{Duration, Instant, SystemTime};

    use super::*;
    use crate::Lease;
    use crate::envelope::{AppendMeta, NewEvent};
    use crate::query::{Bound, Query, QueryItem, SqlParams};
    use crate::store::sqlite::SqliteBackend;
    use crate::store::{Dialect, Select, envelope};

    /// The real SQLite backend, with a gate that holds the first group
    /// until the test opens it, and the size of every group it writes.
    struct Gated {
        sqlite: SqliteBackend,
        open: Mutex<bool>,
        opened: Condvar,
        groups: Mutex<Vec<usize>>,
    }

    impl Backend for Gated {
        fn append(&self, group: &mut [Append]) -> Result<Vec<AppendOutcome>> {
            let mut open = lock(&self.open);
            while !*open {
                open = self.opened.wait(open).unwrap();
            }
            lock(&self.groups).push(group.len());
            self.sqlite.append(group)
        }
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        fn head(&self) -> Result<u64> {
            self.sqlite.head()
        }
        fn events(&self, select: Select, via: super::super::Via) -> Result<Vec<StoredEvent>> {
            self.sqlite.events(select, via)
        }
        fn guest_events(
            &self,
            select: Select,
            via: super::super::Via,
        ) -> Result<Vec<crate::bindings::Event>> {
            self.sqlite.guest_events(select, via)
        }
        fn has_idempotency_key(&self, key: &str) -> Result<bool> {
            self.sqlite.has_idempotency_key(key)
        }
        fn import(&self, events: &[StoredEvent]) -> Result<u64> {
            self.sqlite.import(events)
        }
        fn check(&self) -> Result<String> {
            self.sqlite.check()
        }
        fn lease(&self, name: &str) -> wbx_core::BoxFuture<'static, Result<Lease>> {
            self.sqlite.lease(name)
        }
        fn effect_mark(&self, effect: &str) -> Result<Option<u64>> {
            self.sqlite.effect_mark(effect)
        }
        fn save_effect_mark(&self, effect: &str, position: u64) -> Result<()> {
            self.sqlite.save_effect_mark(effect, position)
        }
    }

    fn append(tag: &str, condition_after: Option<u64>, key: Option<&str>) -> Append {
        let meta = AppendMeta {
            idempotency_key: key.map(str::to_owned),
            ..AppendMeta::default()
        };
        let event = NewEvent {
            event_type: "Wrote".into(),
            tags: vec![tag.to_owned()],
            data: "{}".into(),
        };
        let condition = condition_after.map(|after| {
            let mut params = SqlParams::new(Dialect::Sqlite);
            let query = Query::new(vec![QueryItem::tags([tag])]);
            let matches = query.to_sql(Some(Bound::after(after)), &mut params);
            Select {
                sql: format!("SELECT 1 FROM events e WHERE {matches} LIMIT 1"),
                params: params.params,
            }
        });
        Append {
            events: vec![envelope(&event, SystemTime::now(), &meta).unwrap()],
            condition,
            idempotency_key: meta.idempotency_key,
        }
    }

    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Appends that arrive while a group is being written go together into
    /// the next one, each checked after those before it; an append that
    /// fails takes no other down with it.
    #[test]
    fn appends_arriving_together_share_one_transaction_checked_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(Gated {
            sqlite: SqliteBackend::open(&dir.path().join("events.sqlite")).unwrap(),
            open: Mutex::new(false),
            opened: Condvar::new(),
            groups: Mutex::default(),
        });
        let commit = Arc::new(GroupCommit::default());
        let arrivals = vec![
            append("first", None, None),
            // Writes `k` after the head it saw (0): the first in the group.
            append("k", Some(0), None),
            // The same condition: the append before it in the group wrote `k`.
            append("k", Some(0), None),
            append("other", None, None),
            append("x", None, Some("once")),
            append("y", None, Some("once")),
            {
                let mut unnamed = append("z", None, None);
                unnamed.events[0].id = String::new();
                unnamed
            },
        ];
        let mut writers = Vec::new();
        for (n, arrival) in arrivals.into_iter().enumerate() {
            let (gated, group) = (backend.clone(), commit.clone());
            writers.push(std::thread::spawn(move || group.append(&*gated, arrival)));
            // The first is taken at once and held at the gate; the others
            // wait behind it, in this order.
            wait_for("the append to arrive", || {
                let state = lock(&commit.state);
                state.writing && state.waiting.len() == n
            });
        }
        *lock(&backend.open) = true;
        backend.opened.notify_all();
        let outcomes: Vec<_> = writers
            .into_iter()
            .map(|w| w.join().unwrap().map(|(outcome, _)| outcome))
            .collect();
        let outcome = |n: usize| outcomes[n].as_ref().ok().cloned();
        assert_eq!(
            outcome(0),
            Some(AppendOutcome::Appended { first: 1, last: 1 })
        );
        assert_eq!(
            outcome(1),
            Some(AppendOutcome::Appended { first: 2, last: 2 })
        );
        assert_eq!(outcome(2), Some(AppendOutcome::ConditionFailed));
        assert!(matches!(outcome(3), Some(AppendOutcome::Appended { .. })));
        assert!(matches!(outcome(4), Some(AppendOutcome::Appended { .. })));
        assert_eq!(outcome(5), Some(AppendOutcome::Duplicate));
        // An append of an event without an id fails, and alone.
        let error = format!("{:#}", outcomes[6].as_ref().unwrap_err());
        assert!(error.contains("CHECK"), "{error}");
        // The first alone, then the six that came meanwhile in one group,
        // which failed on the event without an id and was written again one
        // by one.
        assert_eq!(*lock(&backend.groups), [1, 6, 1, 1, 1, 1, 1, 1]);
        assert_eq!(backend.sqlite.head().unwrap(), 4);
    }
}
