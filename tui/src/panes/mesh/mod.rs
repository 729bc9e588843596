//! The mesh model's part of the interface: the Mesh pane (the route table
//! and the live call log, after Linkerd's `viz stat` and `viz tap`), the
//! `:call` command that sends a request through the mesh, and the session
//! that carries it out on the mesh runtime.
//!
//! - `calls.rs`: the pane's state (the bounded log, its filter, the
//!   figures per route), apart from drawing;
//! - `view_calls.rs`: its drawing;
//! - here: [`MeshUi`] (the pane as the app holds it), [`MeshSession`] (the
//!   engine side) and [`SPEC`] (pane, keys, commands).

mod calls;
mod view_calls;

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use ratatui::Frame;
use ratatui::layout::Rect;
use tokio::sync::mpsc::UnboundedSender;
use wbx_engine::Observation;
use wbx_engine::host_http::Caller;
use wbx_engine::mesh::calls::unix_ms;
use wbx_engine::mesh::{MeshObservation, MeshRuntime};

pub use calls::{CAPACITY, CallFilter, MeshPane};

use crate::action::{Action, Done, Request};
use crate::app::{App, PaneId, Prompt, PromptKind};
use crate::keys::Command;
use crate::model::{
    ActionSpec, ModelParts, ModelRequest, ModelResult, ModelSession, ModelUi, Nav, PaneSpec, Scope,
    UiSpec,
};
use crate::view::text;

pub const MESH: PaneId = PaneId("mesh");

const MODEL: &str = "mesh";
/// Calls read from the runtime when the pane opens.
const SEED_CALLS: usize = CAPACITY;

/// The mesh model's pane, keys and commands.
pub const SPEC: UiSpec = UiSpec {
    model: MODEL,
    panes: &[PaneSpec {
        id: MESH,
        title: "Mesh",
        order: 50,
        action: "mesh",
    }],
    actions: &[ActionSpec {
        name: "call",
        describe: "mesh: type a :call to the selected call's service",
        keys: &["c"],
        scope: Scope::Pane(MESH),
    }],
    commands: &[(
        "call METHOD URL [BODY]",
        "send a request through the mesh, as the gateway does (URL http://{namespace}.{module}/path)",
    )],
    filters: &[(
        "mesh:",
        "2xx 5xx (a status class)  404 (a status)  and text in the caller, callee, address, method or path",
    )],
};

/// What the Mesh pane asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshRequest {
    /// A request from outside, through the mesh, to the service `uri`'s
    /// authority names.
    Call {
        method: String,
        uri: String,
        body: String,
    },
}

impl From<MeshRequest> for Request {
    fn from(request: MeshRequest) -> Request {
        Request::Model(ModelRequest::new(MODEL, request))
    }
}

/// The Mesh pane's state.
#[derive(Debug)]
pub struct MeshUi {
    pub pane: MeshPane,
    /// Milliseconds since the Unix epoch: the figures' "now". Tests fix it.
    clock: fn() -> u64,
}

fn wall_clock() -> u64 {
    unix_ms(SystemTime::now())
}

impl MeshUi {
    /// The pane over `pane`, its figures as of the wall clock.
    pub fn new(pane: MeshPane) -> MeshUi {
        MeshUi::with_clock(pane, wall_clock)
    }

    /// The pane with `clock` for the figures' "now" (milliseconds since the
    /// Unix epoch), so a drawing can be compared from run to run.
    pub fn with_clock(mut pane: MeshPane, clock: fn() -> u64) -> MeshUi {
        pane.now_ms = clock();
        MeshUi { pane, clock }
    }

    /// `c`: the command prompt, with a call to the selected call's
    /// service (or the first service) typed in.
    fn prefill_call(&self, app: &mut App) {
        let address = self
            .pane
            .selected_call()
            .map(|c| c.authority.clone())
            .or_else(|| self.pane.routes.values().next().map(|r| r.address.clone()))
            .unwrap_or_else(|| "{namespace}.{module}".to_owned());
        let text = format!("call GET http://{address}/");
        app.prompt = Some(Prompt::new(PromptKind::Command, text));
    }
}

/// `METHOD URL [BODY]` as a request, or what is wrong with it. A URL
/// without a scheme is taken as `http://`.
pub fn parse_call(rest: &str) -> Result<MeshRequest, String> {
    let usage = "'call' needs a method and a URL: call GET http://{namespace}.{module}/path [BODY]";
    let (method, rest) = rest.trim().split_once(char::is_whitespace).ok_or(usage)?;
    let (url, body) = match rest.trim().split_once(char::is_whitespace) {
        Some((url, body)) => (url, body.trim()),
        None => (rest.trim(), ""),
    };
    let method = method.to_ascii_uppercase();
    http::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("'{method}' is not an HTTP method"))?;
    let url = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{}", url.trim_start_matches('/'))
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    if uri.authority().is_none() {
        return Err(format!(
            "'{url}' names no service: http://{{namespace}}.{{module}}/path"
        ));
    }
    Ok(MeshRequest::Call {
        method,
        uri: uri.to_string(),
        body: body.to_owned(),
    })
}

