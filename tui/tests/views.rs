//! What each pane shows in representative states, drawn into ratatui's
//! `TestBackend` and compared with the snapshots in `tests/snapshots/`
//! (`INSTA_UPDATE=always cargo test -p wbx-tui` rewrites them after a
//! deliberate change). Event ids, random in every run, are redacted.
//!
//! The state is reached the way the running app reaches it: through
//! `update` with actions, over a real event store in a temporary directory.

use std::time::{Duration, SystemTime};

#[path = "toy_model/mod.rs"]
mod toy_model;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wbx_engine::events::EventsObservation;
use wbx_engine::events::kinds::{COMMAND, EFFECT, PROJECTOR};
use wbx_engine::events::{AppendMeta, EventStore, NewEvent};
use wbx_engine::logs::{Level, LogLine, LogSource};
use wbx_engine::observe::ModelObservation;
use wbx_engine::observe::{BuildFailure, CompileReport};
use wbx_engine::{ModuleInfo, ModuleKind, ModuleStatus, ModuleVersion, Observation, Tier};
use wbx_tui::action::{Action, Request};
use wbx_tui::app::App;
use wbx_tui::model::ModelResult;
use wbx_tui::panes::events::{EventsRequest, EventsUi, Replayed};
use wbx_tui::panes::{LogsPane, ModulesPane};
use wbx_tui::status::{BuildState, Status};
use wbx_tui::update::{settle, update};
use wbx_tui::{KeyMap, view};

/// 2026-11-21T10:00:00Z
fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_255_200 + seconds)
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: EventStore,
    app: App,
}

/// A library-like project: three modules, `events` events in the store
/// (every third command's events share a correlation id), a few log lines.
fn fixture(events: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(&dir.path().join("events.sqlite")).unwrap();
    for n in 1..=events {
        let event = NewEvent {
            event_type: if n % 3 == 0 { "BookLent" } else { "BookAdded" }.to_owned(),
            tags: vec![format!("book_id:b{n}")],
            data: format!(
                "{{\"book_id\":\"b{n}\",\"title\":\"Book {n}\",\"copies\":{}}}",
                n % 4
            ),
        };
        let meta = AppendMeta {
            correlation_id: Some(format!("corr-{}", n.div_ceil(3))),
            causation_id: Some(format!("cause-{n}")),
            timestamp: Some(at(n)),
            idempotency_key: (n == 2).then(|| "key-2".to_owned()),
            ..AppendMeta::default()
        };
        store.append(&[event], None, &meta).unwrap();
    }
    let version = |hash: &str| Some(ModuleVersion::new("0.1.0", hash));
    let declared = [
        ("add-book".to_owned(), COMMAND),
        ("catalog".to_owned(), PROJECTOR),
        ("loyalty".to_owned(), EFFECT),
        ("lend-book".to_owned(), COMMAND),
    ];
    let infos = [
        info("add-book", COMMAND, version("3c96aa11bb22cc")),
        info("catalog", PROJECTOR, version("8d1e0011aabb")),
        info("loyalty", EFFECT, version("77aa00ff1122")),
    ];
    let modules = ModulesPane::seed(&declared, &infos, &[], &[]);
    let logs = LogsPane::new([
        log("add-book", Level::Info, "added b1", 1),
        log("catalog", Level::Debug, "projected 1 event", 2),
        log("loyalty", Level::Warn, "member m1 has no badge yet", 3),
        log("add-book", Level::Error, "copies must be positive", 4),
    ]);
    let mut status = Status::new("library", "http://127.0.0.1:4321");
    status.build = BuildState::Built {
        modules: 4,
        elapsed: Duration::from_millis(3900),
    };
    let events = EventsUi::new(store.clone(), Vec::new());
    let app = App::new(
        status,
        modules,
        logs,
        vec![Box::new(events)],
        KeyMap::default(),
    );
    Fixture {
        _dir: dir,
        store,
        app,
    }
}

