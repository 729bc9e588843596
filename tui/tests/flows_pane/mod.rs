//! The Flows pane, reached through `update` as the running app reaches it:
//! the flows as the pipeline runtime's reads (`Polled`) bring them, the
//! stage opened as its answers (`Inspected`) do, statuses, held edges,
//! restarts and dead letters as its observations, and the news' times from
//! a fixed clock.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use wbx_engine::Observation;
use wbx_engine::observe::ModelObservation;
use wbx_engine::pipelines::FlowObservation;
use wbx_engine::pipelines::info::{
    Bucket, DeadLetter, EdgeInfo, ElementView, FlowInfo, FlowStatus, Pressure, StageDetail,
    StageError, StageInfo, StageStatus,
};
use wbx_engine::pipelines::settings::Policy;
use wbx_tui::action::{Action, Request};
use wbx_tui::app::{App, Overlay};
use wbx_tui::model::{ModelResult, ModelUi};
use wbx_tui::panes::actors::{ActorsPane, ActorsUi};
use wbx_tui::panes::events::EventsUi;
use wbx_tui::panes::flows::{
    Control, EdgeLine, FLOWS, FlowsPane, FlowsRequest, FlowsUi, Inspected, Polled, chain,
    edge_lines,
};
use wbx_tui::panes::mesh::{MeshPane, MeshUi};
use wbx_tui::panes::{LogsPane, ModulesPane};
use wbx_tui::status::Status as StatusBar;

use super::{Fixture, fixture, key};

/// 2026-11-21T10:00:00Z, when the news below is told.
const NOW_MS: u64 = 1_795_255_200_000;

fn now() -> u64 {
    NOW_MS
}

/// Elements out per second for 60 s: a wave around `level`.
fn history(level: u64) -> Vec<u64> {
    (0..60u64)
        .map(|s| level + (s * 7 % 11) * level / 10)
        .collect()
}

fn stage(name: &str, module: &str, kind: &str, status: StageStatus) -> StageInfo {
    let host = module == "push" || module == "events";
    StageInfo {
        name: name.to_owned(),
        module: module.to_owned(),
        kind: kind.to_owned(),
        version: (!host).then(|| "0.1.0+3c96aa11bb22".to_owned()),
        status,
        taken: 0,
        out: 0,
        errors: 0,
        dead_letters: 0,
        restarts: 0,
        per_second: 0.0,
        p50_us: 0,
        p99_us: 0,
        history: Vec::new(),
    }
}

/// A stage that has run a while: `n` elements in, `out` out, at `rate`.
fn busy(mut stage: StageInfo, n: u64, out: u64, rate: u64) -> StageInfo {
    stage.taken = n;
    stage.out = out;
    stage.per_second = rate as f64;
    stage.p50_us = 40;
    stage.p99_us = 310;
    stage.history = history(rate);
    stage
}

fn edge(from: &str, port: Option<&str>, to: &str, depth: usize) -> EdgeInfo {
    EdgeInfo {
        from: from.to_owned(),
        port: port.map(str::to_owned),
        to: to.to_owned(),
        depth,
        capacity: 64,
        low: 32,
        policy: Policy::Block,
        dropped: 0,
        high_water: depth + 5,
        passed: 1_200,
        held: false,
        blocked_ms: 0,
        backpressure: Pressure::Ok,
        triggered: 0,
        relieved: 0,
    }
}

/// `clicks ─▶ enrich ─▶ top`, running.
fn linear() -> FlowInfo {
    FlowInfo {
        name: "clicks".to_owned(),
        status: FlowStatus::Running,
        reason: None,
        stages: vec![
            busy(
                stage("clicks", "push", "source", StageStatus::Running),
                1_240,
                1_240,
                40,
            ),
            busy(
                stage("enrich", "enrich", "processor", StageStatus::Running),
                1_236,
                1_230,
                40,
            ),
            busy(
                stage("top", "top", "sink", StageStatus::Running),
                1_190,
                1_190,
                38,
            ),
        ],
        edges: vec![
            edge("clicks", None, "enrich", 4),
            edge("enrich", None, "top", 40),
        ],
    }
}

