//! The events model's control-API routes: commands, the event log (read
//! and followed live), projectors and effects, and the DCB adapter.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/commands/{name}` | body: the input JSON; headers `idempotency-key`, `correlation-id` |
//! | `GET /api/events` | `type`, `tag` (repeatable), `from`, `limit`, `backwards`, `grep` (a text) |
//! | `GET /api/events/stream` | the same filters; new events as JSON lines, live |
//! | `GET /api/projectors`, `GET /api/effects` | statuses |
//! | `GET /api/projectors/{name}/query?sql=…` | a read-only query of a read model |
//! | `POST /api/projectors/{name}/rebuild` | replay the log into a fresh read model |
//! | `GET /dcb/read?query=…&options=…`, `POST /dcb/append` | the DCB adapter |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use wbx_core::api::{ApiError, ApiResult, Closing, blocking};

use crate::command::{CommandError, CommandRequest};
use crate::host_sql::rows_to_json;
use crate::observe::EventsObservation;
use crate::{
    AppendCondition, AppendMeta, AppendOutcome, Browse, EventsRuntime, NewEvent, Query, QueryItem,
    ReadOptions, StoredEvent,
};

/// Largest page `GET /api/events` returns when no limit is given.
const DEFAULT_PAGE: u64 = 1000;

struct ApiState {
    runtime: Arc<EventsRuntime>,
    closing: Closing,
}

/// The routes, over `runtime`.
pub fn routes(runtime: Arc<EventsRuntime>, closing: Closing) -> Router {
    Router::new()
        .route("/api/commands/{name}", post(execute))
        .route("/api/events", get(events))
        .route("/api/events/stream", get(event_stream))
        .route("/api/projectors", get(projectors))
        .route("/api/projectors/{name}/query", get(query_projector))
        .route("/api/projectors/{name}/rebuild", post(rebuild_projector))
        .route("/api/effects", get(effects))
        .route("/dcb/read", get(dcb_read))
        .route("/dcb/append", post(dcb_append))
        .with_state(Arc::new(ApiState { runtime, closing }))
}

/// A command's refusal as the API answers it.
fn command_error(error: CommandError) -> ApiError {
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
    let outcome = state
        .runtime
        .execute(request)
        .await
        .map_err(command_error)?;
    Ok(Json(json!(outcome)))
}

/// The filters of `GET /api/events`, from a query string with repeatable keys.
#[derive(Debug, Default)]
struct EventFilter {
    browse: Browse,
    options: ReadOptions,
}

fn parse_filter(raw: Option<&str>) -> ApiResult<EventFilter> {
    let mut item = QueryItem::default();
    let mut options = ReadOptions::default();
    let mut text = None;
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
            "grep" => text = Some(value.into_owned()).filter(|t| !t.is_empty()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (expected type, tag, from, limit, backwards, grep)"
                )));
            }
        }
    }
    let query = if item.types.is_empty() && item.tags.is_empty() {
        Query::all()
    } else {
        Query::new(vec![item])
    };
    query.validate().map_err(ApiError::bad_request)?;
    Ok(EventFilter {
        browse: Browse { query, text },
        options,
    })
}

async fn events(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Vec<StoredEvent>>> {
    let mut filter = parse_filter(raw.as_deref())?;
    filter.options.limit.get_or_insert(DEFAULT_PAGE);
    let store = state.runtime.store().clone();
    Ok(Json(
        blocking(move || store.browse(&filter.browse, filter.options)).await?,
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
            let batch = match store.browse(&filter.browse, options) {
                Ok(batch) => batch,
                Err(error) => {
                    // The client sees the stream end with the reason.
                    let error = std::io::Error::other(format!("{error:#}"));
                    let _ = tx.send(Err(error)).await;
                    return;
                }
            };
            let full = batch.len() as u64 == DEFAULT_PAGE;
            for event in batch {
                next = event.position + 1;
                let line = serde_json::to_vec(&event).map(|mut line| {
                    line.push(b'\n');
                    Bytes::from(line)
                });
                if tx.send(line.map_err(std::io::Error::other)).await.is_err() {
                    return;
                }
            }
            if !full {
                // The read saw every match up to the head it started at.
                next = next.max(head_seen + 1);
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { return },
                    _ = tx.closed() => return,
                    _ = closing.closed() => return,
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
        EventsObservation::Appended {
            first,
            last,
            by: None,
        }
        .publish(state.runtime.engine());
    }
    Ok(Json(json!({
        "durationInMicroseconds": duration,
        "appendConditionFailed": outcome == AppendOutcome::ConditionFailed,
    })))
}
