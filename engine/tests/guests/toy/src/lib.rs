//! A module of the toy model (`engine/tests/toy`): it answers a ping.

wit_bindgen::generate!({
    path: "../../toy/wit",
    world: "toy-module",
});

struct Toy;

impl exports::wbx::toy::toy::Guest for Toy {
    fn ping(text: String) -> String {
        format!("pong from the toy: {text}")
    }
}

export!(Toy);
