//! An actor with only the required exports (`init`, `handle` of the
//! `actor-module` world), made with wit-bindgen alone: no state hand-over,
//! no `inspect`. It counts the messages it handles and replies the count
//! to a call; `init` stores nothing else.

use std::cell::Cell;

wit_bindgen::generate!({
    world: "actor-module",
    path: "../../../../wit",
    generate_all,
});

use exports::wbx::guest::actor::{Guest, Kind, Message};

thread_local! {
    static HANDLED: Cell<u64> = const { Cell::new(0) };
}

struct Plain;

impl Guest for Plain {
    fn init(_args: String) -> Result<(), String> {
        HANDLED.set(0);
        Ok(())
    }

    fn handle(message: Message) -> Result<Option<String>, String> {
        let handled = HANDLED.get() + 1;
        HANDLED.set(handled);
        Ok(match message.kind {
            Kind::Call => Some(format!("{{\"plain\":{handled}}}")),
            _ => None,
        })
    }
}

export!(Plain);
