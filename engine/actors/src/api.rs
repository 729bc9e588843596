//! The actors model's control-API routes. A `{target}` is a pid (`<0.12>`,
//! URL-encoded, or `0.12`) or a registered name.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/actors` | every process (`wbx ps --json`) |
//! | `GET /api/actors/tree` | the supervision trees (`wbx tree --json`) |
//! | `GET /api/actors/dead-letters` | sends that found no process, counted per target |
//! | `GET /api/actors/{target}` | one process: links, monitors, mailbox, trace, state, logs |
//! | `POST /api/actors/{target}/send` | the body (JSON) into its mailbox |
//! | `POST /api/actors/{target}/call?timeout_ms=N` | the body as a call; answers the reply |
//! | `POST /api/actors/{target}/kill` | kills it (`wbx kill`) |
//! | `POST /api/actors/spawn` | `{module, args, register}`: an unsupervised process |
//!
//! Errors: 404 `no-such-process`, 503 `mailbox-full`, 504 `timeout`, 502
//! `exited` (the callee exited before replying), 400 for the rest.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use wbx_core::api::{ApiError, ApiResult};

use crate::info::{ProcessDetail, ProcessInfo, TreeNode};
use crate::message::ActorError;
use crate::runtime::ActorRuntime;
use crate::table::DeadLetters;

/// A call's timeout when the request sets none.
const CALL_TIMEOUT_MS: u64 = 5000;

pub fn routes(runtime: Arc<ActorRuntime>) -> Router {
    Router::new()
        .route("/api/actors", get(processes))
        .route("/api/actors/tree", get(trees))
        .route("/api/actors/dead-letters", get(dead_letters))
        .route("/api/actors/spawn", post(spawn))
        .route("/api/actors/{target}", get(detail))
        .route("/api/actors/{target}/send", post(send))
        .route("/api/actors/{target}/call", post(call))
        .route("/api/actors/{target}/kill", post(kill))
        .with_state(runtime)
}

async fn processes(State(runtime): State<Arc<ActorRuntime>>) -> Json<Vec<ProcessInfo>> {
    Json(runtime.processes())
}

async fn trees(State(runtime): State<Arc<ActorRuntime>>) -> Json<Vec<TreeNode>> {
    Json(runtime.trees())
}

async fn dead_letters(State(runtime): State<Arc<ActorRuntime>>) -> Json<DeadLetters> {
    Json(runtime.dead_letters())
}

async fn detail(
    State(runtime): State<Arc<ActorRuntime>>,
    Path(target): Path<String>,
) -> ApiResult<Json<ProcessDetail>> {
    runtime.detail(&target).await.map(Json).map_err(api_error)
}

async fn send(
    State(runtime): State<Arc<ActorRuntime>>,
    Path(target): Path<String>,
    body: String,
) -> ApiResult<Json<Value>> {
    runtime.send(&target, &body).map_err(api_error)?;
    Ok(Json(json!({ "delivered": true, "target": target })))
}

#[derive(Deserialize)]
struct CallQuery {
    timeout_ms: Option<u64>,
}

async fn call(
    State(runtime): State<Arc<ActorRuntime>>,
    Path(target): Path<String>,
    Query(query): Query<CallQuery>,
    body: String,
) -> ApiResult<Json<Value>> {
    let timeout = Duration::from_millis(query.timeout_ms.unwrap_or(CALL_TIMEOUT_MS));
    let reply = runtime
        .call(&target, &body, timeout)
        .await
        .map_err(api_error)?;
    Ok(Json(
        serde_json::from_str(&reply).unwrap_or(Value::String(reply)),
    ))
}

async fn kill(
    State(runtime): State<Arc<ActorRuntime>>,
    Path(target): Path<String>,
) -> ApiResult<Json<Value>> {
    let pid = runtime.kill(&target).map_err(api_error)?;
    Ok(Json(json!({ "killed": pid.to_string() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpawnBody {
    module: String,
    #[serde(default)]
    args: Value,
    #[serde(default)]
    register: Option<String>,
}

async fn spawn(State(runtime): State<Arc<ActorRuntime>>, body: String) -> ApiResult<Json<Value>> {
    let body: SpawnBody = serde_json::from_str(&body).map_err(|e| {
        ApiError::bad_request(format!("a spawn is {{module, args, register}}: {e}"))
    })?;
    let pid = runtime
        .spawn(&body.module, &body.args.to_string(), body.register)
        .await
        .map_err(api_error)?;
    Ok(Json(json!({ "pid": pid.to_string() })))
}

fn api_error(error: ActorError) -> ApiError {
    let (status, kind) = match &error {
        ActorError::NoSuchProcess(_) => (StatusCode::NOT_FOUND, "no-such-process"),
        ActorError::MailboxFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "mailbox-full"),
        ActorError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        ActorError::Exited { .. } => (StatusCode::BAD_GATEWAY, "exited"),
        ActorError::Spawn(_) => (StatusCode::BAD_REQUEST, "spawn-failed"),
        ActorError::Refused(_) => (StatusCode::BAD_REQUEST, "bad-request"),
    };
    ApiError {
        status,
        kind,
        message: error.to_string(),
    }
}
