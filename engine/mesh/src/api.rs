//! The mesh model's control-API routes.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/mesh/routes` | per service and caller: requests, errors, p50/p99, breaker (`wbx routes --json`) |
//! | `GET /api/mesh/calls?after=ID&limit=N` | the call log after call `ID`, oldest first (default the last 100) |
//! | `GET /api/mesh/calls/{id}` | one call, with its headers and the start of both bodies |

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wbx_core::api::{ApiError, ApiResult, Closing};

use crate::calls::CallRecord;
use crate::routes::RouteRow;
use crate::runtime::MeshRuntime;

pub fn routes(runtime: Arc<MeshRuntime>, _closing: Closing) -> Router {
    Router::new()
        .route("/api/mesh/routes", get(route_rows))
        .route("/api/mesh/calls", get(calls))
        .route("/api/mesh/calls/{id}", get(call))
        .with_state(runtime)
}

async fn route_rows(State(runtime): State<Arc<MeshRuntime>>) -> Json<Vec<RouteRow>> {
    Json(runtime.routes())
}

#[derive(Deserialize)]
struct CallsQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn calls(
    State(runtime): State<Arc<MeshRuntime>>,
    Query(query): Query<CallsQuery>,
) -> Json<Vec<CallRecord>> {
    Json(runtime.calls_since(query.after, query.limit.unwrap_or(100)))
}

async fn call(
    State(runtime): State<Arc<MeshRuntime>>,
    Path(id): Path<u64>,
) -> ApiResult<Json<CallRecord>> {
    runtime.call(id).map(Json).ok_or_else(|| {
        ApiError::not_found(format!(
            "no call {id} in the call log (it keeps the latest calls)"
        ))
    })
}
