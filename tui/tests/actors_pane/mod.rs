//! The Actors pane, reached through `update` as the running app reaches
//! it: the table as the actor runtime's snapshots (`Polled`) bring it, the
//! process opened as its answers (`Inspected`) do, the exits, restarts and
//! swaps as its observations, and the happenings' times from a fixed clock.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use wbx_engine::Observation;
use wbx_engine::actors::ActorObservation;
use wbx_engine::actors::info::{ProcessDetail, ProcessInfo, Waiting};
use wbx_engine::actors::message::Kind;
use wbx_engine::actors::table::{Status, TraceLine};
use wbx_engine::logs::{Level, LogLine, LogSource};
use wbx_engine::observe::ModelObservation;
use wbx_tui::action::{Action, Request};
use wbx_tui::app::{App, Overlay};
use wbx_tui::model::{ModelResult, ModelUi};
use wbx_tui::panes::actors::{ACTORS, ActorsPane, ActorsRequest, ActorsUi, Inspected, Polled};
use wbx_tui::panes::events::EventsUi;
use wbx_tui::panes::mesh::{MeshPane, MeshRequest, MeshUi};
use wbx_tui::panes::{LogsPane, ModulesPane};
use wbx_tui::status::Status as StatusBar;

use super::{Fixture, at, fixture, key};

/// 2026-11-21T10:00:00Z, when the happenings below are told.
const NOW_MS: u64 = 1_795_255_200_000;

fn now() -> u64 {
    NOW_MS
}

fn process(pid: u64, name: Option<&str>, module: &str) -> ProcessInfo {
    ProcessInfo {
        pid: format!("<0.{pid}>"),
        name: name.map(str::to_owned),
        module: module.to_owned(),
        version: Some("0.1.0+3c96aa11bb22".to_owned()),
        status: Status::Idle,
        mailbox: 0,
        handled: 0,
        restarts: 0,
        mailbox_high: 0,
        mailbox_capacity: 1000,
        refused: 0,
        memory: 1_179_648,
        last_exit: None,
        supervisor: None,
        child_id: None,
        child_position: None,
        strategy: None,
        trap_exit: false,
    }
}

fn supervisor(pid: u64, name: Option<&str>, strategy: &'static str) -> ProcessInfo {
    ProcessInfo {
        version: None,
        memory: 0,
        strategy: Some(strategy),
        trap_exit: true,
        mailbox_capacity: 1024,
        ..process(pid, name, "wbx:supervisor")
    }
}

fn child(mut process: ProcessInfo, supervisor: u64, id: &str) -> ProcessInfo {
    process.supervisor = Some(format!("<0.{supervisor}>"));
    process.child_id = Some(id.to_owned());
    process
}

/// A bank of counters: the root supervisor over the registered counter
/// and a pool of two workers, and an account spawned from outside; each
/// having handled `handled` (times its pid) messages.
fn processes(handled: u64) -> Vec<ProcessInfo> {
    let counter = ProcessInfo {
        status: Status::Running,
        mailbox: 3,
        mailbox_high: 17,
        handled: handled * 2,
        restarts: 1,
        last_exit: Some("wasm trap: integer divide by zero".to_owned()),
        ..process(2, Some("counter"), "counter")
    };
    let busy = ProcessInfo {
        mailbox: 800,
        mailbox_high: 950,
        memory: 4_456_448,
        handled: handled * 4,
        ..process(4, None, "worker")
    };
    vec![
        supervisor(1, Some("root"), "one-for-one"),
        child(counter, 1, "counter"),
        child(supervisor(3, None, "rest-for-one"), 1, "pool"),
        child(busy, 3, "worker-1"),
        child(
            ProcessInfo {
                handled: handled * 5,
                ..process(5, None, "worker")
            },
            3,
            "worker-2",
        ),
        ProcessInfo {
            handled: handled * 9,
            ..process(9, Some("account-7"), "account")
        },
    ]
}

fn observed(event: ActorObservation) -> Observation {
    Observation::Model(ModelObservation::new(event))
}