/// A router with two ports, a fan-out from the source and a fan-in into
/// the sink; the sink throttles, so the queue into it is full and its
/// producer held, and the audit's drop-newest queue drops.
fn routed() -> FlowInfo {
    let mut into_top = edge("route", Some("pages"), "top", 64);
    into_top.held = true;
    into_top.backpressure = Pressure::High;
    into_top.high_water = 64;
    into_top.blocked_ms = 8_300;
    into_top.triggered = 4;
    into_top.relieved = 3;
    let mut audit_in = edge("audit", None, "top", 16);
    audit_in.capacity = 16;
    audit_in.low = 8;
    audit_in.high_water = 16;
    audit_in.policy = Policy::DropNewest;
    audit_in.dropped = 17;
    audit_in.backpressure = Pressure::Low;
    let mut audit = busy(
        stage("audit", "audit", "processor", StageStatus::Restarting),
        800,
        790,
        12,
    );
    audit.errors = 3;
    audit.restarts = 1;
    let mut route = busy(
        stage("route", "router", "processor", StageStatus::Running),
        2_000,
        1_980,
        30,
    );
    route.dead_letters = 2;
    route.errors = 6;
    FlowInfo {
        name: "pages".to_owned(),
        status: FlowStatus::Running,
        reason: None,
        stages: vec![
            busy(
                stage("clicks", "push", "source", StageStatus::Running),
                2_100,
                2_100,
                30,
            ),
            route,
            audit,
            busy(
                stage("top", "top", "sink", StageStatus::Throttled),
                1_500,
                1_500,
                9,
            ),
            busy(
                stage("archive", "archive", "sink", StageStatus::Running),
                400,
                400,
                4,
            ),
        ],
        edges: vec![
            edge("clicks", None, "route", 12),
            edge("clicks", None, "audit", 0),
            into_top,
            edge("route", Some("other"), "archive", 2),
            audit_in,
        ],
    }
}

/// A flow whose stage could not start.
fn failed() -> FlowInfo {
    FlowInfo {
        name: "orders".to_owned(),
        status: FlowStatus::Failed,
        reason: Some(
            "stage 'charge' could not start: module 'charge' has no export 'process'".to_owned(),
        ),
        stages: vec![
            stage("orders", "events", "source", StageStatus::Finished),
            stage("charge", "charge", "processor", StageStatus::Failed),
            stage("ledger", "ledger", "sink", StageStatus::Finished),
        ],
        edges: vec![
            edge("orders", None, "charge", 0),
            edge("charge", None, "ledger", 0),
        ],
    }
}

fn observed(event: FlowObservation) -> Observation {
    Observation::Model(ModelObservation::new(event))
}

fn polled(flows: Vec<FlowInfo>) -> Action {
    Action::Model(ModelResult::new("pipelines", Polled { flows }))
}

/// The library fixture with the mesh, actors and pipelines models beside
/// the events model, the Flows pane over `flows`; the Flows pane is the
/// seventh.
fn flows_fixture(flows: Vec<FlowInfo>) -> Fixture {
    let mut f = fixture(0);
    let models: Vec<Box<dyn ModelUi>> = vec![
        Box::new(EventsUi::new(f.store.clone(), Vec::new())),
        Box::new(MeshUi::new(MeshPane::default())),
        Box::new(ActorsUi::new(ActorsPane::default())),
        Box::new(FlowsUi::with_clock(FlowsPane::new(flows), now)),
    ];
    f.app = App::new(
        StatusBar::new("clicks", "http://127.0.0.1:4321"),
        ModulesPane::default(),
        LogsPane::new([]),
        models,
        wbx_tui::KeyMap::default(),
    );
    f
}

impl Fixture {
    fn flows(&self) -> &FlowsUi {
        self.app
            .models
            .iter()
            .find_map(|m| m.as_any().downcast_ref::<FlowsUi>())
            .expect("the pipelines model is in the app")
    }
}

