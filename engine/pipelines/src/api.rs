//! The pipelines model's control-API routes.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/flows` | every flow (`wbx flows --json`) |
//! | `GET /api/flows/{flow}` | one flow |
//! | `GET /api/flows/{flow}/stages/{stage}` | one stage: latency, last elements, errors, dead letters |
//! | `POST /api/flows/{flow}/start` `…/stop` `…/pause` `…/resume` | `{flow, status}` after the change (stop: once drained) |
//! | `POST /api/flows/{flow}/redrive` | `{flow, redriven}`: the dead letters sent again |
//! | `GET /api/flows/{flow}/dead-letters` | the dead letters |
//! | `POST /api/flows/{flow}/push[?node=NAME]` | a JSON array, one element a value; `{accepted, sequences}` once queued |
//! | `GET /api/flows/{flow}/tap?from=A&to=B[&port=P]` | JSON lines: the elements passing that edge from now on |
//!
//! Errors: 404 `no-such-flow`, `no-such-stage`, `no-such-edge`,
//! `no-push-node`; 409 `not-running`; 503 `queue-full`; 400 for the rest.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use wbx_core::api::{ApiError, ApiResult, Closing};

use crate::element::NewElement;
use crate::info::{DeadLetter, FlowInfo, FlowStatus, StageDetail};
use crate::runtime::{FlowError, PipelineRuntime};

struct ApiState {
    runtime: Arc<PipelineRuntime>,
    closing: Closing,
}

type Api = State<Arc<ApiState>>;

pub fn routes(runtime: Arc<PipelineRuntime>, closing: Closing) -> Router {
    Router::new()
        .route("/api/flows", get(flows))
        .route("/api/flows/{flow}", get(flow))
        .route("/api/flows/{flow}/stages/{stage}", get(stage))
        .route("/api/flows/{flow}/dead-letters", get(dead_letters))
        .route("/api/flows/{flow}/push", post(push))
        .route("/api/flows/{flow}/tap", get(tap))
        .route("/api/flows/{flow}/redrive", post(redrive))
        .route("/api/flows/{flow}/{action}", post(lifecycle))
        .with_state(Arc::new(ApiState { runtime, closing }))
}

async fn flows(State(api): Api) -> Json<Vec<FlowInfo>> {
    Json(api.runtime.flows())
}

async fn flow(State(api): Api, Path(flow): Path<String>) -> ApiResult<Json<FlowInfo>> {
    api.runtime
        .flow(&flow)
        .map(Json)
        .ok_or_else(|| api_error(FlowError::NoSuchFlow(flow)))
}

async fn stage(
    State(api): Api,
    Path((flow, stage)): Path<(String, String)>,
) -> ApiResult<Json<StageDetail>> {
    if api.runtime.flow(&flow).is_none() {
        return Err(api_error(FlowError::NoSuchFlow(flow)));
    }
    api.runtime
        .stage(&flow, &stage)
        .map(Json)
        .ok_or_else(|| api_error(FlowError::NoSuchStage { flow, stage }))
}

async fn dead_letters(
    State(api): Api,
    Path(flow): Path<String>,
) -> ApiResult<Json<Vec<DeadLetter>>> {
    api.runtime.dead_letters(&flow).map(Json).map_err(api_error)
}

async fn lifecycle(
    State(api): Api,
    Path((flow, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let status: FlowStatus = match action.as_str() {
        "start" => api.runtime.start_flow(&flow).await,
        "stop" => api.runtime.stop_flow(&flow).await,
        "pause" => api.runtime.pause_flow(&flow).await,
        "resume" => api.runtime.resume_flow(&flow).await,
        _ => {
            return Err(ApiError::not_found(format!(
                "no action '{action}' on a flow: start, stop, pause, resume, redrive, push"
            )));
        }
    }
    .map_err(api_error)?;
    Ok(Json(json!({ "flow": flow, "status": status })))
}

async fn redrive(State(api): Api, Path(flow): Path<String>) -> ApiResult<Json<Value>> {
    let redriven = api.runtime.redrive(&flow).await.map_err(api_error)?;
    Ok(Json(json!({ "flow": flow, "redriven": redriven })))
}

#[derive(Deserialize)]
struct PushQuery {
    node: Option<String>,
}

async fn push(
    State(api): Api,
    Path(flow): Path<String>,
    Query(query): Query<PushQuery>,
    body: String,
) -> ApiResult<Json<Value>> {
    let values: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(&body)
        .map_err(|e| ApiError::bad_request(format!("a push is a JSON array of elements: {e}")))?;
    let elements = values
        .into_iter()
        .map(|value| NewElement::json(value.get().to_owned()))
        .collect();
    let sequences = api
        .runtime
        .push(&flow, query.node.as_deref(), elements)
        .await
        .map_err(api_error)?;
    Ok(Json(
        json!({ "accepted": sequences.len(), "sequences": sequences }),
    ))
}

#[derive(Deserialize)]
struct TapQuery {
    from: String,
    to: String,
    port: Option<String>,
}

/// The elements passing an edge as JSON lines, for as long as the client
/// listens. Elements the client is too slow for are skipped, and a line
/// `{"skipped": N}` says how many: a tap never holds the flow.
async fn tap(
    State(api): Api,
    Path(flow): Path<String>,
    Query(query): Query<TapQuery>,
) -> ApiResult<Response> {
    let mut elements = api
        .runtime
        .tap(&flow, &query.from, query.port.as_deref(), &query.to)
        .map_err(api_error)?;
    let mut closing = api.closing.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        loop {
            let line = tokio::select! {
                element = elements.recv() => match element {
                    Ok(element) => serde_json::to_vec(&element),
                    Err(RecvError::Lagged(skipped)) => serde_json::to_vec(&json!({ "skipped": skipped })),
                    Err(RecvError::Closed) => return,
                },
                _ = tx.closed() => return,
                _ = closing.closed() => return,
            };
            let line = line.map(|mut line| {
                line.push(b'\n');
                Bytes::from(line)
            });
            if tx.send(line.map_err(std::io::Error::other)).await.is_err() {
                return;
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

fn api_error(error: FlowError) -> ApiError {
    let (status, kind) = match &error {
        FlowError::NoSuchFlow(_) => (StatusCode::NOT_FOUND, "no-such-flow"),
        FlowError::NoSuchStage { .. } => (StatusCode::NOT_FOUND, "no-such-stage"),
        FlowError::NoSuchEdge { .. } => (StatusCode::NOT_FOUND, "no-such-edge"),
        FlowError::NoPushNode { .. } => (StatusCode::NOT_FOUND, "no-push-node"),
        FlowError::NotRunning { .. } => (StatusCode::CONFLICT, "not-running"),
        FlowError::QueueFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "queue-full"),
        FlowError::Failed(_) => (StatusCode::BAD_REQUEST, "bad-request"),
    };
    ApiError {
        status,
        kind,
        message: error.to_string(),
    }
}
