//! The Mesh pane, reached through `update` as the running app reaches it:
//! calls fed in as the mesh runtime's observations, over a pane seeded as
//! `panes::mesh::open` seeds it (the runtime's routes and kept calls), its
//! figures computed at a fixed "now".

use crossterm::event::KeyCode;
use wbx_engine::Observation;
use wbx_engine::mesh::breaker::BreakerState;
use wbx_engine::mesh::routes::RouteRow;
use wbx_engine::mesh::{CallRecord, MeshObservation};
use wbx_engine::observe::ModelObservation;
use wbx_tui::action::Request;
use wbx_tui::app::App;
use wbx_tui::model::ModelUi;
use wbx_tui::panes::events::EventsUi;
use wbx_tui::panes::mesh::{MeshPane, MeshRequest, MeshUi};
use wbx_tui::panes::{LogsPane, ModulesPane};
use wbx_tui::status::Status;

use super::{Fixture, fixture, key};

/// 2026-11-21T10:00:00Z, as the figures' "now": the calls below happen in
/// the ten seconds before it.
const NOW_MS: u64 = 1_795_255_200_000;

fn now() -> u64 {
    NOW_MS
}

fn route(service: &str, address: &str) -> RouteRow {
    RouteRow {
        service: service.to_owned(),
        address: address.to_owned(),
        version: Some("0.1.0+3c96aa11bb22".to_owned()),
        requests: 0,
        errors: 0,
        p50_ms: None,
        p99_ms: None,
        breaker: "closed",
        per_second: vec![0; 60],
        callers: Vec::new(),
    }
}

fn call(id: u64, caller: &str, callee: &str, method: &str, path: &str, status: u16) -> CallRecord {
    CallRecord {
        id,
        at_ms: NOW_MS - 9_000 + id * 700,
        caller: caller.to_owned(),
        callee: callee.to_owned(),
        authority: format!("shop.{callee}"),
        version: Some("0.1.0+3c96aa11bb22".to_owned()),
        method: method.to_owned(),
        path: path.to_owned(),
        status,
        latency_us: 800 + id * 1_150,
        bytes_in: if method == "POST" { 27 } else { 0 },
        bytes_out: 120 + id * 3,
        trace_id: format!("4bf92f3577b34da6a3ce929d0e0e47{id:02}"),
        error: None,
        aborted: false,
        request_headers: vec![("host".to_owned(), format!("shop.{callee}"))],
        response_headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        request_body: Some(String::new()),
        response_body: Some(format!("{{\"id\":{id},\"ok\":true}}")),
    }
}

fn observed(event: MeshObservation) -> Observation {
    Observation::Model(ModelObservation::new(event))
}

/// The library fixture with the mesh model beside the events model: two
/// services, one call the runtime kept before the pane opened.
fn mesh_fixture() -> Fixture {
    let mut f = fixture(0);
    let seeded = call(1, "gateway", "web", "GET", "/", 200);
    let pane = MeshPane::new(
        vec![route("cart", "shop.cart"), route("web", "shop.web")],
        vec![seeded],
    );
    let models: Vec<Box<dyn ModelUi>> = vec![
        Box::new(EventsUi::new(f.store.clone(), Vec::new())),
        Box::new(MeshUi::with_clock(pane, now)),
    ];
    f.app = App::new(
        Status::new("shop", "http://127.0.0.1:4321"),
        ModulesPane::default(),
        LogsPane::new([]),
        models,
        wbx_tui::KeyMap::default(),
    );
    f
}

/// A few calls: web calls cart, cart fails once, a POST, a 404 from outside,
/// and the cart's breaker opening.
fn feed(f: &mut Fixture) {
    let mut failed = call(4, "web", "cart", "GET", "/cart/42", 503);
    failed.error = Some("service 'cart' trapped: wasm trap: unreachable".to_owned());
    let mut posted = call(5, "gateway", "cart", "POST", "/cart/42/items", 201);
    posted.request_body = Some("{\"book\":\"dune\",\"copies\":1}".to_owned());
    for record in [
        call(2, "gateway", "web", "GET", "/books", 200),
        call(3, "web", "cart", "GET", "/cart/42", 200),
        failed,
        posted,
        call(6, "gateway", "web", "GET", "/missing", 404),
    ] {
        f.observe(observed(MeshObservation::Call(Box::new(record))));
    }
    f.observe(observed(MeshObservation::Breaker {
        service: "cart".to_owned(),
        state: BreakerState::Open,
        failures: 5,
    }));
}