/// Where the replay of the catalog got to, as the session answers.
fn replayed(result: Result<wbx_engine::replay::Step, String>) -> Action {
    let replayed = Replayed {
        projector: "catalog".to_owned(),
        result,
    };
    Action::Model(ModelResult::new("events", replayed))
}

/// An observation of the events model, as the stream carries it.
fn events(event: EventsObservation) -> Observation {
    Observation::Model(ModelObservation::new(event))
}

fn info(name: &str, kind: ModuleKind, version: Option<ModuleVersion>) -> ModuleInfo {
    ModuleInfo {
        name: name.to_owned(),
        kind,
        tier: version.as_ref().map(|_| Tier::Cranelift),
        version,
        status: ModuleStatus::Running,
        reloads: 0,
        last_error: None,
    }
}

fn log(module: &str, level: Level, text: &str, seconds: u64) -> LogLine {
    LogLine {
        module: module.to_owned(),
        at: at(seconds),
        level,
        source: LogSource::Log,
        text: text.to_owned(),
    }
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

impl Fixture {
    fn act(&mut self, action: Action) -> Vec<Request> {
        let requests = update(&mut self.app, action);
        settle(&mut self.app);
        requests
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.act(key(KeyCode::Char(c)));
        }
    }

    fn observe(&mut self, observation: Observation) {
        self.act(Action::Observed(Box::new(observation)));
    }

    /// The screen at `width` × `height`, as text.
    fn screen(&mut self, width: u16, height: u16) -> String {
        self.act(Action::Resize { width, height });
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| view::draw(frame, &self.app)).unwrap();
        terminal.backend().to_string()
    }
}