#[test]
fn a_linear_flow_runs_as_a_chain_with_its_queues_rates_and_sparklines() {
    let mut f = flows_fixture(vec![linear()]);
    f.keys("7");
    assert_eq!(f.app.pane, FLOWS);
    let screen = f.screen(140, 24);
    assert!(screen.contains("7 Flows 1"), "{screen}");
    assert!(
        screen.contains("clicks ─▶ enrich ─▶ top"),
        "a linear flow is drawn as its chain: {screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("enrich ─▶ top") && l.contains("▕█████░░░▏ 40/64")),
        "the queue into the sink, 40 of 64: {screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("enrich") && l.contains("1,236") && l.contains("40.0")),
        "{screen}"
    );
    assert!(screen.contains("out/s, last "), "the sparklines: {screen}");
    assert!(
        screen.contains("No failures, restarts, dead letters or swaps yet"),
        "{screen}"
    );
    snapshot!("flows_linear", screen);

    // At 80 columns the queues and the stages keep what matters most
    // (edge, queue, pressure; stage, in, out, rate) and leave the rest
    // out whole.
    let screen = f.screen(80, 24);
    let header = screen.lines().find(|l| l.contains("Edge")).unwrap();
    assert!(
        header.contains("Queue") && header.contains("Pressure"),
        "{screen}"
    );
    let header = screen.lines().find(|l| l.contains("Stage ")).unwrap();
    for column in ["In", "Out", "/s"] {
        assert!(header.contains(column), "{column}: {screen}");
    }
}

#[test]
fn a_router_fans_out_and_in_and_a_held_edge_shows_high_pressure_and_drops() {
    let mut f = flows_fixture(vec![linear(), routed()]);
    f.keys("7j");
    let screen = f.screen(150, 30);
    let line = |what: &str| -> String {
        screen
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with {what}: {screen}"))
            .to_owned()
    };
    assert!(
        !screen.contains("clicks ─▶ route ─▶"),
        "not a chain: {screen}"
    );
    let held = line("route:pages ─▶ top");
    assert!(
        held.contains("▕████████▏ 64/64") && held.contains("HIGH") && held.contains("■ held"),
        "{held}"
    );
    assert!(line(":other ─▶ archive").contains("▕█░░░░░░░▏  2/64"));
    let dropping = line("audit ─▶ top");
    assert!(
        dropping.contains("LOW") && dropping.contains("17") && dropping.contains("drop-newest"),
        "{dropping}"
    );
    assert!(
        line("       ─▶ audit").contains("0/64"),
        "the source's second edge, its name left blank: {screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("│top ") && l.contains("throttled")),
        "{screen}"
    );
    assert!(screen.contains("restarting"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("pages") && l.contains("■ 1") && l.contains("running")),
        "the list counts the held edge: {screen}"
    );
    snapshot!("flows_router", screen);

    // Backpressure ends: the mark goes at once, before the next read.
    f.observe(observed(FlowObservation::Backpressure {
        flow: "pages".to_owned(),
        from: "route".to_owned(),
        port: Some("pages".to_owned()),
        to: "top".to_owned(),
        held: false,
    }));
    let screen = f.screen(150, 30);
    assert!(!screen.contains("■ held"), "{screen}");
}

fn json_element(sequence: u64, payload: serde_json::Value) -> ElementView {
    ElementView {
        sequence,
        timestamp_ms: NOW_MS - 1_000 + sequence,
        content_type: "application/json".to_owned(),
        key: Some("user-7".to_owned()),
        port: None,
        payload: Some(payload),
        payload_base64: None,
    }
}