fn polled(at: Instant, processes: Vec<ProcessInfo>, dead_letters: u64) -> Action {
    Action::Model(ModelResult::new(
        "actors",
        Polled {
            at,
            processes,
            dead_letters,
        },
    ))
}

/// The library fixture with the mesh and actors models beside the events
/// model; the actors pane seeded at `start` and read again a second
/// later, so it has rates.
fn actors_fixture(start: Instant) -> Fixture {
    let mut f = fixture(0);
    let mut pane = ActorsPane::default();
    pane.snapshot(start, processes(10), 2);
    let models: Vec<Box<dyn ModelUi>> = vec![
        Box::new(EventsUi::new(f.store.clone(), Vec::new())),
        Box::new(MeshUi::new(MeshPane::default())),
        Box::new(ActorsUi::with_clock(pane, now)),
    ];
    f.app = App::new(
        StatusBar::new("bank", "http://127.0.0.1:4321"),
        ModulesPane::default(),
        LogsPane::new([]),
        models,
        wbx_tui::KeyMap::default(),
    );
    f.act(polled(start + Duration::from_secs(1), processes(16), 2));
    f
}

/// A restart, an exit, a swap: the lines under the table.
fn happen(f: &mut Fixture) {
    f.observe(observed(ActorObservation::Exited {
        pid: "<0.6>".to_owned(),
        module: "counter".to_owned(),
        name: None,
        reason: "wasm trap: integer divide by zero".to_owned(),
    }));
    f.observe(observed(ActorObservation::Restarted {
        supervisor: "<0.1>".to_owned(),
        child: "counter".to_owned(),
        old_pid: "<0.6>".to_owned(),
        new_pid: "<0.12>".to_owned(),
        reason: "wasm trap: integer divide by zero".to_owned(),
        with: None,
    }));
    f.observe(observed(ActorObservation::Swapped {
        pid: "<0.9>".to_owned(),
        module: "account".to_owned(),
        from: Some("0.1.0+3c96aa11bb22".to_owned()),
        to: "0.1.1+9f00aa11bb22".to_owned(),
        carried: true,
        note: None,
    }));
}

impl Fixture {
    fn actors(&self) -> &ActorsUi {
        self.app
            .models
            .iter()
            .find_map(|m| m.as_any().downcast_ref::<ActorsUi>())
            .expect("the actors model is in the app")
    }
}

#[test]
fn the_actors_pane_shows_the_process_table_with_rates_sorts_and_filters() {
    let mut f = actors_fixture(Instant::now());
    happen(&mut f);
    f.keys("6");
    let screen = f.screen(140, 16);
    assert!(screen.contains("6 Actors 6"), "{screen}");
    assert!(
        screen.contains("6 processes · sort: pid ↑") && screen.contains("dead letters 2"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("counter") && l.contains("3/17") && l.contains("12.0")),
        "the counter's mailbox, its high-water mark and 12 messages a second: {screen}"
    );
    assert!(
        screen.contains("root <0.1> restarted counter: <0.6> → <0.12>"),
        "the latest happenings under the table: {screen}"
    );
    snapshot!("actors_table", screen);

    // m sorts by mailbox, fullest first; again, the other way.
    f.keys("m");
    let screen = f.screen(140, 16);
    assert!(screen.contains("sort: mailbox ↓"), "{screen}");
    let first = screen.lines().find(|l| l.contains("<0.")).unwrap();
    assert!(
        first.contains("<0.4>") && first.contains("800/950"),
        "{screen}"
    );
    f.keys("m");
    assert!(f.screen(140, 16).contains("sort: mailbox ↑"));
    f.keys("r");
    let screen = f.screen(140, 16);
    let first = screen.lines().find(|l| l.contains("<0.")).unwrap();
    assert!(
        first.contains("account-7") && first.contains("54.0"),
        "{screen}"
    );
    f.keys("P");

    // / filters by name, module or pid; Esc clears it.
    f.keys("/worker");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(140, 16);
    assert!(screen.contains("filter: worker (2 shown)"), "{screen}");
    let rows = |screen: &str| -> Vec<String> {
        screen
            .lines()
            .filter_map(|l| l.trim_matches('"').strip_prefix("│<0."))
            .map(|l| format!("<0.{}", &l[..l.find('>').unwrap_or(0)]))
            .collect()
    };
    assert_eq!(rows(&screen), ["<0.4", "<0.5"], "{screen}");
    f.keys("/");
    for _ in 0.."worker".len() {
        f.act(key(KeyCode::Backspace));
    }
    f.keys("<0.9>");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(140, 16);
    assert!(
        screen.contains("account-7") && !screen.contains("<0.4>"),
        "{screen}"
    );
    f.act(key(KeyCode::Esc));
    assert!(f.screen(140, 16).contains("<0.4>"), "Esc clears the filter");
}

