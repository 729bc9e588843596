//! A command that misbehaves on request, for isolation tests:
//! `{"do": "ok"}`, `{"do": "panic"}`, `{"do": "loop"}`, `{"do": "alloc", "mb": N}`,
//! `{"do": "sleep", "ms": N}` (busy-waits, to keep a call in flight),
//! `{"do": "recurse"}` (calls itself until its stack runs out).

use std::hint::black_box;

use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

#[derive(serde::Deserialize)]
#[serde(tag = "do", rename_all = "lowercase")]
enum Input {
    Ok,
    Panic,
    Loop,
    Alloc { mb: usize },
    Sleep { ms: u64 },
    Recurse,
}

struct Misbehave;

impl Command for Misbehave {
    fn prepare(input: String) -> Result<Vec<QueryItem>, CommandError> {
        let input: Input = serde_json::from_str(&input)
            .map_err(|e| CommandError::InvalidInput(e.to_string()))?;
        match input {
            Input::Ok => {}
            Input::Panic => panic!("asked to panic"),
            Input::Loop => {
                // Says it is about to loop, for a test that waits for it.
                wbx_guest::info!("looping");
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            Input::Alloc { mb } => {
                let mut blocks = Vec::new();
                for _ in 0..mb {
                    blocks.push(black_box(vec![1u8; 1 << 20]));
                }
                black_box(&blocks);
            }
            Input::Sleep { ms } => {
                let start = std::time::Instant::now();
                while start.elapsed().as_millis() < u128::from(ms) {
                    black_box(());
                }
            }
            Input::Recurse => {
                black_box(depth(u64::MAX));
            }
        }
        Ok(vec![])
    }

    fn fold(_events: Vec<Event>) {}

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        Ok(vec![NewEvent {
            event_type: "Behaved".into(),
            tags: vec![],
            data: "{}".into(),
        }])
    }
}

wbx_guest::export_command!(Misbehave);

/// How deep it got: never returns for a depth no stack holds.
fn depth(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        black_box(depth(black_box(n - 1))) + 1
    }
}
