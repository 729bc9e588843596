//! `wbx bench`'s scenarios for the terminal interface.
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `tui-frame` | frames/s: jump to a random position of a log of a million events, read the window, draw the Events pane | frames/s of ratatui drawing a table of the same rows already in memory |
//! | `tui-idle` | % of the CPU left alone while the app waits with nothing happening | 100 %: idling at no cost at all |
//! | `event-search` | ms for the Events pane to filter the same log by a text found nowhere in it, and draw | none (a latency) |
//!
//! A frame is the whole of what the app does for one: the store read
//! through its index and the draw into a buffer of a 160×48 terminal (what
//! the terminal itself does with the bytes is outside wbx).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Constraint;
use ratatui::widgets::{Block, Row, Table};
use wbx_engine::bench::{BenchOptions, Measurement, figure, measurement, per_second, summarize};
use wbx_engine::events::{AppendMeta, EventStore, NewEvent};
use wbx_engine::observe::Observer;

use crate::app::App;
use crate::keys::KeyMap;
use crate::panes::events::{EVENTS, EventsPane, EventsUi};
use crate::panes::{LogsPane, ModulesPane};
use crate::runner::{Inputs, drive};
use crate::status::Status;
use crate::update::update;
use crate::{action::Action, view};

pub const SCENARIOS: [&str; 3] = ["tui-frame", "tui-idle", "event-search"];

const SIZE: (u16, u16) = (160, 48);

/// A store of `events` events like the example's, in a temporary directory.
fn filled_store(events: u64) -> Result<(tempfile::TempDir, EventStore)> {
    let dir = tempfile::tempdir().context("cannot make a scratch directory")?;
    let store = EventStore::open(&dir.path().join("events.sqlite"))?;
    let mut next = 1;
    while next <= events {
        let batch: Vec<NewEvent> = (next..=events.min(next + 9_999))
            .map(|n| NewEvent {
                event_type: ["BookAdded", "MemberRegistered", "BookLent"][(n % 3) as usize]
                    .to_owned(),
                tags: vec![
                    format!("book_id:b{}", n % 5000),
                    format!("member_id:m{}", n % 700),
                ],
                data: format!(
                    "{{\"book_id\":\"b{}\",\"member_id\":\"m{}\",\"title\":\"Book number {n}\"}}",
                    n % 5000,
                    n % 700
                ),
            })
            .collect();
        next += batch.len() as u64;
        store.append(&batch, None, &AppendMeta::default())?;
    }
    Ok((dir, store))
}

fn app(store: &EventStore) -> App {
    let events = EventsUi::new(store.clone(), Vec::new());
    let mut app = App::new(
        Status::new("bench", "http://127.0.0.1:0"),
        ModulesPane::default(),
        LogsPane::new([]),
        vec![Box::new(events)],
        KeyMap::default(),
    );
    app.pane = EVENTS;
    update(
        &mut app,
        Action::Resize {
            width: SIZE.0,
            height: SIZE.1,
        },
    );
    app
}

/// The Events pane's rows, as the app holds them.
fn events_pane(app: &App) -> &EventsPane {
    let ui = app.models[0].as_any().downcast_ref::<EventsUi>();
    &ui.expect("the bench's app has the events panes").log
}

/// Frames/s of the app, and of ratatui drawing the same rows held in memory.
fn frames(store: &EventStore, frames: usize) -> Result<(f64, f64)> {
    let mut app = app(store);
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1))?;
    let head = store.head().max(1);
    // Positions spread over the whole log, the same in every run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut position = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        1 + (seed >> 33) % head
    };
    let start = Instant::now();
    for _ in 0..frames {
        let at = position().to_string();
        app.with_model(0, |events, app| events.command("goto", &at, app));
        terminal.draw(|frame| view::draw(frame, &app))?;
    }
    let value = per_second(frames, start.elapsed());
    let pane = events_pane(&app);
    if pane.rows.is_empty() || pane.error.is_some() {
        bail!("the frame benchmark read no events: {:?}", pane.error);
    }

    let rows: Vec<[String; 5]> = pane
        .rows
        .iter()
        .map(|e| {
            [
                e.position.to_string(),
                format!("{:?}", e.timestamp),
                e.event_type.clone(),
                e.tags.join(" "),
                e.data.get().to_owned(),
            ]
        })
        .collect();
    let widths = [
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(16),
        Constraint::Length(28),
        Constraint::Fill(1),
    ];
    let start = Instant::now();
    for _ in 0..frames {
        terminal.draw(|frame| {
            let table = Table::new(rows.iter().map(|r| Row::new(r.clone())), widths)
                .block(Block::bordered());
            frame.render_widget(table, frame.area());
        })?;
    }
    Ok((value, per_second(frames, start.elapsed())))
}