#[test]
fn the_supervision_trees_with_the_found_node_marked() {
    let mut f = actors_fixture(Instant::now());
    f.keys("6t");
    let screen = f.screen(120, 16);
    assert!(screen.contains("Supervision trees"), "{screen}");
    assert!(
        screen.contains("├─ counter")
            && screen.contains("└─ pool")
            && screen.contains("   └─ worker-2"),
        "{screen}"
    );
    f.keys("/<0.5>");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(120, 16);
    assert!(screen.contains("find: <0.5> (1 found)"), "{screen}");
    let selected = f.actors().pane.target().map(|p| p.pid.clone());
    assert_eq!(selected.as_deref(), Some("<0.5>"));
    snapshot!("actors_tree", screen);

    f.keys("/");
    f.act(Action::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    f.keys("nobody");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(120, 16);
    assert!(
        screen.contains("no process in the trees matches 'nobody'"),
        "{screen}"
    );
    // Esc clears the search, then goes back to the table; t toggles too.
    f.act(key(KeyCode::Esc));
    assert!(!f.screen(120, 16).contains("find:"));
    f.act(key(KeyCode::Esc));
    assert!(f.screen(120, 16).contains("Processes"));
    f.keys("t");
    assert!(f.screen(120, 16).contains("Supervision trees"));
    f.keys("t");
    assert!(f.screen(120, 16).contains("Processes"));
}

fn detail() -> ProcessDetail {
    let info = processes(16).remove(1);
    let trace =
        |ms: u64, direction: &'static str, kind: Kind, peer: Option<&str>, body: &str| TraceLine {
            at_ms: NOW_MS - 2_000 + ms,
            direction,
            kind,
            peer: peer.map(str::to_owned),
            body: body.to_owned(),
        };
    ProcessDetail {
        info,
        links: vec!["<0.1>".to_owned()],
        monitors: vec![(3, "<0.9>".to_owned())],
        monitored_by: vec![],
        waiting: vec![
            Waiting {
                kind: Kind::Cast,
                from: Some("<0.4>".to_owned()),
                body: serde_json::json!({"add": 5, "note": "from the pool"}),
            },
            Waiting {
                kind: Kind::Call,
                from: None,
                body: serde_json::json!({"get": null}),
            },
            Waiting {
                kind: Kind::Down {
                    monitor: 3,
                    reason: "normal".to_owned(),
                },
                from: Some("<0.9>".to_owned()),
                body: serde_json::json!(null),
            },
        ],
        trace: vec![
            trace(0, "in", Kind::Cast, Some("<0.4>"), "{\"add\":1}"),
            trace(250, "out", Kind::Cast, Some("account-7"), "{\"credit\":1}"),
            trace(500, "in", Kind::Call, None, "{\"get\":null}"),
        ],
        state: Some(serde_json::json!({"count": 42, "history": [40, 41, 42]})),
        logs: vec![LogLine {
            module: "counter".to_owned(),
            at: at(0),
            level: Level::Info,
            source: LogSource::Log,
            text: "count is now 42".to_owned(),
        }],
    }
}

fn inspected(pid: &str, result: Result<ProcessDetail, wbx_engine::actors::ActorError>) -> Action {
    Action::Model(ModelResult::new(
        "actors",
        Inspected {
            pid: pid.to_owned(),
            result,
        },
    ))
}