macro_rules! snapshot {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({filters => vec![
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[event-id]"),
        ]}, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}

// After `snapshot!`, which it uses: a macro is seen only below its definition.
#[path = "mesh_pane/mod.rs"]
mod mesh_pane;

#[path = "actors_pane/mod.rs"]
mod actors_pane;

#[path = "flows_pane/mod.rs"]
mod flows_pane;

fn reloaded() -> Observation {
    Observation::Reloaded {
        module: "add-book".to_owned(),
        from: Some(ModuleVersion::new("0.1.0", "3c96aa11bb22")),
        to: ModuleVersion::new("0.1.0", "9f00aa11bb22"),
        trigger: "add-book/src/lib.rs".to_owned(),
        build: Duration::from_millis(430),
        compile: CompileReport {
            cache_hit: false,
            compile_time: Duration::from_micros(21_400),
            tier: Tier::Winch,
        },
        fallback: None,
        swap: Duration::from_micros(100),
        latency: Duration::from_micros(55_400),
    }
}

#[test]
fn modules_running_with_a_reload_account() {
    let mut f = fixture(12);
    f.observe(events(EventsObservation::ProjectorCaughtUp {
        module: "catalog".to_owned(),
        position: 9,
    }));
    f.observe(reloaded());
    f.observe(Observation::ModuleSwapped {
        module: "add-book".to_owned(),
        from: ModuleVersion::new("0.1.0", "3c96aa11bb22"),
        to: ModuleVersion::new("0.1.0", "9f00aa11bb22"),
        compile: CompileReport {
            cache_hit: false,
            compile_time: Duration::from_micros(21_400),
            tier: Tier::Winch,
        },
    });
    let screen = f.screen(180, 16);
    assert!(screen.contains("winch 21.4 ms"), "{screen}");
    assert!(screen.contains("cranelift compiling…"), "{screen}");
    f.observe(Observation::ModuleTieredUp {
        module: "add-book".to_owned(),
        version: ModuleVersion::new("0.1.0", "9f00aa11bb22"),
        compile: CompileReport {
            cache_hit: false,
            compile_time: Duration::from_millis(115),
            tier: Tier::Cranelift,
        },
    });
    let screen = f.screen(180, 16);
    assert!(screen.contains("add-book/src/lib.rs"), "{screen}");
    assert!(screen.contains("then cranelift 115.0 ms"), "{screen}");
    assert!(screen.contains("at 9 · lag 3"), "{screen}");
    snapshot!("modules_running", screen);
}

#[test]
fn modules_with_a_failed_build_and_its_diagnostics() {
    let mut f = fixture(0);
    f.observe(Observation::BuildStarted {
        modules: vec!["lend-book".to_owned()],
        files: vec!["lend-book/src/lib.rs".to_owned()],
    });
    assert!(f.screen(100, 12).contains("building lend-book"));
    f.observe(Observation::BuildFinished {
        built: Vec::new(),
        failed: vec![BuildFailure {
            module: "lend-book".to_owned(),
            errors: 1,
            diagnostics: "\u{1b}[1merror[E0425]\u{1b}[0m: cannot find value `copiez` in this scope\n  \
                          --> lend-book/src/lib.rs:42:12\n   |\n42 |     if copiez == 0 {\n   |        \
                          ^^^^^^ help: a local variable with a similar name exists: `copies`"
                .to_owned(),
        }],
        elapsed: Duration::from_millis(800),
        cancelled: false,
    });
    f.observe(Observation::CallFailed {
        module: "loyalty".to_owned(),
        error: "loyalty: wasm trap: out of bounds memory access".to_owned(),
    });
    snapshot!("modules_build_failed", f.screen(100, 12));
    // The failing module is the last row: open it.
    f.act(key(KeyCode::End));
    f.act(key(KeyCode::Enter));
    let screen = f.screen(100, 20);
    assert!(screen.contains("cannot find value `copiez`"), "{screen}");
    assert!(!screen.contains('\u{1b}'), "escape codes are stripped");
    snapshot!("modules_build_failed_detail", screen);
}

#[test]
fn modules_when_the_project_has_none() {
    let mut f = fixture(0);
    f.app.modules = ModulesPane::default();
    snapshot!("modules_empty", f.screen(80, 12));
}

#[test]
fn events_follow_the_log_and_highlight_a_correlation() {
    let mut f = fixture(30);
    f.keys("2");
    let screen = f.screen(100, 14);
    assert!(screen.contains("following"));
    assert!(
        screen.contains("book_id:b30"),
        "the newest event is at the bottom"
    );
    snapshot!("events_following", screen);

    // Scrolling up pauses following; new events do not move the window.
    f.act(key(KeyCode::Up));
    let event = NewEvent {
        event_type: "BookReturned".to_owned(),
        tags: vec!["book_id:b1".to_owned()],
        data: "{}".to_owned(),
    };
    f.store
        .append(&[event], None, &AppendMeta::default())
        .unwrap();
    f.observe(events(EventsObservation::Appended {
        first: 31,
        last: 31,
        by: None,
    }));
    let screen = f.screen(100, 14);
    assert!(
        screen.contains("paused") && screen.contains("head 31"),
        "{screen}"
    );
    assert!(!screen.contains("BookReturned"), "{screen}");
    f.keys("G");
    assert!(f.screen(100, 14).contains("BookReturned"));
}

#[test]
fn an_event_opens_with_its_envelope_and_data() {
    let mut f = fixture(5);
    f.keys("2");
    f.screen(90, 24);
    f.keys("p");
    f.keys("2");
    f.act(key(KeyCode::Enter));
    f.act(key(KeyCode::Enter));
    let screen = f.screen(90, 24);
    assert!(
        screen.contains("key-2") && screen.contains("\"title\": \"Book 2\""),
        "{screen}"
    );
    snapshot!("event_detail", screen);
}

#[test]
fn events_filtered_by_type_and_text() {
    let mut f = fixture(30);
    f.keys("2/type:BookLent");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(100, 10);
    assert!(screen.contains("filter: type:BookLent"));
    assert!(!screen.contains("BookAdded"), "{screen}");
    snapshot!("events_filtered", screen);
    f.keys("/");
    for _ in 0.."type:BookLent".len() {
        f.act(key(KeyCode::Backspace));
    }
    f.keys("no-such-text");
    f.act(key(KeyCode::Enter));
    assert!(f.screen(100, 10).contains("No event passes the filter"));
    f.act(key(KeyCode::Esc));
    assert!(
        f.screen(100, 10).contains("BookAdded"),
        "Esc clears the filter"
    );
}

#[test]
fn events_when_the_log_is_empty() {
    let mut f = fixture(0);
    f.keys("2");
    snapshot!("events_empty", f.screen(80, 10));
}

#[test]
fn logs_filtered_by_level() {
    let mut f = fixture(0);
    f.keys("3");
    let screen = f.screen(90, 12);
    assert!(screen.contains("projected 1 event"));
    snapshot!("logs_all", screen);
    // A filter typed and cancelled leaves the lines as they were.
    f.keys("/added");
    assert!(!f.screen(90, 12).contains("projected 1 event"));
    f.act(key(KeyCode::Esc));
    assert!(f.screen(90, 12).contains("projected 1 event"));
    f.keys("ll");
    let screen = f.screen(90, 12);
    assert!(
        !screen.contains("added b1") && screen.contains("no badge"),
        "{screen}"
    );
    snapshot!("logs_warn_and_up", screen);
}

#[test]
fn help_lists_every_key_including_remapped_ones() {
    let mut f = fixture(0);
    f.app.keys =
        KeyMap::from_toml("[keys]\nquit = [\"x\"]\n", std::path::Path::new("tui.toml")).unwrap();
    f.keys("?");
    let screen = f.screen(110, 66);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("  x   ") && l.contains("quit wbx dev")),
        "{screen}"
    );
    snapshot!("help", screen);
    f.act(key(KeyCode::Esc));
    assert!(!f.screen(110, 66).contains("Commands (after :)"));
}

