//! What [`export_actor!`](crate::export_actor) exports: the `actor`,
//! `actor-state` and `actor-inspect` interfaces over one [`Actor`] value
//! kept for the instance's life, and the two ways of handing it over on a
//! hot swap ([`JsonState`], [`NoState`]).

use std::any::Any;
use std::cell::RefCell;

use super::{Actor, Message, MonitorRef, Pid};
use crate::actor_world::exports::wbx::guest::actor::{Kind, Message as WireMessage};

thread_local! {
    /// The actor of the process this instance is: set by `init` or
    /// `restore-state`, then handed to `handle` for each message.
    static ACTOR: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// How an actor crosses a hot swap, and what people see of it.
pub trait StateHandOver<A> {
    fn save(actor: &A) -> Result<Vec<u8>, String>;
    fn restore(state: &[u8]) -> Result<A, String>;
    /// The actor as JSON for the Actors pane.
    fn inspect(actor: &A) -> String;
}

/// The actor value itself, as JSON: `export_actor!(T with state)`.
pub struct JsonState;

impl<A: serde::Serialize + serde::de::DeserializeOwned> StateHandOver<A> for JsonState {
    fn save(actor: &A) -> Result<Vec<u8>, String> {
        serde_json::to_vec(actor)
            .map_err(|e| format!("the actor's state cannot be serialised: {e}"))
    }

    fn restore(state: &[u8]) -> Result<A, String> {
        serde_json::from_slice(state).map_err(|e| {
            format!("the saved state does not fit this version's actor ({e}); it starts again through init")
        })
    }

    fn inspect(actor: &A) -> String {
        serde_json::to_string(actor).unwrap_or_else(|e| {
            serde_json::Value::String(format!("the actor's state cannot be serialised: {e}"))
                .to_string()
        })
    }
}

/// Nothing handed over: `export_actor!(T)`. Both ends fail, so the engine
/// restarts each process through `init`.
pub struct NoState;

impl<A> StateHandOver<A> for NoState {
    fn save(_actor: &A) -> Result<Vec<u8>, String> {
        Err("this actor hands no state over (export it with `export_actor!(T with state)` to keep it across versions)".to_owned())
    }

    fn restore(_state: &[u8]) -> Result<A, String> {
        Err("this actor takes no saved state; it starts again through init".to_owned())
    }

    fn inspect(_actor: &A) -> String {
        "null".to_owned()
    }
}

/// `init`: the args read as `A::Args`, then `A::init`.
pub fn init<A: Actor>(args: String) -> Result<(), String> {
    let args: A::Args = serde_json::from_str(json_text(&args)).map_err(|e| {
        format!(
            "the init args are not what this actor takes ({e}): {}",
            super::process::shortened(&args)
        )
    })?;
    let actor = A::init(args)?;
    ACTOR.with(|slot| *slot.borrow_mut() = Some(Box::new(actor)));
    Ok(())
}

/// `handle`: the wire message read as a [`Message`], then `A::handle`; the
/// reply serialised for a call only.
pub fn handle<A: Actor>(message: WireMessage) -> Result<Option<String>, String> {
    with_actor(|actor: &mut A| {
        let WireMessage { kind, from, body } = message;
        let from = from.map(Pid::new);
        let is_call = matches!(kind, Kind::Call);
        let read = |body: &str| serde_json::from_str::<A::Message>(json_text(body));
        let reply = match kind {
            Kind::Cast | Kind::Call => match read(&body) {
                Ok(read) if is_call => actor.handle(Message::Call { from, body: read }),
                Ok(read) => actor.handle(Message::Cast { from, body: read }),
                Err(e) => actor.unreadable(from, &body, e.to_string()),
            },
            Kind::Exit(reason) => actor.handle(Message::Exit { from, reason }),
            Kind::Down((monitor, reason)) => actor.handle(Message::Down {
                monitor: MonitorRef(monitor),
                from,
                reason,
            }),
        }?;
        match reply {
            Some(reply) if is_call => serde_json::to_string(&reply)
                .map(Some)
                .map_err(|e| format!("the reply cannot be serialised: {e}")),
            _ => Ok(None),
        }
    })
}

/// `save-state`.
pub fn save<A: Actor, H: StateHandOver<A>>() -> Result<Vec<u8>, String> {
    with_actor(|actor: &mut A| H::save(actor))
}

/// `restore-state`: the process's actor, instead of `init`.
pub fn restore<A: Actor, H: StateHandOver<A>>(state: Vec<u8>) -> Result<(), String> {
    let actor = H::restore(&state)?;
    ACTOR.with(|slot| *slot.borrow_mut() = Some(Box::new(actor)));
    Ok(())
}

/// `inspect`: `null` until the process has an actor.
pub fn inspect<A: Actor, H: StateHandOver<A>>() -> String {
    ACTOR.with(|slot| {
        slot.borrow()
            .as_ref()
            .and_then(|actor| actor.downcast_ref::<A>())
            .map_or_else(|| "null".to_owned(), H::inspect)
    })
}

fn with_actor<A: Actor, R>(f: impl FnOnce(&mut A) -> Result<R, String>) -> Result<R, String> {
    ACTOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        let actor = slot
            .as_mut()
            .and_then(|actor| actor.downcast_mut::<A>())
            .ok_or("the process has no actor: neither init nor restore-state succeeded")?;
        f(actor)
    })
}