#[test]
fn a_process_opens_with_its_state_mailbox_links_trace_and_logs_and_stays_fresh() {
    let start = Instant::now();
    let mut f = actors_fixture(start);
    f.keys("6");
    f.screen(100, 50);
    f.act(key(KeyCode::Down));
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(ActorsRequest::Inspect("<0.2>".to_owned()))]
    );
    assert!(f.screen(100, 50).contains("Reading <0.2>…"));
    f.act(inspected("<0.2>", Ok(detail())));
    let screen = f.screen(100, 50);
    assert!(
        screen.contains("Process counter <0.2> · counter")
            && screen.contains("\"count\": 42")
            && screen.contains("\"note\": \"from the pool\"")
            && screen.contains("#3 → <0.9>")
            && screen.contains("→ out cast to account-7")
            && screen.contains("count is now 42"),
        "{screen}"
    );
    snapshot!("actors_process", screen);

    // While open, it is read again each second, once an answer came.
    let tick = |f: &mut Fixture, ms: u64| f.act(Action::Tick(start + Duration::from_millis(ms)));
    let asked = tick(&mut f, 5_000);
    assert!(
        asked.contains(&ActorsRequest::Inspect("<0.2>".to_owned()).into()),
        "{asked:?}"
    );
    assert!(!tick(&mut f, 5_500).contains(&ActorsRequest::Inspect("<0.2>".to_owned()).into()));
    // Its exit: said at the top, and it is not asked after any more.
    f.observe(observed(ActorObservation::Exited {
        pid: "<0.2>".to_owned(),
        module: "counter".to_owned(),
        name: Some("counter".to_owned()),
        reason: "killed".to_owned(),
    }));
    f.act(inspected(
        "<0.2>",
        Err(wbx_engine::actors::ActorError::NoSuchProcess(
            "<0.2>".to_owned(),
        )),
    ));
    let screen = f.screen(100, 50);
    assert!(
        screen.contains("exited: killed · what follows is as it was last seen"),
        "{screen}"
    );
    assert!(!tick(&mut f, 9_000).contains(&ActorsRequest::Inspect("<0.2>".to_owned()).into()));
    f.act(key(KeyCode::Esc));
    assert!(f.screen(100, 50).contains("Processes"));
}

#[test]
fn the_table_is_read_again_each_second_only_while_the_pane_shows() {
    let start = Instant::now();
    let mut f = actors_fixture(start);
    assert!(!f.app.animating(), "the Modules pane sleeps");
    f.keys("6");
    assert!(f.app.animating(), "the Actors pane ticks");
    let poll: Request = ActorsRequest::Poll.into();
    let tick = |f: &mut Fixture, ms: u64| f.act(Action::Tick(start + Duration::from_millis(ms)));
    assert_eq!(tick(&mut f, 1_500), std::slice::from_ref(&poll));
    assert!(tick(&mut f, 1_600).is_empty(), "one read under way");
    assert!(
        tick(&mut f, 3_000).is_empty(),
        "unanswered: not asked again yet"
    );
    f.act(polled(start + Duration::from_secs(3), processes(26), 5));
    assert_eq!(
        tick(&mut f, 3_100),
        std::slice::from_ref(&poll),
        "answered, and a second since the ask"
    );
    assert!(tick(&mut f, 3_200).is_empty());
    // An answer that never comes is asked for again after five seconds.
    assert!(tick(&mut f, 8_000).is_empty());
    assert_eq!(tick(&mut f, 8_100), [poll]);
    let screen = f.screen(120, 16);
    assert!(screen.contains("dead letters 5"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("counter") && l.contains("10.0")),
        "20 more messages over 2 s: {screen}"
    );
}