fn detail() -> StageDetail {
    let info = routed().stages.remove(1);
    let mut out = json_element(
        1_041,
        serde_json::json!({"page": "/books/dune", "user": "user-7", "ms": 41}),
    );
    out.port = Some("pages".to_owned());
    let text = ElementView {
        content_type: "text/plain".to_owned(),
        key: None,
        payload: Some(serde_json::Value::String("not json at all".to_owned())),
        ..json_element(1_040, serde_json::Value::Null)
    };
    let bad = ElementView {
        timestamp_ms: NOW_MS - 31_000,
        ..json_element(977, serde_json::json!({"page": null}))
    };
    StageDetail {
        flow: "pages".to_owned(),
        stage: info,
        latency: vec![
            Bucket { le_us: 0, count: 0 },
            Bucket {
                le_us: 15,
                count: 120,
            },
            Bucket {
                le_us: 31,
                count: 900,
            },
            Bucket {
                le_us: 63,
                count: 400,
            },
            Bucket {
                le_us: 511,
                count: 6,
            },
        ],
        last_in: vec![
            text,
            json_element(
                1_041,
                serde_json::json!({"page": "/books/dune", "user": "user-7"}),
            ),
        ],
        last_out: vec![out],
        errors: vec![StageError {
            at_ms: NOW_MS - 30_000,
            sequence: Some(977),
            error: "route: 'page' is null".to_owned(),
        }],
        dead_letters: vec![DeadLetter {
            flow: "pages".to_owned(),
            stage: "route".to_owned(),
            sequence: 977,
            error: "route: 'page' is null".to_owned(),
            attempts: 3,
            at_ms: NOW_MS - 29_000,
            element: bad,
        }],
    }
}

fn inspected(flow: &str, stage: &str, detail: Option<StageDetail>) -> Action {
    Action::Model(ModelResult::new(
        "pipelines",
        Inspected {
            flow: flow.to_owned(),
            stage: stage.to_owned(),
            detail,
        },
    ))
}

#[test]
fn a_stage_opens_with_its_histogram_elements_errors_and_dead_letters() {
    let start = Instant::now();
    let mut f = flows_fixture(vec![routed()]);
    f.keys("7");
    f.screen(100, 60);
    // Enter goes among the stages; Enter again opens the one selected.
    assert!(f.act(key(KeyCode::Enter)).is_empty());
    assert!(f.screen(100, 60).contains("open stage"), "the hints say so");
    f.act(key(KeyCode::Down));
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(FlowsRequest::Inspect {
            flow: "pages".to_owned(),
            stage: "route".to_owned(),
        })]
    );
    assert!(f.screen(100, 60).contains("Reading route…"));
    f.act(inspected("pages", "route", Some(detail())));
    let screen = f.screen(100, 60);
    assert!(
        screen.contains("Stage route · flow pages")
            && screen.contains("≤ 31 µs")
            && screen.contains("\"page\": \"/books/dune\"")
            && screen.contains("not json at all")
            && screen.contains("port pages")
            && screen.contains("after 3 attempts: route: 'page' is null")
            && screen.contains("\"page\": null"),
        "{screen}"
    );
    snapshot!("flows_stage", screen);

    // While open, it is read again each second, once an answer came.
    let tick = |f: &mut Fixture, ms: u64| f.act(Action::Tick(start + Duration::from_millis(ms)));
    let again: Request = FlowsRequest::Inspect {
        flow: "pages".to_owned(),
        stage: "route".to_owned(),
    }
    .into();
    assert!(tick(&mut f, 5_000).contains(&again));
    assert!(!tick(&mut f, 5_500).contains(&again));
    // Gone from the runtime (the flow was declared anew): said at the
    // top, the rest as last seen.
    f.act(inspected("pages", "route", None));
    assert!(
        f.screen(100, 60)
            .contains("the runtime has no stage 'route' in flow 'pages' any more")
    );
    // Esc closes it, then leaves the stages.
    f.act(key(KeyCode::Esc));
    assert!(f.screen(100, 60).contains("open stage"));
    f.act(key(KeyCode::Esc));
    assert!(f.screen(100, 60).contains("stages"));
    assert!(!tick(&mut f, 9_000).contains(&again));
}