/// The text inside the help box, its lines joined and its spaces collapsed.
fn help_text(screen: &str, width: usize) -> String {
    let left = (width - 100.min(width)) / 2;
    let inner = 100.min(width) - 2;
    let mut words = Vec::new();
    for line in screen.lines() {
        let line: Vec<char> = line.trim_matches('"').chars().collect();
        if line.get(left) == Some(&'│') && line.get(left + inner + 1) == Some(&'│') {
            let inside: String = line[left + 1..=left + inner].iter().collect();
            words.extend(inside.split_whitespace().map(str::to_owned));
        }
    }
    words.join(" ")
}

#[test]
fn help_fits_at_140_and_80_columns_wrapping_long_lines() {
    for width in [140, 80] {
        let mut f = fixture(0);
        f.keys("?");
        let screen = f.screen(width, 74);
        let text = help_text(&screen, usize::from(width));
        let keys = KeyMap::default();
        let described = keys
            .specs()
            .iter()
            .map(|spec| spec.describe.as_str())
            .chain(wbx_tui::command::USAGE.iter().map(|(_, what)| *what))
            .chain(
                wbx_tui::panes::events::SPEC
                    .commands
                    .iter()
                    .map(|(_, what)| *what),
            )
            .chain([
                "Keys are remapped in [keys] of tui.toml in the wbx config directory.",
                "type:NAME tag:KEY:VALUE and any text in the event",
            ]);
        for what in described {
            let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                text.contains(&what),
                "{width} columns: {what:?} is cut:\n{screen}"
            );
        }
        snapshot!(format!("help_{width}"), screen);
    }
}

#[test]
fn a_read_model_rebuild_asks_first() {
    let mut f = fixture(3);
    f.act(key(KeyCode::Down));
    assert!(
        f.keys_give("R").is_empty(),
        "nothing happens before the answer"
    );
    let screen = f.screen(100, 20);
    assert!(
        screen.contains("Rebuild the read model of 'catalog'"),
        "{screen}"
    );
    snapshot!("confirm_read_model_rebuild", screen);
    assert_eq!(
        f.keys_give("y"),
        [EventsRequest::RebuildReadModel("catalog".to_owned()).into()]
    );
    f.keys("R");
    assert!(f.keys_give("n").is_empty());
    assert!(f.screen(100, 20).contains("cancelled"));
}

