//! Outgoing HTTP for guests (`wasi:http`): the one place a guest's request
//! leaves its instance (`WasiHttpHooks::send_request`).
//!
//! A request goes, in this order:
//! - to the in-process router ([`RouteHttp`]), when one is registered and
//!   claims the request's authority (a module inside the engine);
//! - out of the engine, when the instance's [`OutsideHosts`] policy allows
//!   the authority (empty unless the instance's model grants hosts);
//! - nowhere otherwise: `HttpRequestDenied`, before a connection is made.

use std::sync::Arc;

use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::host_state::HostState;

/// Hosts outside the engine one instance may reach: `host` (any port) or
/// `host:port`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutsideHosts {
    pub hosts: Vec<String>,
}

impl OutsideHosts {
    /// Whether `entry` can be one of the hosts: a host name or address
    /// (`api.example.org`, `127.0.0.1`, `[::1]`), with or without a port.
    pub fn is_entry(entry: &str) -> bool {
        let port_ok = |port: Option<&str>| port.is_none_or(|p| p.parse::<u16>().is_ok());
        if let Some(rest) = entry.strip_prefix('[') {
            let Some((address, tail)) = rest.split_once(']') else {
                return false;
            };
            let port = match tail {
                "" => None,
                _ => match tail.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return false,
                },
            };
            return !address.is_empty()
                && address
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
                && port_ok(port);
        }
        let (host, port) = entry
            .rsplit_once(':')
            .map_or((entry, None), |(host, port)| (host, Some(port)));
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && port_ok(port)
    }

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

/// The response to a request, and the task that drives its body.
pub type ResponseFuture = Box<
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

/// Who sends a routed request: the calling module, and the call it is
/// serving, when it serves one (a service's request), so the trace and the
/// hop count carry on through every call it makes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub module: Arc<str>,
    /// The W3C `traceparent` of the request the caller serves.
    pub traceparent: Option<String>,
    /// How many routed calls led to the caller's request (0 from outside).
    pub hops: u32,
}

/// Routes requests to modules inside the engine, without a socket. A model
/// registers one with [`crate::Engine::route_http_with`].
pub trait RouteHttp: Send + Sync {
    /// Whether `authority` names something inside the engine.
    fn claims(&self, authority: &str) -> bool;

    /// Sends `request` from `caller` to what `authority` names.
    fn send(
        &self,
        caller: &Caller,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> ResponseFuture;
}

/// The routed request an instance serves: its trace and how many hops
/// led to it, passed on to every request the instance sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Serving {
    pub traceparent: String,
    pub hops: u32,
}

/// One instance's outgoing side: its `wasi:http` context and where its
/// requests may go.
pub struct Outgoing {
    ctx: WasiHttpCtx,
    hooks: Hooks,
}

struct Hooks {
    caller: Caller,
    router: Option<Arc<dyn RouteHttp>>,
    outside: OutsideHosts,
}

impl Outgoing {
    pub(crate) fn new(module: Arc<str>, router: Option<Arc<dyn RouteHttp>>) -> Self {
        Outgoing {
            ctx: WasiHttpCtx::default(),
            hooks: Hooks {
                caller: Caller {
                    module,
                    ..Caller::default()
                },
                router,
                outside: OutsideHosts::default(),
            },
        }
    }

    pub(crate) fn with_setup(mut self, outside: OutsideHosts, serving: Option<Serving>) -> Self {
        self.hooks.outside = outside;
        if let Some(serving) = serving {
            self.hooks.caller.traceparent = Some(serving.traceparent);
            self.hooks.caller.hops = serving.hops;
        }
        self
    }
}

impl WasiHttpHooks for Hooks {
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
        if let Some(router) = self.router.as_ref().filter(|r| r.claims(&authority)) {
            return router.send(&self.caller, request, options);
        }
        if !self.outside.allows(&authority) {
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

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let (outgoing, table) = self.http_parts();
        WasiHttpCtxView {
            hooks: &mut outgoing.hooks,
            table,
            ctx: &mut outgoing.ctx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OutsideHosts;

    #[test]
    fn hosts_match_with_or_without_a_port() {
        let list = OutsideHosts {
            hosts: vec!["api.example.org".into(), "127.0.0.1:8080".into()],
        };
        assert!(list.allows("api.example.org"));
        assert!(list.allows("api.example.org:443"));
        assert!(list.allows("127.0.0.1:8080"));
        assert!(!list.allows("127.0.0.1:8081"));
        assert!(!list.allows("127.0.0.1"));
        assert!(!list.allows("evil.example.org"));
        assert!(!OutsideHosts::default().allows("api.example.org"));
    }

    #[test]
    fn entries_are_hosts_or_addresses_with_an_optional_port() {
        for good in [
            "api.example.org",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(OutsideHosts::is_entry(good), "{good}");
        }
        for bad in [
            "", "http://x", "x/y", "a b", "x:99999", "[::1", "[::1]x", "::1",
        ] {
            assert!(!OutsideHosts::is_entry(bad), "{bad}");
        }
        let list = OutsideHosts {
            hosts: vec!["[::1]".into()],
        };
        assert!(list.allows("[::1]:8080"));
    }
}