impl ModelUi for MeshUi {
    fn spec(&self) -> &'static UiSpec {
        &SPEC
    }

    fn resize(&mut self, page: usize) {
        self.pane.resize(page);
    }

    fn observe(&mut self, observation: &Observation, _app: &mut App) -> bool {
        match observation.model::<MeshObservation>() {
            Some(event) => {
                self.pane.observe(event);
                true
            }
            None => false,
        }
    }

    fn settle(&mut self) {
        self.pane.now_ms = (self.clock)();
    }

    fn act(&mut self, action: &'static str, app: &mut App) -> Vec<Request> {
        if action == "call" {
            self.prefill_call(app);
        }
        Vec::new()
    }

    fn nav(&mut self, _pane: PaneId, nav: Nav, _app: &mut App) -> Vec<Request> {
        let pane = &mut self.pane;
        let selected = pane.selected_call().is_some();
        match (nav, &mut pane.detail) {
            (Nav::Step(delta), Some(scroll)) => {
                *scroll = scroll.saturating_add_signed(delta as i16)
            }
            (Nav::Step(delta), None) => pane.step(delta),
            (Nav::Top, _) => pane.top(),
            (Nav::Bottom, _) => pane.bottom(),
            (Nav::Open, _) if selected => {
                // The call stays the one opened while new calls arrive.
                pane.cursor.follow = false;
                pane.detail = Some(0);
            }
            (Nav::Open, _) => {}
            (Nav::Back, Some(_)) => pane.detail = None,
            (Nav::Back, None) if !pane.filter.is_empty() => pane.set_filter(CallFilter::default()),
            (Nav::Back, None) => {}
        }
        Vec::new()
    }

    fn command(&mut self, word: &str, rest: &str, app: &mut App) -> Option<Vec<Request>> {
        if word != "call" {
            return None;
        }
        Some(match parse_call(rest) {
            Ok(request) => {
                let MeshRequest::Call { method, uri, .. } = &request;
                app.notify(format!("{method} {uri}…"), false);
                vec![request.into()]
            }
            Err(error) => {
                app.notify(error, true);
                Vec::new()
            }
        })
    }

    fn filter(&self, pane: PaneId) -> Option<String> {
        (pane == MESH).then(|| self.pane.filter.text.clone())
    }

    fn set_filter(&mut self, pane: PaneId, text: &str, _app: &mut App) {
        if pane == MESH {
            self.pane.set_filter(CallFilter::parse(text));
        }
    }

    fn result(&mut self, _result: &ModelResult, _app: &mut App) -> bool {
        // A call's result is a notice; the call itself arrives as an
        // observation.
        false
    }

    fn draw(&self, _pane: PaneId, frame: &mut Frame, area: Rect, _app: &App) {
        view_calls::draw(frame, area, &self.pane);
    }

    fn badge(&self, _pane: PaneId) -> Option<String> {
        Some(text::thousands(self.pane.seen))
    }

    fn hints(&self, _pane: PaneId) -> Vec<(Command, &'static str)> {
        if self.pane.detail.is_some() {
            vec![(Command::Down, "scroll"), (Command::Back, "close")]
        } else {
            vec![
                (Command::Filter, "filter"),
                (Command::Open, "open"),
                (Command::Model("call"), "call"),
                (Command::Bottom, "follow"),
            ]
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The mesh runtime as the pane needs it.
pub struct MeshSession {
    runtime: Arc<MeshRuntime>,
}

/// The mesh model's part, over a running engine's mesh runtime: the pane
/// starts with the runtime's services and the calls it still keeps.
pub fn open(runtime: Arc<MeshRuntime>) -> ModelParts {
    let pane = MeshPane::new(runtime.routes(), runtime.calls_since(0, SEED_CALLS));
    ModelParts {
        ui: Box::new(MeshUi::new(pane)),
        session: Arc::new(MeshSession { runtime }),
    }
}

impl ModelSession for MeshSession {
    fn perform(&self, request: &ModelRequest, done: &UnboundedSender<Action>) {
        let Some(MeshRequest::Call { method, uri, body }) = request.get::<MeshRequest>().cloned()
        else {
            return;
        };
        let (runtime, done) = (self.runtime.clone(), done.clone());
        tokio::spawn(async move {
            let what = format!("{method} {uri}");
            let done_with = |ok: bool, message: String| {
                let _ = done.send(Action::Done(Done { ok, message }));
            };
            let built = http::Request::builder()
                .method(method.as_str())
                .uri(uri.as_str())
                .body(
                    Full::new(Bytes::from(body))
                        .map_err(|never| match never {})
                        .boxed_unsync(),
                );
            let mut request = match built {
                Ok(request) => request,
                Err(e) => return done_with(false, format!("{what}: cannot make the request: {e}")),
            };
            // The service sees the Host a request through the gateway has.
            if let Some(authority) = request.uri().authority().cloned()
                && let Ok(host) = http::HeaderValue::from_str(authority.as_str())
            {
                request.headers_mut().insert(http::header::HOST, host);
            }
            let caller = Caller {
                module: "gateway".into(),
                traceparent: None,
                hops: 0,
            };
            let response = runtime.dispatch(&caller, request).await;
            let status = response.status();
            let body = match response.into_body().collect().await {
                Ok(body) => String::from_utf8_lossy(&body.to_bytes()).into_owned(),
                Err(e) => format!("(the body broke off: {e})"),
            };
            let first = body.lines().next().unwrap_or("").trim();
            let mut message = format!("{what} → {status}");
            if !first.is_empty() {
                message.push_str(" · ");
                message.push_str(&text::fit(first, 120));
            }
            done_with(status.as_u16() < 400, message);
        });
    }
}