#[test]
fn command_mode_executes_with_json_input_and_says_what_was_wrong() {
    let mut f = fixture(0);
    f.keys(":exec add-book {\"book_id\":\"b9\"}");
    snapshot!("command_prompt", f.screen(80, 10));
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [EventsRequest::Execute {
            command: "add-book".to_owned(),
            input: "{\"book_id\":\"b9\"}".to_owned()
        }
        .into()]
    );
    f.keys(":exec add-book {oops");
    assert!(f.act(key(KeyCode::Enter)).is_empty());
    assert!(
        f.screen(80, 10)
            .contains("the input of 'add-book' is not JSON")
    );
    f.keys(":rebuild lend-book");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::RebuildModule("lend-book".to_owned())]
    );
}

#[test]
fn a_narrow_terminal_while_building() {
    let mut f = fixture(40);
    f.observe(reloaded());
    f.observe(Observation::BuildStarted {
        modules: vec!["catalog".to_owned()],
        files: vec!["shared/src/lib.rs".to_owned()],
    });
    f.keys("2");
    let screen = f.screen(80, 24);
    assert!(screen.contains("building catalog"));
    snapshot!("narrow_building", screen);
}

#[test]
fn a_terminal_too_small_says_so() {
    let mut f = fixture(0);
    snapshot!("too_small", f.screen(30, 8));
}

impl Fixture {
    fn keys_give(&mut self, text: &str) -> Vec<Request> {
        text.chars()
            .flat_map(|c| self.act(key(KeyCode::Char(c))))
            .collect()
    }
}

/// The loop itself, headless: keys in, requests out, quit ends it.
#[tokio::test]
async fn the_loop_turns_keys_into_requests_and_quits_on_q() {
    let f = fixture(3);
    let keys: Vec<std::io::Result<Event>> = ":exec add-book {}\rq"
        .chars()
        .map(|c| {
            let code = match c {
                '\r' => KeyCode::Enter,
                c => KeyCode::Char(c),
            };
            Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        })
        .collect();
    let (_done, done) = tokio::sync::mpsc::unbounded_channel();
    let mut terminal = Terminal::new(TestBackend::new(80, 20)).unwrap();
    let mut requests = Vec::new();
    let app = wbx_tui::runner::drive(
        &mut terminal,
        f.app,
        wbx_tui::runner::Inputs {
            terminal: futures_util::stream::iter(keys),
            observations: None,
            done,
        },
        |request| requests.push(request),
    )
    .await
    .unwrap();
    assert!(app.quit);
    assert_eq!(
        requests,
        [Request::from(EventsRequest::Execute {
            command: "add-book".to_owned(),
            input: "{}".to_owned()
        })]
    );
    assert!(terminal.backend().to_string().contains("Modules"));
}

#[test]
fn the_replay_pane_steps_and_shows_what_an_event_changed() {
    use wbx_engine::events::{Query, ReadOptions};
    use wbx_engine::replay::read_model::TableDiff;
    use wbx_engine::replay::{Step, Target};

    let mut f = fixture(5);
    f.keys("4");
    let screen = f.screen(100, 12);
    assert!(screen.contains("No replay yet"), "{screen}");
    snapshot!("replay_empty", screen);

    // From the Events pane: s steps the projector to the selected event.
    f.keys("2");
    f.act(key(KeyCode::Up));
    let asked = f.keys_give("s");
    let replay_to = |target| -> Request {
        EventsRequest::Replay {
            projector: "catalog".to_owned(),
            target,
        }
        .into()
    };
    assert_eq!(asked, [replay_to(Target::Position(4))]);
    assert!(f.screen(100, 12).contains("replaying…"));
    let event = f
        .store
        .read(
            &Query::all(),
            ReadOptions {
                from: Some(4),
                backwards: false,
                limit: Some(1),
            },
        )
        .unwrap()
        .remove(0);
    let row = |title: &str, copies: &str| {
        vec!["'b4'".to_owned(), format!("'{title}'"), copies.to_owned()]
    };
    f.act(replayed(Ok(Step {
        projector: "catalog".to_owned(),
        event: Some(event),
        changes: vec![TableDiff {
            table: "books".to_owned(),
            columns: vec!["book_id".into(), "title".into(), "copies".into()],
            added: Vec::new(),
            removed: Vec::new(),
            changed: vec![(row("Book 4", "0"), row("Book 4", "1"))],
        }],
        handled: 4,
        previous: Some(3),
        next: Some(5),
    })));
    let screen = f.screen(100, 14);
    assert!(
        screen.contains("position 4 BookAdded") && screen.contains("+ ('b4', 'Book 4', 1)"),
        "{screen}"
    );
    snapshot!("replay_step", screen);

    // One step at a time, back and forth.
    assert_eq!(f.keys_give("."), [replay_to(Target::Next)]);
    assert!(f.keys_give(",").is_empty(), "a step is under way");
    f.act(replayed(Err(
        "catalog failed on the event at position 5 (BookAdded): wasm trap: unreachable".to_owned(),
    )));
    let screen = f.screen(100, 14);
    assert!(screen.contains("The replay failed") && screen.contains("position 5 (BookAdded)"));
    assert_eq!(f.keys_give(","), [replay_to(Target::Previous)]);
}

