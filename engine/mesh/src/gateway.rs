//! The mesh gateway: HTTP/1.1 on 127.0.0.1 with keep-alive, so `curl` and
//! any client reach a project's services. A request goes to the service
//! its `Host` header names (`{namespace}.{module}`, path unchanged), or
//! else the one its first path segment names (`/{namespace}.{module}/…`,
//! that segment removed). Like every call it loses its `wbx-*` headers in
//! the mesh's call path, and it gets a W3C `traceparent` (the client's,
//! when it sent a valid one).

use std::convert::Infallible;
use std::sync::Arc;

use anyhow::{Context, Result};
use http::StatusCode;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, WasiBody};
use wbx_core::host_http::Caller;

use crate::runtime::{GATEWAY, MeshRuntime, host_of, text_response};
use crate::trace::TraceParent;

/// Serves the gateway on `listener` until `shutdown` resolves; then each
/// open connection finishes the request it serves and closes.
pub async fn serve(
    runtime: Arc<MeshRuntime>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    let (closing, closed) = tokio::sync::watch::channel(false);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted.context("the gateway cannot accept")?,
            () = &mut shutdown => {
                closing.send_replace(true);
                return Ok(());
            }
        };
        let _ = stream.set_nodelay(true);
        let runtime = runtime.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let runtime = runtime.clone();
                async move { Ok::<_, Infallible>(route(&runtime, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let closing = async move {
                let _ = closed.wait_for(|closed| *closed).await;
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = closing => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
}

/// Finds the service a request from outside is for, and sends it there.
pub async fn route(
    runtime: &Arc<MeshRuntime>,
    request: http::Request<Incoming>,
) -> http::Response<WasiBody> {
    let (mut parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| host_of(h).to_owned())
        .or_else(|| parts.uri.host().map(str::to_owned))
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let target = if runtime.resolve(&host).is_some() {
        Some((host.clone(), path_and_query.clone()))
    } else {
        first_segment(&path_and_query)
    };
    let Some((address, path)) = target else {
        let known: Vec<String> = runtime.services().iter().map(|s| s.address()).collect();
        return text_response(
            StatusCode::BAD_GATEWAY,
            format!(
                "no service for host '{host}' or path '{path_and_query}': address one with \
                 `Host: {{namespace}}.{{module}}` or a path `/{{namespace}}.{{module}}/…`; \
                 known services: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
    };
    let traceparent = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
        .unwrap_or_default();
    parts.uri = match format!("http://{address}{path}").parse() {
        Ok(uri) => uri,
        Err(e) => {
            return text_response(
                StatusCode::BAD_REQUEST,
                format!("cannot route '{path}' to '{address}': {e}"),
            );
        }
    };
    parts.headers.insert(
        http::header::HOST,
        http::HeaderValue::from_str(&address).expect("an address is a header value"),
    );
    let request = http::Request::from_parts(parts, body.map_err(Error::from).boxed_unsync());
    let caller = Caller {
        module: Arc::from(GATEWAY),
        traceparent: Some(traceparent.to_string()),
        hops: 0,
    };
    runtime.dispatch(&caller, request).await
}

/// `/{namespace}.{module}/rest?q` → (`namespace.module`, `/rest?q`), when
/// the first segment has the shape of an address.
fn first_segment(path_and_query: &str) -> Option<(String, String)> {
    let rest = path_and_query.strip_prefix('/')?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (segment, tail) = rest.split_at(end);
    let (namespace, module) = segment.split_once('.')?;
    if namespace.is_empty() || module.is_empty() {
        return None;
    }
    let tail = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    };
    Some((segment.to_owned(), tail))
}

#[cfg(test)]
mod tests {
    use super::first_segment;

    #[test]
    fn the_first_segment_names_the_service_and_is_removed() {
        assert_eq!(
            first_segment("/shop.catalog/items/3?x=1"),
            Some(("shop.catalog".into(), "/items/3?x=1".into()))
        );
        assert_eq!(
            first_segment("/shop.catalog"),
            Some(("shop.catalog".into(), "/".into()))
        );
        assert_eq!(
            first_segment("/shop.catalog?x=1"),
            Some(("shop.catalog".into(), "/?x=1".into()))
        );
        assert_eq!(first_segment("/items/3"), None);
        assert_eq!(first_segment("/"), None);
    }
}