#[test]
fn the_mesh_pane_shows_routes_and_the_live_call_log() {
    let mut f = mesh_fixture();
    f.keys("5");
    let screen = f.screen(120, 24);
    assert!(screen.contains("5 Mesh 1"), "{screen}");
    assert!(
        screen.contains("gateway → web"),
        "the seeded call: {screen}"
    );
    feed(&mut f);
    let screen = f.screen(120, 24);
    assert!(
        screen.contains("5 Mesh 6") && screen.contains("6 calls · following"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("cart") && l.contains("shop.cart") && l.contains("open")),
        "the cart's row with its open breaker: {screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("web → cart") && l.contains("503")),
        "{screen}"
    );
    assert!(
        screen.contains("last 46 s") && screen.contains('█'),
        "the sparklines, as wide as the table leaves room for: {screen}"
    );
    snapshot!("mesh_routes_and_calls", screen);

    // Scrolling up pauses following; a new call does not move the selection.
    f.act(key(KeyCode::Up));
    f.observe(observed(MeshObservation::Call(Box::new(call(
        7, "gateway", "web", "GET", "/late", 200,
    )))));
    let screen = f.screen(120, 24);
    assert!(screen.contains("paused (G follows)"), "{screen}");
    let selected = f.mesh().pane.selected_call().map(|c| c.id);
    assert_eq!(selected, Some(5));
    f.keys("G");
    assert_eq!(f.mesh().pane.selected_call().map(|c| c.id), Some(7));
}

#[test]
fn a_call_opens_with_its_headers_bodies_and_trace() {
    let mut f = mesh_fixture();
    feed(&mut f);
    f.keys("5");
    f.screen(100, 30);
    // The POST is second from the end.
    f.act(key(KeyCode::Up));
    f.act(key(KeyCode::Enter));
    let screen = f.screen(100, 30);
    assert!(
        screen.contains("Call 5 · POST /cart/42/items")
            && screen.contains("{\"book\":\"dune\",\"copies\":1}")
            && screen.contains("4bf92f3577b34da6a3ce929d0e0e4705")
            && screen.contains("content-type: application/json"),
        "{screen}"
    );
    snapshot!("mesh_call_detail", screen);
    f.act(key(KeyCode::Esc));
    assert!(!f.screen(100, 30).contains("Call 5 ·"));
}

#[test]
fn the_mesh_filter_keeps_calls_by_status_class_and_service() {
    let mut f = mesh_fixture();
    feed(&mut f);
    f.keys("5/5xx");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(120, 20);
    assert!(screen.contains("filter: 5xx"), "{screen}");
    let calls: Vec<&str> = screen.lines().filter(|l| l.contains("09:59:")).collect();
    assert_eq!(calls.len(), 1, "{screen}");
    assert!(calls[0].contains("503"), "{screen}");
    snapshot!("mesh_filtered", screen);

    f.keys("/");
    for _ in 0.."5xx".len() {
        f.act(key(KeyCode::Backspace));
    }
    f.keys("cart 2xx");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(120, 20);
    let calls: Vec<&str> = screen.lines().filter(|l| l.contains("09:59:")).collect();
    assert_eq!(calls.len(), 2, "the 200 and the 201 to cart: {screen}");
    f.keys("/nothing-like-this");
    f.act(key(KeyCode::Enter));
    assert!(f.screen(120, 20).contains("No call passes the filter"));
    f.act(key(KeyCode::Esc));
    assert!(
        f.screen(120, 20).contains("/missing"),
        "Esc clears the filter"
    );
}

#[test]
fn the_mesh_pane_says_how_to_make_a_first_call() {
    let mut f = mesh_fixture();
    f.app.models[1] = Box::new(MeshUi::with_clock(MeshPane::default(), now));
    f.keys(":mesh");
    f.act(key(KeyCode::Enter));
    let screen = f.screen(100, 14);
    assert!(screen.contains("No calls through the mesh yet"), "{screen}");
    assert!(screen.contains("No services"), "{screen}");
    snapshot!("mesh_empty", screen);
}

#[test]
fn call_sends_a_request_through_the_mesh_and_says_what_was_wrong() {
    let mut f = mesh_fixture();
    f.keys(":call post http://shop.cart/cart/42/items {\"book\":\"dune\"}");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(MeshRequest::Call {
            method: "POST".to_owned(),
            uri: "http://shop.cart/cart/42/items".to_owned(),
            body: "{\"book\":\"dune\"}".to_owned(),
        })]
    );
    f.keys(":call GET shop.web/books");
    assert_eq!(
        f.act(key(KeyCode::Enter)),
        [Request::from(MeshRequest::Call {
            method: "GET".to_owned(),
            uri: "http://shop.web/books".to_owned(),
            body: String::new(),
        })]
    );
    f.keys(":call shop.web");
    assert!(f.act(key(KeyCode::Enter)).is_empty());
    assert!(
        f.screen(100, 12)
            .contains("'call' needs a method and a URL")
    );

    // In the pane, c types a call to the selected call's service.
    f.keys("5c");
    assert!(
        f.screen(100, 12).contains(":call GET http://shop.web/"),
        "{}",
        f.screen(100, 12)
    );
    f.act(key(KeyCode::Esc));
    f.keys("?");
    let help = f.screen(120, 60);
    assert!(help.contains("call METHOD URL [BODY]"), "{help}");
}

impl Fixture {
    fn mesh(&self) -> &MeshUi {
        self.app
            .models
            .iter()
            .find_map(|m| m.as_any().downcast_ref::<MeshUi>())
            .expect("the mesh model is in the app")
    }
}