/// Empty text (args or a body never written) reads as `null`.
fn json_text(text: &str) -> &str {
    if text.trim().is_empty() { "null" } else { text }
}

/// Exports an [`Actor`](crate::actor::Actor) as the crate's actor module
/// (world `actor-module-with-state`).
///
/// - `export_actor!(Counter with state)`: `Counter` must be `Serialize +
///   Deserialize`; its value is handed to the next version on a hot swap
///   (as JSON) and shown by the Actors pane.
/// - `export_actor!(Counter)`: nothing is handed over (`save-state` and
///   `restore-state` fail, so each process of a new version starts again
///   through `init`), and the pane shows `null`.
///
/// The `with state` form takes a type name or path (`Counter`,
/// `crate::actors::Counter`); a generic type needs an alias first.
#[macro_export]
macro_rules! export_actor {
    ($($actor:ident)::+ with state) => {
        $crate::export_actor!(@hand_over $($actor)::+, $crate::actor::export::JsonState);
    };
    ($actor:ty) => {
        $crate::export_actor!(@hand_over $actor, $crate::actor::export::NoState);
    };
    (@hand_over $actor:ty, $hand_over:ty) => {
        const _: () = {
            struct __WbxActor;

            impl $crate::actor_world::exports::wbx::guest::actor::Guest for __WbxActor {
                fn init(args: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::actor::export::init::<$actor>(args)
                }

                fn handle(
                    message: $crate::actor_world::exports::wbx::guest::actor::Message,
                ) -> ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String> {
                    $crate::actor::export::handle::<$actor>(message)
                }
            }

            impl $crate::actor_world::exports::wbx::guest::actor_state::Guest for __WbxActor {
                fn save_state() -> ::std::result::Result<::std::vec::Vec<u8>, ::std::string::String> {
                    $crate::actor::export::save::<$actor, $hand_over>()
                }

                fn restore_state(
                    state: ::std::vec::Vec<u8>,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::actor::export::restore::<$actor, $hand_over>(state)
                }
            }

            impl $crate::actor_world::exports::wbx::guest::actor_inspect::Guest for __WbxActor {
                fn inspect() -> ::std::string::String {
                    $crate::actor::export::inspect::<$actor, $hand_over>()
                }
            }

            $crate::actor_world::__export_actor_world!(__WbxActor with_types_in $crate::actor_world);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Tally {
        total: i64,
        #[serde(default)]
        events: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(tag = "op", rename_all = "snake_case")]
    enum Op {
        Add { n: i64 },
        Stop,
    }

    impl Actor for Tally {
        type Args = i64;
        type Message = Op;
        type Reply = i64;

        fn init(start: i64) -> Result<Self, String> {
            if start < 0 {
                return Err("negative start".into());
            }
            Ok(Tally {
                total: start,
                events: vec![],
            })
        }

        fn handle(&mut self, message: Message<Op>) -> Result<Option<i64>, String> {
            match message {
                Message::Cast { body, .. } | Message::Call { body, .. } => match body {
                    Op::Add { n } => {
                        self.total += n;
                        Ok(Some(self.total))
                    }
                    Op::Stop => Err("asked to stop".into()),
                },
                Message::Exit { from, reason } => {
                    self.events.push(format!("exit {from:?} {reason}"));
                    Ok(None)
                }
                Message::Down {
                    monitor,
                    from,
                    reason,
                } => {
                    self.events
                        .push(format!("down {} {from:?} {reason}", monitor.0));
                    Ok(None)
                }
            }
        }
    }

    // The macro's `with state` form takes a path; expanding it here checks
    // that it compiles against the generated world (on any target).
    crate::export_actor!(crate::actor::export::tests::Tally with state);

    fn wire(kind: Kind, from: Option<&str>, body: &str) -> WireMessage {
        WireMessage {
            kind,
            from: from.map(str::to_owned),
            body: body.to_owned(),
        }
    }

    // Each test runs on its own thread, so each has its own actor slot.

    #[test]
    fn a_call_is_answered_and_a_cast_is_not() {
        init::<Tally>("5".into()).unwrap();
        let call = wire(Kind::Call, Some("<0.2>"), r#"{"op":"add","n":2}"#);
        assert_eq!(handle::<Tally>(call).unwrap().as_deref(), Some("7"));
        let cast = wire(Kind::Cast, None, r#"{"op":"add","n":3}"#);
        assert_eq!(handle::<Tally>(cast).unwrap(), None);
        assert_eq!(inspect::<Tally, JsonState>(), r#"{"total":10,"events":[]}"#);
    }

    #[test]
    fn exits_and_downs_reach_the_handler_with_their_reasons() {
        init::<Tally>("0".into()).unwrap();
        handle::<Tally>(wire(Kind::Exit("crash".into()), Some("<0.4>"), "")).unwrap();
        handle::<Tally>(wire(Kind::Down((9, "noproc".into())), None, "")).unwrap();
        let tally: Tally = serde_json::from_str(&inspect::<Tally, JsonState>()).unwrap();
        assert_eq!(
            tally.events,
            [r#"exit Some(Pid("<0.4>")) crash"#, "down 9 None noproc"]
        );
    }

    #[test]
    fn errors_end_the_process_with_a_reason() {
        assert_eq!(init::<Tally>("-1".into()), Err("negative start".into()));
        let error = init::<Tally>(r#""five""#.into()).unwrap_err();
        assert!(
            error.starts_with("the init args are not what this actor takes"),
            "{error}"
        );
        let error = handle::<Tally>(wire(Kind::Cast, None, "{}")).unwrap_err();
        assert!(error.contains("neither init nor restore-state"), "{error}");
        init::<Tally>("".into()).unwrap_err();
        init::<Tally>("1".into()).unwrap();
        let stop = wire(Kind::Call, None, r#"{"op":"stop"}"#);
        assert_eq!(handle::<Tally>(stop), Err("asked to stop".into()));
        let error =
            handle::<Tally>(wire(Kind::Cast, Some("<0.9>"), r#"{"op":"nope"}"#)).unwrap_err();
        assert!(
            error.starts_with("a message from <0.9> this actor cannot read"),
            "{error}"
        );
    }

    #[test]
    fn state_crosses_a_swap_as_json_or_not_at_all() {
        init::<Tally>("3".into()).unwrap();
        let saved = save::<Tally, JsonState>().unwrap();
        // The next version's instance starts empty, then takes the state.
        ACTOR.with(|slot| *slot.borrow_mut() = None);
        assert_eq!(inspect::<Tally, JsonState>(), "null");
        restore::<Tally, JsonState>(saved).unwrap();
        let call = wire(Kind::Call, None, r#"{"op":"add","n":1}"#);
        assert_eq!(handle::<Tally>(call).unwrap().as_deref(), Some("4"));
        let error = restore::<Tally, JsonState>(br#""three""#.to_vec()).unwrap_err();
        assert!(error.contains("does not fit"), "{error}");

        assert!(save::<Tally, NoState>().is_err());
        assert!(restore::<Tally, NoState>(b"{}".to_vec()).is_err());
        assert_eq!(inspect::<Tally, NoState>(), "null");
    }
}