#[test]
fn a_rebuild_into_the_running_component_says_so() {
    let mut f = fixture(0);
    assert_eq!(
        f.keys_give("r"),
        [Request::RebuildModule("add-book".to_owned())]
    );
    assert!(f.screen(90, 12).contains("rebuilding add-book…"));
    f.observe(Observation::Unchanged {
        module: "add-book".to_owned(),
    });
    assert!(
        f.screen(90, 12)
            .contains("add-book: rebuilt into the component already running")
    );
}

/// A model added through the registration calls, with one pane whose `m`
/// differs from the Logs pane's: it shows in the selector, opens by its
/// number and its name, takes its keys and `:` commands, turns them into
/// its requests, and draws what its results and observations say.
#[test]
fn a_toy_model_plugs_its_pane_into_the_app() {
    use wbx_engine::observe::ModelObservation;
    use wbx_toy::ToyObservation;
    use wbx_tui::model::{ModelRequest, ModelResult};

    let mut f = fixture(2);
    let keys = KeyMap::new(&[&wbx_tui::panes::events::SPEC, &toy_model::SPEC]);
    let models: Vec<Box<dyn wbx_tui::model::ModelUi>> = vec![
        Box::new(EventsUi::new(f.store.clone(), Vec::new())),
        Box::new(toy_model::ToyUi::default()),
    ];
    f.app = App::new(
        Status::new("library", "http://127.0.0.1:4321"),
        ModulesPane::default(),
        LogsPane::new([]),
        models,
        keys,
    );
    let tabs = f.screen(100, 12);
    assert!(tabs.contains("5 Toy 0"), "{tabs}");

    let ping = |text: &str| Request::Model(ModelRequest::new("toy", toy_model::Ping(text.into())));
    f.keys("3");
    assert!(
        f.keys_give("m").is_empty(),
        "the Logs pane's m cycles its module"
    );
    f.keys("5");
    assert_eq!(f.keys_give("m"), [ping("from a key")]);
    f.keys(":logs");
    f.act(key(KeyCode::Enter));
    f.keys(":toy");
    f.act(key(KeyCode::Enter));
    f.keys(":ping hello");
    assert_eq!(f.act(key(KeyCode::Enter)), [ping("hello")]);

    f.act(Action::Model(ModelResult::new(
        "toy",
        toy_model::Answer("pong: hello".into()),
    )));
    f.observe(Observation::Model(ModelObservation::new(
        ToyObservation::Pinged {
            module: "toy".into(),
            answer: "pong: again".into(),
        },
    )));
    let screen = f.screen(100, 12);
    assert!(
        screen.contains("pong: hello") && screen.contains("toy said pong: again"),
        "{screen}"
    );
    assert!(screen.contains("5 Toy 2"), "{screen}");
    assert!(screen.contains("m ping"), "the pane's hints: {screen}");

    f.keys("?");
    let help = f.screen(120, 60);
    assert!(help.contains("toy: ping the toy module"), "{help}");
    assert!(help.contains("ping TEXT"), "{help}");
}