/// Milliseconds for the Events pane to apply a filter by a text that no
/// event holds (a new one each time) and draw the empty result.
fn search(store: &EventStore, searches: usize) -> Result<f64> {
    let mut app = app(store);
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1))?;
    let start = Instant::now();
    for n in 0..searches {
        let text = format!("nowhere-{n}");
        app.with_model(0, |events, app| events.set_filter(EVENTS, &text, app));
        terminal.draw(|frame| view::draw(frame, &app))?;
    }
    let elapsed = start.elapsed();
    let pane = events_pane(&app);
    if !pane.rows.is_empty() || pane.error.is_some() {
        bail!(
            "the search benchmark found {} events for a text in none: {:?}",
            pane.rows.len(),
            pane.error
        );
    }
    Ok(elapsed.as_secs_f64() * 1000.0 / searches as f64)
}

/// CPU time this thread has used, from the kernel's scheduler statistics.
fn thread_cpu() -> Result<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .context("tui-idle reads /proc/thread-self/schedstat, which this system lacks")?;
    let nanos: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .context("cannot read /proc/thread-self/schedstat")?;
    Ok(Duration::from_nanos(nanos))
}

/// The % of one CPU left alone while the app's loop waits for `wall`, after
/// its first frame.
fn idle(store: &EventStore, wall: Duration) -> Result<f64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let observer = Observer::default();
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1))?;
    let (_done, done) = tokio::sync::mpsc::unbounded_channel();
    let app = app(store);
    runtime.block_on(async {
        let looping = drive(
            &mut terminal,
            app,
            Inputs {
                terminal: futures_util::stream::pending(),
                observations: Some(observer.subscribe()),
                done,
            },
            |_| {},
        );
        // The loop and the clock share this one thread, so its CPU time is
        // the loop's.
        let measured = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (cpu, start) = (thread_cpu()?, Instant::now());
            tokio::time::sleep(wall).await;
            let busy = (thread_cpu()? - cpu).as_secs_f64() / start.elapsed().as_secs_f64();
            Ok::<_, anyhow::Error>((100.0 * (1.0 - busy)).max(f64::MIN_POSITIVE))
        };
        tokio::select! {
            ended = looping => bail!("the app's loop ended while idle: {:?}", ended.err()),
            left = measured => left,
        }
    })
}

/// Runs the selected TUI scenarios (`options.scenarios` names them; empty
/// runs both), reporting each as it is measured.
pub fn run(options: &BenchOptions, mut report: impl FnMut(&Measurement)) -> Result<()> {
    let selected =
        |name: &str| options.scenarios.is_empty() || options.scenarios.iter().any(|s| s == name);
    let size = |full: f64| ((full * options.scale).ceil() as usize).max(1);
    let reps = options.repetitions.max(1);
    let (_dir, store) = filled_store(size(1_000_000.0) as u64)?;
    // Measured once the text index holds the whole log, so that its
    // follower neither answers for nor competes with what is measured.
    if !store.wait_for_text_index(Duration::from_secs(3600)) {
        bail!("the text index did not reach the end of the log within an hour");
    }
    if selected("tui-frame") {
        let (mut values, mut baselines) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let (value, baseline) = frames(&store, size(2_000.0))?;
            values.push(value);
            baselines.push(baseline);
        }
        report(&measurement(
            "tui-frame",
            "frames/s",
            summarize(values),
            summarize(baselines),
        ));
    }
    if selected("tui-idle") {
        let wall = Duration::from_secs_f64((2.0_f64 * options.scale).clamp(0.2, 2.0));
        let values = (0..reps)
            .map(|_| idle(&store, wall))
            .collect::<Result<Vec<_>>>()?;
        report(&measurement(
            "tui-idle",
            "% CPU left idle",
            summarize(values),
            (100.0, (100.0, 100.0)),
        ));
    }
    if selected("event-search") {
        let values = (0..reps)
            .map(|_| search(&store, 20))
            .collect::<Result<Vec<_>>>()?;
        report(&figure("event-search", "ms", summarize(values)));
    }
    Ok(())
}