#[test]
fn a_failed_flow_says_why_with_the_news_under_it() {
    let mut f = flows_fixture(vec![linear(), failed()]);
    f.observe(observed(FlowObservation::StageRestarted {
        flow: "clicks".to_owned(),
        stage: "enrich".to_owned(),
        sequence: Some(51),
        error: "wasm trap: unreachable".to_owned(),
    }));
    f.observe(observed(FlowObservation::DeadLettered {
        flow: "clicks".to_owned(),
        stage: "enrich".to_owned(),
        sequence: 51,
        error: "wasm trap: unreachable".to_owned(),
    }));
    f.observe(observed(FlowObservation::Status {
        flow: "orders".to_owned(),
        status: FlowStatus::Failed,
        reason: failed().reason,
    }));
    f.keys("7");
    f.act(key(KeyCode::End));
    let screen = f.screen(120, 24);
    assert!(
        screen.contains("orders ─▶ charge ─▶ ledger")
            && screen.contains("failed: stage 'charge' could not start"),
        "{screen}"
    );
    assert!(
        screen.contains("flow orders failed: stage 'charge' could not start")
            && screen.contains("clicks/enrich set #51 aside as a dead letter"),
        "the latest news first: {screen}"
    );
    snapshot!("flows_failed", screen);
    // p on a failed flow says how to start it; s starts it.
    f.keys("p");
    assert!(
        f.screen(120, 24)
            .contains("flow orders is not running (failed): s starts it")
    );
    assert_eq!(
        f.keys_give("s"),
        [Request::from(Control::Start("orders".to_owned()))]
    );
}

#[test]
fn keys_pause_start_stop_and_redrive_the_selected_flow_and_push_pushes() {
    let mut f = flows_fixture(vec![linear(), routed()]);
    f.keys("7");
    // p pauses; on a paused flow, resumes. Elsewhere p is still goto.
    assert_eq!(
        f.keys_give("p"),
        [Request::from(Control::Pause("clicks".to_owned()))]
    );
    let mut paused = linear();
    paused.status = FlowStatus::Paused;
    f.act(polled(vec![paused, routed()]));
    assert!(f.screen(100, 24).contains("paused"));
    assert_eq!(
        f.keys_give("p"),
        [Request::from(Control::Resume("clicks".to_owned()))]
    );
    // s on a flow that runs (or is paused) says so.
    assert!(f.keys_give("s").is_empty());
    assert!(
        f.screen(100, 24)
            .contains("flow clicks is paused: p resumes it")
    );
    // S asks first; y stops.
    f.keys("j");
    assert!(f.keys_give("S").is_empty());
    let screen = f.screen(100, 24);
    assert!(screen.contains("Stop flow pages?"), "{screen}");
    assert!(matches!(f.app.overlay, Some(Overlay::Confirm { .. })));
    assert_eq!(
        f.keys_give("y"),
        [Request::from(Control::Stop("pages".to_owned()))]
    );
    assert_eq!(
        f.keys_give("R"),
        [Request::from(Control::Redrive("pages".to_owned()))]
    );
    // The session's answer, as a notice.
    f.act(Action::Done(wbx_tui::action::Done {
        ok: true,
        message: "2 dead letters of pages sent again".to_owned(),
    }));
    assert!(
        f.screen(100, 24)
            .contains("2 dead letters of pages sent again")
    );

    // :push into the selected flow, into a named one, into a named node;
    // what is not JSON is said.
    f.keys(":push {\"page\": \"/\"}");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(Control::Push {
            flow: "pages".to_owned(),
            node: None,
            payload: "{\"page\":\"/\"}".to_owned(),
        })]
    );
    f.keys(":push clicks clicks [1, 2]");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(Control::Push {
            flow: "clicks".to_owned(),
            node: Some("clicks".to_owned()),
            payload: "[1,2]".to_owned(),
        })]
    );
    f.keys(":push clicks {oops");
    assert!(f.act(key(KeyCode::Enter)).is_empty());
    assert!(
        f.screen(100, 24).contains("the element is not JSON"),
        "{}",
        f.screen(100, 24)
    );
    // From another pane, :push still goes to the pipelines model; p is
    // the events' goto there.
    f.keys("1");
    f.keys(":push \"hello\"");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(Control::Push {
            flow: "pages".to_owned(),
            node: None,
            payload: "\"hello\"".to_owned(),
        })]
    );
    f.keys("p");
    assert!(f.screen(100, 24).contains("position: "));
}

