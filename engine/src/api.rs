//! The control API: HTTP on loopback, for `wbx exec`, `wbx events`, scripts
//! and DCB clients. Everything here is a thin layer over [`EventsRuntime`].
//!
//! | route | what |
//! |---|---|
//! | `GET /api/health` | `{pid, project}` |
//! | `GET /api/modules` | `[{name, kind, version, status, reloads, last_error}]` |
//! | `POST /api/commands/{name}` | body: the input JSON; headers `idempotency-key`, `correlation-id` |
//! | `GET /api/events` | `type`, `tag` (repeatable), `from`, `limit`, `backwards` |
//! | `GET /api/events/stream` | the same filters; new events as JSON lines, live |
//! | `GET /api/projectors`, `GET /api/effects` | statuses |
//! | `GET /api/projectors/{name}/query?sql=…` | a read-only query of a read model |
//! | `POST /api/projectors/{name}/rebuild` | replay the log into a fresh read model |
//! | `GET /dcb/read?query=…&options=…`, `POST /dcb/append` | the DCB adapter |

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use crate::events::command::{CommandError, CommandRequest};
use crate::events::{
    AppendCondition, AppendMeta, AppendOutcome, EventsRuntime, NewEvent, Query, QueryItem,
    ReadOptions, StoredEvent,
};
use crate::host_sql::rows_to_json;

/// Largest request body: a command input or an append.
pub const BODY_LIMIT: usize = 1 << 20;
/// Largest page `GET /api/events` returns when no limit is given.
const DEFAULT_PAGE: u64 = 1000;

/// `.wbx/engine.json` while an engine runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineFile {
    pub api: String,
    pub pid: u32,
}

impl EngineFile {
    pub fn write(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn read(path: &Path) -> Option<EngineFile> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

struct ApiState {
    runtime: Arc<EventsRuntime>,
    project: PathBuf,
    /// Turns true when the server shuts down: live streams end then, or
    /// the graceful shutdown would wait for them forever.
    closing: tokio::sync::watch::Receiver<bool>,
}

fn router(
    runtime: Arc<EventsRuntime>,
    project: PathBuf,
    closing: tokio::sync::watch::Receiver<bool>,
) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/modules", get(modules))
        .route("/api/commands/{name}", post(execute))
        .route("/api/events", get(events))
        .route("/api/events/stream", get(event_stream))
        .route("/api/projectors", get(projectors))
        .route("/api/projectors/{name}/query", get(query_projector))
        .route("/api/projectors/{name}/rebuild", post(rebuild_projector))
        .route("/api/effects", get(effects))
        .route("/dcb/read", get(dcb_read))
        .route("/dcb/append", post(dcb_append))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(local_callers_only))
        .with_state(Arc::new(ApiState {
            runtime,
            project,
            closing,
        }))
}

/// Refuses what a web page could send: a request with an `Origin` (browsers
/// add one to cross-site requests; `wbx` and scripts do not), or one whose
/// `Host` is not this machine's loopback (a DNS-rebinding page).
async fn local_callers_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let host_name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let loopback = matches!(host_name, "127.0.0.1" | "localhost" | "[::1]");
    if headers.contains_key(header::ORIGIN) || !loopback {
        return ApiError {
            status: StatusCode::FORBIDDEN,
            kind: "forbidden",
            message: "the control API answers local tools only: no browser origins, \
                      no host names other than the loopback address"
                .to_owned(),
        }
        .into_response();
    }
    next.run(request).await
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    runtime: Arc<EventsRuntime>,
    project: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (close, closing) = tokio::sync::watch::channel(false);
    axum::serve(listener, router(runtime, project, closing))
        .with_graceful_shutdown(async move {
            shutdown.await;
            close.send_replace(true);
        })
        .await
        .context("the control API failed")
}

/// An error as the API answers it: `{"error": kind, "message": text}`.
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "bad-request",
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            message: message.into(),
        }
    }

    fn internal(error: anyhow::Error) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "failed",
            message: format!("{error:#}"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.kind, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        let (status, kind) = match &error {
            CommandError::UnknownCommand(_) => (StatusCode::NOT_FOUND, "unknown-command"),
            CommandError::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid-input"),
            CommandError::Rejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "rejected"),
            CommandError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            CommandError::Failed(_) => (StatusCode::INTERNAL_SERVER_ERROR, "failed"),
        };
        ApiError {
            status,
            kind,
            message: error.to_string(),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.into()))?
        .map_err(ApiError::internal)
}

async fn health(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({ "pid": std::process::id(), "project": state.project }))
}

async fn modules(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!(state.runtime.engine().modules()))
}

async fn execute(
    State(state): State<Arc<ApiState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let input = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the command input is not UTF-8"))?;
    serde_json::from_str::<&RawValue>(if input.trim().is_empty() { "{}" } else { input })
        .map_err(|e| ApiError::bad_request(format!("the command input is not JSON: {e}")))?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = CommandRequest {
        command: name,
        input: if input.trim().is_empty() {
            "{}".into()
        } else {
            input.to_owned()
        },
        idempotency_key: header("idempotency-key"),
        correlation_id: header("correlation-id"),
        triggering_event_id: None,
    };
    let outcome = state.runtime.execute(request).await?;
    Ok(Json(json!(outcome)))
}

/// The filters of `GET /api/events`, from a query string with repeatable keys.
#[derive(Debug, Default)]
struct EventFilter {
    query: Query,
    options: ReadOptions,
}

