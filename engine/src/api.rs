//! The control API: HTTP on loopback, for `wbx exec`, `wbx events`, scripts
//! and DCB clients, and `.wbx/engine.json` while it runs.
//!
//! The engine's own routes are here; every registered model mounts its own
//! beside them (the events model's: commands, the event log, projectors,
//! effects and the DCB adapter, in `wbx_events::api`).
//!
//! | route | what |
//! |---|---|
//! | `GET /api/health` | `{pid, project}` |
//! | `GET /api/modules` | `[{name, kind, version, status, reloads, last_error}]` |

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wbx_core::api::{ApiError, BODY_LIMIT, Closing};
use wbx_core::{Engine, Runtimes};

/// `.wbx/engine.json` while an engine runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineFile {
    pub api: String,
    pub pid: u32,
    /// The mesh gateway's address, while it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
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
    engine: Arc<Engine>,
    project: PathBuf,
}

fn router(engine: Arc<Engine>, runtimes: &Runtimes, project: PathBuf, closing: Closing) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/modules", get(modules))
        .with_state(Arc::new(ApiState { engine, project }))
        .merge(runtimes.routes(&closing))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(local_callers_only))
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
            status: axum::http::StatusCode::FORBIDDEN,
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
    engine: Arc<Engine>,
    runtimes: Runtimes,
    project: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (close, closing) = tokio::sync::watch::channel(false);
    axum::serve(
        listener,
        router(engine, &runtimes, project, Closing(closing)),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        close.send_replace(true);
    })
    .await
    .context("the control API failed")
}

async fn health(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!({ "pid": std::process::id(), "project": state.project }))
}

async fn modules(State(state): State<Arc<ApiState>>) -> Json<serde_json::Value> {
    Json(json!(state.engine.modules()))
}