#[test]
fn the_flows_filter_by_name_and_are_read_again_each_second() {
    let start = Instant::now();
    let mut f = flows_fixture(vec![linear(), failed(), routed()]);
    f.keys("7/ord");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(100, 24);
    assert!(screen.contains("filter: ord (1 shown)"), "{screen}");
    assert_eq!(
        f.flows().pane.selected().map(|f| f.name.as_str()),
        Some("orders")
    );
    f.keys("/");
    f.act(key(KeyCode::Backspace));
    f.act(key(KeyCode::Backspace));
    f.act(key(KeyCode::Backspace));
    f.keys("nothing");
    f.act(key(KeyCode::Enter));
    assert!(f.screen(100, 24).contains("No flow passes the filter"));
    f.act(key(KeyCode::Esc));
    assert!(f.screen(100, 24).contains("3 flows"), "Esc clears it");

    // Read each second while the pane shows; a new status arrives at once.
    assert!(f.app.animating(), "the Flows pane ticks");
    let poll: Request = FlowsRequest::Poll.into();
    let tick = |f: &mut Fixture, ms: u64| f.act(Action::Tick(start + Duration::from_millis(ms)));
    assert_eq!(tick(&mut f, 1_500), std::slice::from_ref(&poll));
    assert!(tick(&mut f, 1_600).is_empty(), "one read under way");
    f.act(polled(vec![linear()]));
    assert_eq!(tick(&mut f, 2_600), [poll]);
    assert!(f.screen(100, 24).contains("1 flow "));
    f.observe(observed(FlowObservation::Status {
        flow: "clicks".to_owned(),
        status: FlowStatus::Draining,
        reason: None,
    }));
    assert!(f.screen(100, 24).contains("draining"));
}

#[test]
fn the_flows_pane_says_how_to_declare_a_flow() {
    let mut f = flows_fixture(Vec::new());
    f.keys(":flows");
    f.act(key(KeyCode::Enter));
    assert_eq!(f.app.pane, FLOWS);
    let screen = f.screen(100, 14);
    assert!(
        screen.contains("No flows. Declare one in wbx.toml") && screen.contains("7 Flows 0"),
        "{screen}"
    );
    snapshot!("flows_empty", screen);
    f.keys("p");
    assert!(f.screen(100, 14).contains("select a flow first"));
    // Tab reaches it too, after the Actors pane.
    f.keys("6");
    f.act(key(KeyCode::Tab));
    assert_eq!(f.app.pane, FLOWS);
}

/// A flow of processors `stages` joined by `edges`.
fn graph(stages: &[&str], edges: Vec<EdgeInfo>) -> FlowInfo {
    FlowInfo {
        name: "f".to_owned(),
        status: FlowStatus::Running,
        reason: None,
        stages: stages
            .iter()
            .map(|s| stage(s, s, "processor", StageStatus::Running))
            .collect(),
        edges,
    }
}

#[test]
fn a_linear_flow_is_a_chain_whatever_the_order_of_its_edges() {
    let linear = graph(
        &["top", "clicks", "enrich"],
        vec![
            edge("enrich", None, "top", 0),
            edge("clicks", None, "enrich", 0),
        ],
    );
    assert_eq!(chain(&linear), Some(vec!["clicks", "enrich", "top"]));
    let fan_out = graph(
        &["a", "b", "c"],
        vec![edge("a", None, "b", 0), edge("a", None, "c", 0)],
    );
    assert_eq!(chain(&fan_out), None);
    let ported = graph(&["a", "b"], vec![edge("a", Some("p"), "b", 0)]);
    assert_eq!(chain(&ported), None);
}

#[test]
fn edges_are_grouped_by_producer_in_the_order_of_the_stages() {
    let labels =
        |flow: &FlowInfo| -> Vec<String> { edge_lines(flow).iter().map(EdgeLine::label).collect() };
    assert_eq!(
        labels(&routed()),
        [
            "clicks ─▶ route",
            "       ─▶ audit",
            "route:pages ─▶ top",
            "     :other ─▶ archive",
            "audit ─▶ top",
        ]
    );
    let declared_apart = graph(
        &["a", "r", "t", "x"],
        vec![
            edge("r", Some("p"), "t", 0),
            edge("a", None, "r", 0),
            edge("r", Some("q"), "x", 0),
            edge("a", None, "t", 0),
        ],
    );
    assert_eq!(
        labels(&declared_apart),
        ["a ─▶ r", "  ─▶ t", "r:p ─▶ t", " :q ─▶ x"]
    );
}