#[test]
fn send_call_and_kill_say_what_was_wrong() {
    let mut f = actors_fixture(Instant::now());
    f.keys(":send counter {\"add\": 1}");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(ActorsRequest::Send {
            target: "counter".to_owned(),
            message: "{\"add\": 1}".to_owned(),
        })]
    );
    f.keys(":send counter {oops");
    assert!(f.act(key(KeyCode::Enter)).is_empty());
    assert!(
        f.screen(100, 12)
            .contains("the message to 'counter' is not JSON")
    );
    f.keys(":send counter");
    assert!(f.act(key(KeyCode::Enter)).is_empty());
    assert!(f.screen(100, 12).contains("'send' needs a process"));

    // :call is the mesh's elsewhere, the Actors pane's there.
    f.keys(":call GET http://shop.web/");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(MeshRequest::Call {
            method: "GET".to_owned(),
            uri: "http://shop.web/".to_owned(),
            body: String::new(),
        })]
    );
    f.keys(":actors");
    f.act(key(KeyCode::Enter));
    assert_eq!(f.app.pane, ACTORS);
    f.keys(":call <0.2> {\"get\": null}");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(ActorsRequest::Call {
            target: "<0.2>".to_owned(),
            message: "{\"get\": null}".to_owned(),
        })]
    );
    // The session's answer, as a notice.
    f.act(Action::Done(wbx_tui::action::Done {
        ok: false,
        message: "send to counter: the mailbox of 'counter' is full (1000 messages); the \
                  message was not queued"
            .to_owned(),
    }));
    assert!(
        f.screen(120, 12)
            .contains("the mailbox of 'counter' is full")
    );

    // c types a call to the selected process.
    f.act(key(KeyCode::Down));
    f.keys("c");
    assert!(f.screen(100, 12).contains(":call counter █"));
    f.act(key(KeyCode::Esc));

    // K asks first; y kills the selected process by its pid.
    assert!(f.keys_give("K").is_empty());
    let screen = f.screen(100, 20);
    assert!(screen.contains("Kill counter <0.2> (counter)?"), "{screen}");
    assert!(matches!(f.app.overlay, Some(Overlay::Confirm { .. })));
    snapshot!("actors_confirm_kill", screen);
    assert_eq!(
        f.keys_give("y"),
        [Request::from(ActorsRequest::Kill("<0.2>".to_owned()))]
    );
    f.keys("K");
    assert!(f.keys_give("n").is_empty());
    assert!(f.screen(100, 20).contains("cancelled"));
}

#[test]
fn the_actors_pane_says_how_to_start_processes() {
    let mut f = actors_fixture(Instant::now());
    f.act(polled(
        Instant::now() + Duration::from_secs(5),
        Vec::new(),
        0,
    ));
    f.keys("6");
    let screen = f.screen(100, 12);
    assert!(screen.contains("No processes"), "{screen}");
    assert!(screen.contains("6 Actors 0"), "{screen}");
    assert!(
        screen.contains("No exits, restarts or swaps yet"),
        "{screen}"
    );
    f.keys("K");
    assert!(f.screen(100, 12).contains("select a process to kill it"));
}

/// At 80 columns the columns that matter least give way (the version,
/// the handled count, the last exit: the opened process has them) rather
/// than every column being cut.
#[test]
fn a_narrow_table_leaves_columns_out_whole() {
    let mut f = actors_fixture(Instant::now());
    f.keys("6");
    let screen = f.screen(80, 24);
    let header = screen.lines().find(|l| l.contains("Pid▲")).unwrap();
    for column in [
        "Name", "Module", "Status", "Mailbox", "/s", "Memory", "Restarts",
    ] {
        assert!(header.contains(column), "{column}: {screen}");
    }
    assert!(
        !header.contains("Version") && !header.contains("Last exit"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("800/950") && l.contains("24.0") && l.contains("4.2 MiB")),
        "{screen}"
    );
    f.keys("t");
    let screen = f.screen(80, 24);
    assert!(
        screen.contains("└─ pool        <0.3> supervisor, rest-for-one"),
        "{screen}"
    );
}

#[test]
fn the_key_of_a_pane_whose_model_does_not_run_says_so() {
    let mut f = fixture(0);
    f.keys("6");
    assert_eq!(f.app.pane, wbx_tui::app::PaneId::MODULES);
    assert!(
        f.screen(100, 12)
            .contains("the actors pane is not open: its model does not run here")
    );
}
