//! Outgoing HTTP for guests (`wasi:http`), allowed host by host.
//!
//! Every instance has an allow-list; only effects get a non-empty one, from
//! `wbx.toml` (`[effects.allow-http]`). A request to any other host fails
//! with `HttpRequestDenied` before a connection is made.

use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::host_state::HostState;

/// Hosts one instance may reach: `host` (any port) or `host:port`.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    pub hosts: Vec<String>,
}

impl AllowList {
    /// Whether `authority` (`host` or `host:port`) may be reached.
    pub fn allows(&self, authority: &str) -> bool {
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host);
        self.hosts
            .iter()
            .any(|allowed| allowed == authority || allowed == host)
    }
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for AllowList {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        let authority = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        if !self.allows(&authority) {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let _ = fut;
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

/// The HTTP side of an instance: its context and its allow-list.
#[derive(Default)]
pub struct HttpGrant {
    pub ctx: WasiHttpCtx,
    pub allow: AllowList,
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let (grant, table) = self.http_parts();
        WasiHttpCtxView {
            hooks: &mut grant.allow,
            table,
            ctx: &mut grant.ctx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AllowList;

    #[test]
    fn hosts_match_with_or_without_a_port() {
        let list = AllowList {
            hosts: vec!["api.example.org".into(), "127.0.0.1:8080".into()],
        };
        assert!(list.allows("api.example.org"));
        assert!(list.allows("api.example.org:443"));
        assert!(list.allows("127.0.0.1:8080"));
        assert!(!list.allows("127.0.0.1:8081"));
        assert!(!list.allows("127.0.0.1"));
        assert!(!list.allows("evil.example.org"));
        assert!(!AllowList::default().allows("api.example.org"));
    }
}
