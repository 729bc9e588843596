//! A command that greets: `{"name": "Ada"}` emits one `Greeted` event whose data
//! names the crate and version that made it, so tests can tell versions apart.

use std::cell::RefCell;

use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

#[derive(serde::Deserialize)]
struct Input {
    name: String,
}

thread_local! {
    static INPUT: RefCell<Option<Input>> = const { RefCell::new(None) };
    static SEEN: RefCell<u64> = const { RefCell::new(0) };
}

struct Greeter;

impl Command for Greeter {
    fn prepare(input: String) -> Result<Vec<QueryItem>, CommandError> {
        let input: Input = serde_json::from_str(&input)
            .map_err(|e| CommandError::InvalidInput(e.to_string()))?;
        if input.name.is_empty() {
            return Err(CommandError::Rejected("a greeting needs a name".into()));
        }
        let query = vec![QueryItem {
            types: vec!["Greeted".into()],
            tags: vec![format!("name:{}", input.name)],
        }];
        INPUT.with(|slot| *slot.borrow_mut() = Some(input));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        SEEN.with(|seen| *seen.borrow_mut() += events.len() as u64);
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let name = INPUT
            .with(|slot| slot.borrow_mut().take())
            .ok_or_else(|| CommandError::InvalidInput("decide before prepare".into()))?
            .name;
        let seen = SEEN.with(|seen| *seen.borrow());
        wbx_guest::info!("greeting {name} (seen {seen} times before)");
        println!("stdout: greeting {name}");
        let data = serde_json::json!({
            "greeting": format!("hello, {name}"),
            "by": concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION")),
            "seen": seen,
        });
        Ok(vec![NewEvent {
            event_type: "Greeted".into(),
            tags: vec![format!("name:{name}")],
            data: data.to_string(),
        }])
    }
}

wbx_guest::export_command!(Greeter);