fn parse_filter(raw: Option<&str>) -> ApiResult<EventFilter> {
    let mut item = QueryItem::default();
    let mut options = ReadOptions::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("{key}: '{value}' is not a number")))
        };
        match key.as_ref() {
            "type" => item.types.push(value.into_owned()),
            "tag" => item.tags.push(value.into_owned()),
            "from" => options.from = Some(number()?),
            "limit" => options.limit = Some(number()?),
            "backwards" => options.backwards = matches!(value.as_ref(), "" | "true" | "1"),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (expected type, tag, from, limit, backwards)"
                )));
            }
        }
    }
    let query = if item.types.is_empty() && item.tags.is_empty() {
        Query::all()
    } else {
        Query::new(vec![item])
    };
    Ok(EventFilter { query, options })
}

async fn events(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Vec<StoredEvent>>> {
    let mut filter = parse_filter(raw.as_deref())?;
    filter.options.limit.get_or_insert(DEFAULT_PAGE);
    let store = state.runtime.store().clone();
    Ok(Json(
        blocking(move || store.read(&filter.query, filter.options)).await?,
    ))
}

/// New events as JSON lines, from `from` (default: after the head) on, for
/// as long as the client listens. Waits on the store's head; never polls.
async fn event_stream(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let filter = parse_filter(raw.as_deref())?;
    let store = state.runtime.store().clone();
    let mut next = filter.options.from.unwrap_or(store.head() + 1);
    let mut closing = state.closing.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        let mut head = store.watch_head();
        loop {
            head.mark_unchanged();
            let head_seen = store.head();
            let options = ReadOptions::forward(next, DEFAULT_PAGE);
            let batch = match store.read(&filter.query, options) {
                Ok(batch) => batch,
                Err(_) => return,
            };
            let full = batch.len() as u64 == DEFAULT_PAGE;
            for event in batch {
                next = event.position + 1;
                let mut line = serde_json::to_vec(&event).unwrap_or_default();
                line.push(b'\n');
                if tx.send(Ok(Bytes::from(line))).await.is_err() {
                    return;
                }
            }
            if !full {
                // The read saw every match up to the head it started at.
                next = next.max(head_seen + 1);
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return },
                    _ = tx.closed() => return,
                    _ = closing.wait_for(|closing| *closing) => return,
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn projectors(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!(state.runtime.projectors()))
}

async fn rebuild_projector(
    State(state): State<Arc<ApiState>>,
    UrlPath(name): UrlPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    state
        .runtime
        .rebuild_projector(&name)
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    Ok(Json(json!({ "rebuilding": name })))
}

async fn effects(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!(state.runtime.effects()))
}

async fn query_projector(
    State(state): State<Arc<ApiState>>,
    UrlPath(name): UrlPath<String>,
    axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let sql = params
        .get("sql")
        .ok_or_else(|| ApiError::bad_request("missing parameter 'sql'"))?
        .clone();
    let runtime = state.runtime.clone();
    let rows = tokio::task::spawn_blocking(move || runtime.query_read_model(&name, &sql, &[]))
        .await
        .map_err(|e| ApiError::internal(e.into()))?
        .map_err(|e| {
            let message = format!("{e:#}");
            if message.starts_with("no projector named") {
                ApiError::not_found(message)
            } else {
                ApiError::bad_request(message)
            }
        })?;
    Ok(Json(rows_to_json(&rows)))
}

#[derive(Serialize)]
struct DcbEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    tags: &'a [String],
    data: &'a RawValue,
    position: u64,
}

async fn dcb_read(
    State(state): State<Arc<ApiState>>,
    axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let parse = |key: &str| -> ApiResult<Option<&String>> { Ok(params.get(key)) };
    let query: Query = match parse("query")? {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("query: {e}")))?
        }
        None => Query::all(),
    };
    let options: ReadOptions = match parse("options")? {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("options: {e}")))?,
        None => ReadOptions::default(),
    };
    query.validate().map_err(ApiError::bad_request)?;
    let store = state.runtime.store().clone();
    let events = blocking(move || store.read(&query, options)).await?;
    let body: Vec<_> = events
        .iter()
        .map(|e| DcbEvent {
            event_type: &e.event_type,
            tags: &e.tags,
            data: &e.data,
            position: e.position,
        })
        .collect();
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DcbAppend {
    events: Vec<DcbNewEvent>,
    condition: Option<AppendCondition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DcbNewEvent {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    data: Option<Box<RawValue>>,
}

async fn dcb_append(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let request: DcbAppend =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("append: {e}")))?;
    let events: Vec<NewEvent> = request
        .events
        .into_iter()
        .map(|e| NewEvent {
            event_type: e.event_type,
            tags: e.tags,
            data: e
                .data
                .map_or_else(|| "null".to_owned(), |d| d.get().to_owned()),
        })
        .collect();
    let store = state.runtime.store().clone();
    let start = Instant::now();
    let outcome = tokio::task::spawn_blocking(move || {
        store.append(&events, request.condition.as_ref(), &AppendMeta::default())
    })
    .await
    .map_err(|e| ApiError::internal(e.into()))?
    .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let duration = start.elapsed().as_micros() as u64;
    if let AppendOutcome::Appended { first, last } = outcome {
        state.runtime.engine().publish_appended(first, last, None);
    }
    Ok(Json(json!({
        "durationInMicroseconds": duration,
        "appendConditionFailed": outcome == AppendOutcome::ConditionFailed,
    })))
}
