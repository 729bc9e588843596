//! [`MeshRuntime`]: the services of one engine, and the one call path every
//! request to a service takes, from the gateway or from a module
//! ([`MeshRuntime::dispatch`]): resolve `{namespace}.{module}`, check the
//! hop limit, the circuit breaker, the body limit and the concurrency
//! limit, make a fresh instance of the active version, and stream the
//! answer back while it is recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use anyhow::Result;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};
use wbx_core::api::Closing;
use wbx_core::capability::Capabilities;
use wbx_core::host_http::{Caller, Serving};
use wbx_core::project::{Manifest, ModuleDecl};
use wbx_core::sync::{lock, read, write};
use wbx_core::{
    BoxFuture, Engine, Extensions, Failure, GuestError, InstanceSetup, ModuleState, Runtime,
};

use crate::bindings::ServicePre;
use crate::body::{BodyEnd, Inflow, Limited, Tracked};
use crate::breaker::{Admitted, Breaker, BreakerState};
use crate::calls::{CallRecord, Calls, body_text, unix_ms};
use crate::kinds::SERVICE;
use crate::observe::MeshObservation;
use crate::settings::{MeshSettings, ServiceSettings};
use crate::trace::TraceParent;

/// Who calls from outside the engine.
pub const GATEWAY: &str = "gateway";
/// The header that names the calling module to a service; set by the
/// engine only (the gateway strips every `wbx-*` header a client sends).
pub const CALLER_HEADER: &str = "wbx-caller";

/// A service as the mesh addresses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub module: String,
    pub namespace: String,
}

impl Service {
    pub fn address(&self) -> String {
        format!("{}.{}", self.namespace, self.module)
    }
}

/// Requests served at once by one service, and those waiting.
struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    concurrency: usize,
}

pub struct MeshRuntime {
    engine: Arc<Engine>,
    capabilities: Arc<Capabilities>,
    /// By address (`shop.catalog`).
    services: RwLock<BTreeMap<String, Service>>,
    settings: RwLock<MeshSettings>,
    breakers: Mutex<HashMap<String, Breaker>>,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
    pub(crate) calls: Mutex<Calls>,
}

impl MeshRuntime {
    pub fn new(
        engine: Arc<Engine>,
        capabilities: Arc<Capabilities>,
        modules: &[ModuleDecl],
        settings: MeshSettings,
    ) -> Arc<Self> {
        let runtime = Arc::new(MeshRuntime {
            engine,
            capabilities,
            services: RwLock::default(),
            calls: Mutex::new(Calls::new(settings.keep_calls, settings.keep_bodies)),
            settings: RwLock::new(settings),
            breakers: Mutex::default(),
            gates: Mutex::default(),
        });
        runtime.set_modules(modules);
        runtime
    }

    fn set_modules(&self, modules: &[ModuleDecl]) {
        *write(&self.services) = modules
            .iter()
            .filter(|m| m.kind == SERVICE)
            .filter_map(|m| {
                let service = Service {
                    module: m.name.clone(),
                    namespace: m.namespace.clone()?,
                };
                Some((service.address(), service))
            })
            .collect();
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Every service, by address.
    pub fn services(&self) -> Vec<Service> {
        read(&self.services).values().cloned().collect()
    }

    /// The service answering to `authority` (`shop.catalog`, any port ignored).
    pub fn resolve(&self, authority: &str) -> Option<Service> {
        read(&self.services).get(host_of(authority)).cloned()
    }

    /// Whether `authority` is for the mesh: a service's address, or a name
    /// in a namespace the project has (then an unknown service is a 502,
    /// not a request to the outside).
    pub fn claims(&self, authority: &str) -> bool {
        let host = host_of(authority);
        if host.len() != authority.len() {
            return false; // an address with a port is outside the engine
        }
        // `{namespace}.{module}`: two labels, the first a namespace of the
        // project (`api.example.org` stays outside, even with a namespace `api`).
        let services = read(&self.services);
        services.contains_key(host)
            || host.split_once('.').is_some_and(|(ns, module)| {
                !module.contains('.') && services.values().any(|s| s.namespace == ns)
            })
    }

    fn known_services(&self) -> String {
        let names: Vec<String> = read(&self.services).keys().cloned().collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// Requests of `module` being served and waiting for a turn now.
    pub fn in_flight(&self, module: &str) -> (usize, usize) {
        lock(&self.gates).get(module).map_or((0, 0), |gate| {
            (
                gate.concurrency - gate.permits.available_permits(),
                gate.waiting.load(Ordering::SeqCst),
            )
        })
    }

    /// The breaker state of a service.
    pub fn breaker(&self, module: &str) -> BreakerState {
        lock(&self.breakers)
            .get(module)
            .map_or(BreakerState::Closed, Breaker::state)
    }

    /// The one call path: `request` (its URI's authority names the
    /// service) from `caller`. Every outcome is an HTTP answer: the
    /// service's own, or the mesh's (502 unknown, 508 hop limit, 503
    /// breaker or concurrency, 413 body limit, 500 failure, 504 timeout).
    pub async fn dispatch(
        self: &Arc<Self>,
        caller: &Caller,
        request: http::Request<WasiBody>,
    ) -> http::Response<WasiBody> {
        // On a task of its own, so it runs to its end even when whoever
        // asked goes away (a client hanging up): the call is recorded and a
        // half-open breaker's probe is counted either way.
        let runtime = self.clone();
        let caller = caller.clone();
        match tokio::spawn(async move { runtime.route(&caller, request).await }).await {
            Ok(response) => response,
            Err(failed) => text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the mesh failed on this call: {failed}"),
            ),
        }
    }

    async fn route(
        self: &Arc<Self>,
        caller: &Caller,
        mut request: http::Request<WasiBody>,
    ) -> http::Response<WasiBody> {
        let started = Instant::now();
        let authority = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let trace = caller
            .traceparent
            .as_deref()
            .and_then(TraceParent::parse)
            .map_or_else(TraceParent::new, |t| t.child());
        let mut record = CallRecord {
            id: 0, // given when it ends, in the log's order
            at_ms: unix_ms(SystemTime::now()),
            caller: caller.module.to_string(),
            callee: authority.clone(),
            authority: authority.clone(),
            version: None,
            method: request.method().to_string(),
            path: request
                .uri()
                .path_and_query()
                .map_or("/".to_owned(), |p| p.to_string()),
            status: 0,
            latency_us: 0,
            bytes_in: 0,
            bytes_out: 0,
            trace_id: trace.trace_id.clone(),
            error: None,
            aborted: false,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            request_body: None,
            response_body: None,
        };
        let inflow = Arc::new(Inflow::default());
        let call = |record| Pending {
            record,
            started,
            inflow: inflow.clone(),
            admitted: None,
        };

        let Some(service) = self.resolve(&authority) else {
            let message = format!(
                "no service answers to '{authority}'; known services: {}",
                self.known_services()
            );
            return self.refuse(
                call(record),
                None,
                Counted::No,
                StatusCode::BAD_GATEWAY,
                message,
            );
        };
        record.callee = service.module.clone();
        let settings = read(&self.settings).service(&service.module);
        let max_hops = read(&self.settings).max_hops;
        let hops = caller.hops + 1;
        if hops > max_hops {
            let message = format!(
                "hop limit reached: this request is call {hops} of a chain through the mesh \
                 (at most {max_hops}, [mesh] max-hops); a service may be calling itself in a loop"
            );
            return self.refuse(
                call(record),
                Some(&service),
                Counted::No,
                StatusCode::LOOP_DETECTED,
                message,
            );
        }
        let admission = lock(&self.breakers)
            .entry(service.module.clone())
            .or_default()
            .admit(Instant::now());
        let admitted = match admission {
            Ok(admitted) => admitted,
            Err(refused) => {
                let message = format!(
                    "the circuit breaker of service '{}' is open after {} consecutive failures; \
                     the next try goes through in {} ms",
                    service.module,
                    refused.failures,
                    refused.retry_after.as_millis()
                );
                // Not counted again: the breaker itself refused it.
                return self.refuse(
                    call(record),
                    Some(&service),
                    Counted::No,
                    StatusCode::SERVICE_UNAVAILABLE,
                    message,
                );
            }
        };
        // From here on, a refusal frees the breaker's probe when this is it.
        let call = |record| Pending {
            admitted: Some(admitted),
            ..call(record)
        };
        if content_length(request.headers()).is_some_and(|length| length > settings.body_limit) {
            let message = over_body_limit(&service, &settings);
            return self.refuse(
                call(record),
                Some(&service),
                Counted::No,
                StatusCode::PAYLOAD_TOO_LARGE,
                message,
            );
        }
        let permit = match self.gate(&service.module, &settings).enter().await {
            Ok(permit) => permit,
            Err(message) => {
                // Never reached the service: not the service's failure.
                return self.refuse(
                    call(record),
                    Some(&service),
                    Counted::No,
                    StatusCode::SERVICE_UNAVAILABLE,
                    message,
                );
            }
        };

        let headers = request.headers_mut();
        strip_internal_headers(headers);
        headers.insert(
            HeaderName::from_static("traceparent"),
            HeaderValue::from_str(&trace.to_string()).expect("a traceparent is ASCII"),
        );
        if caller.module.as_ref() != GATEWAY
            && let Ok(value) = HeaderValue::from_str(&caller.module)
        {
            headers.insert(HeaderName::from_static(CALLER_HEADER), value);
        }
        record.request_headers = header_list(request.headers());
        let request = request
            .map(|body| Limited::new(body, settings.body_limit, inflow.clone()).boxed_unsync());

        let (head_tx, head_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let (version_tx, version_rx) = oneshot::channel();
        let setup = self.setup(&settings, trace.to_string(), hops);
        let engine = self.engine.clone();
        let module = service.module.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let outcome = serve(&engine, &module, setup, request, head_tx, version_tx).await;
            let _ = done_tx.send(outcome);
        });

        let head = head_rx.await;
        record.version = version_rx.await.ok();
        let over_limit = inflow.over_limit.load(Ordering::Relaxed);
        match head {
            // The service answered a body the limit cut short: the limit's answer.
            Ok(Ok(response)) if !over_limit => {
                self.stream(call(record), service, response, done_rx)
            }
            Ok(Err(code)) if !over_limit => {
                let message = format!(
                    "service '{}' answered with an error: {code:?}",
                    service.module
                );
                self.refuse(
                    call(record),
                    Some(&service),
                    Counted::Yes,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    message,
                )
            }
            _ => {
                // The service's answer, if any, goes: it may be holding the
                // service back from ending.
                drop(head);
                let (status, message) = match done_rx.await {
                    _ if inflow.over_limit.load(Ordering::Relaxed) => (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        over_body_limit(&service, &settings),
                    ),
                    Ok(Err(failure)) if failure.starts_with(TIMEOUT) => (
                        StatusCode::GATEWAY_TIMEOUT,
                        failure[TIMEOUT.len()..].to_owned(),
                    ),
                    Ok(Err(failure)) => (StatusCode::INTERNAL_SERVER_ERROR, failure),
                    _ => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!(
                            "service '{}' returned without sending a response",
                            service.module
                        ),
                    ),
                };
                // A body over the limit is the caller's doing, not the service's.
                let counted = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Counted::No
                } else {
                    Counted::Yes
                };
                self.refuse(call(record), Some(&service), counted, status, message)
            }
        }
    }

    /// What a service's instance gets: its timeout, the trace and hops of
    /// the request it serves, its outside hosts, commands and read models.
    fn setup(&self, settings: &ServiceSettings, traceparent: String, hops: u32) -> InstanceSetup {
        let mut extensions = Extensions::default();
        let trace_id = TraceParent::parse(&traceparent).map(|t| t.trace_id);
        self.capabilities.grant(&mut extensions, trace_id);
        InstanceSetup {
            fixed_clock: None,
            outside_hosts: settings.outside.clone(),
            extensions,
            call_timeout: Some(
                settings
                    .timeout
                    .unwrap_or(self.engine.limits().call_timeout),
            ),
            serving: Some(Serving { traceparent, hops }),
        }
    }

    fn gate(&self, module: &str, settings: &ServiceSettings) -> Arc<Gate> {
        let mut gates = lock(&self.gates);
        let gate = gates
            .get(module)
            .filter(|g| g.concurrency == settings.concurrency && g.queue == settings.queue);
        if let Some(gate) = gate {
            return gate.clone();
        }
        let gate = Arc::new(Gate {
            permits: Arc::new(Semaphore::new(settings.concurrency)),
            waiting: AtomicUsize::new(0),
            queue: settings.queue,
            concurrency: settings.concurrency,
        });
        gates.insert(module.to_owned(), gate.clone());
        gate
    }

    /// The service's answer, its body streamed through and recorded at its end.
    fn stream(
        self: &Arc<Self>,
        mut call: Pending,
        service: Service,
        response: http::Response<WasiBody>,
        done: oneshot::Receiver<Result<(), String>>,
    ) -> http::Response<WasiBody> {
        call.record.status = response.status().as_u16();
        call.record.response_headers = header_list(response.headers());
        let declared = content_length(response.headers());
        let runtime = self.clone();
        response.map(move |body| {
            Tracked::new(
                body,
                declared,
                done,
                Box::new(move |end, bytes, head| {
                    let record = &mut call.record;
                    record.bytes_out = bytes;
                    record.response_body = Some(body_text(&head));
                    match end {
                        BodyEnd::Complete => {}
                        BodyEnd::Aborted(why) => {
                            record.aborted = true;
                            let why = why.strip_prefix(TIMEOUT).unwrap_or(&why);
                            record.error = Some(format!("the body was aborted: {why}"));
                        }
                        BodyEnd::Abandoned => {
                            record.error = Some("the caller stopped reading the body".to_owned());
                        }
                    }
                    runtime.finish(call, Some(&service), Counted::Yes);
                }),
            )
            .boxed_unsync()
        })
    }

    /// An answer of the mesh's own instead of the service's, recorded
    /// (and, when `counted`, counted by the service's breaker).
    fn refuse(
        &self,
        mut call: Pending,
        service: Option<&Service>,
        counted: Counted,
        status: StatusCode,
        message: String,
    ) -> http::Response<WasiBody> {
        call.record.status = status.as_u16();
        call.record.error = Some(message.clone());
        self.finish(call, service, counted);
        text_response(status, message)
    }

    /// Records a finished call: the log, the figures, the breaker, and the
    /// observation.
    fn finish(&self, call: Pending, service: Option<&Service>, counted: Counted) {
        let Pending {
            mut record,
            started,
            inflow,
            admitted,
        } = call;
        record.latency_us = started.elapsed().as_micros() as u64;
        record.bytes_in = inflow.bytes.load(Ordering::Relaxed);
        record.request_body = Some(body_text(&lock(&inflow.head)));
        if let (Some(service), Some(admitted)) = (service, admitted) {
            let breaker_settings = read(&self.settings).breaker(&service.module);
            let outcome = (counted == Counted::Yes).then(|| !record.failed());
            let mut breakers = lock(&self.breakers);
            let breaker = breakers.entry(service.module.clone()).or_default();
            if let Some(state) = breaker.record(admitted, outcome, Instant::now(), breaker_settings)
            {
                MeshObservation::Breaker {
                    service: service.module.clone(),
                    state,
                    failures: breaker.failures(),
                }
                .publish(&self.engine);
            }
        }
        record.id = lock(&self.calls).record(record.clone(), service.map(|s| s.module.as_str()));
        MeshObservation::Call(Box::new(record)).publish(&self.engine);
    }

    /// The id of the latest call that ended (0 before any).
    pub fn last_call_id(&self) -> u64 {
        lock(&self.calls).last_id()
    }

    /// The latest calls after id `after`, at most `limit`.
    pub fn calls_since(&self, after: u64, limit: usize) -> Vec<CallRecord> {
        lock(&self.calls).since(after, limit)
    }

    pub fn call(&self, id: u64) -> Option<CallRecord> {
        lock(&self.calls).get(id)
    }

    pub fn apply_settings(&self, settings: MeshSettings) {
        lock(&self.calls).resize(settings.keep_calls, settings.keep_bodies);
        *write(&self.settings) = settings;
    }
}

/// A call being served: its record so far, when it started, and what its
/// request body let through.
struct Pending {
    record: CallRecord,
    started: Instant,
    inflow: Arc<Inflow>,
    /// How the breaker let it through (once it has).
    admitted: Option<Admitted>,
}

/// Whether a call's outcome counts for the service's breaker: the mesh's
/// refusals of calls that never reached the service (the breaker's own,
/// the hop limit, the body limit, the queue) do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Yes,
    No,
}

/// Marks a failure that was a timeout, for the 504.
const TIMEOUT: &str = "timeout: ";

/// Serves one request on a fresh instance of `module`'s active version:
/// the response head goes out through `head`, the body streams from the
/// instance while this runs. The outcome says how the call ended.
async fn serve(
    engine: &Engine,
    module: &str,
    setup: InstanceSetup,
    request: http::Request<WasiBody>,
    head: oneshot::Sender<
        Result<http::Response<WasiBody>, wasmtime_wasi_http::p2::bindings::http::types::ErrorCode>,
    >,
    version: oneshot::Sender<String>,
) -> Result<(), String> {
    let mut guest = engine
        .instantiate::<ServicePre>(module, setup)
        .await
        .map_err(|e| explain(module, e))?;
    let _ = version.send(guest.module().version.to_string());
    guest
        .call(|proxy, store| async move {
            let mut http = store.data_mut().http();
            let request = http.new_incoming_request(Scheme::Http, request)?;
            let out = http.new_response_outparam(head)?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut *store, request, out)
                .await
        })
        .await
        .map_err(|e| explain(module, e.into()))
}

/// A service's failure in words; a timeout marked for the 504.
fn explain(module: &str, error: anyhow::Error) -> String {
    match error.downcast_ref::<GuestError>() {
        Some(GuestError {
            failure: Failure::Timeout(limit),
            ..
        }) => format!(
            "{TIMEOUT}service '{module}' did not answer within its timeout of {} ms \
             ([modules.{module}] timeout-ms)",
            limit.as_millis()
        ),
        Some(error) => format!("service '{module}' failed: {error}"),
        None => format!("service '{module}' could not serve: {error:#}"),
    }
}

impl Gate {
    /// Waits for a turn, unless the queue is full.
    async fn enter(self: Arc<Self>) -> Result<OwnedSemaphorePermit, String> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(format!(
                "over the concurrency limit: {} requests served at once and {} waiting \
                 (concurrency and queue in the service's [modules.NAME] table)",
                self.concurrency, self.queue
            ));
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| "the service is shutting down".to_owned())
    }
}

/// Drops every `wbx-*` header: only the engine sets those, so no caller,
/// inside or outside, can pass for a module.
fn strip_internal_headers(headers: &mut HeaderMap) {
    let internal: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("wbx-"))
        .cloned()
        .collect();
    for name in internal {
        headers.remove(name);
    }
}

/// The length a message's `content-length` declares.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Why a request body is refused: over the service's limit.
fn over_body_limit(service: &Service, settings: &ServiceSettings) -> String {
    format!(
        "the request body is over service '{0}''s limit of {1} bytes ([modules.{0}] body-limit-kb)",
        service.module, settings.body_limit
    )
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The host of `authority`, without a port.
pub fn host_of(authority: &str) -> &str {
    authority
        .rsplit_once(':')
        .filter(|(_, port)| port.parse::<u16>().is_ok())
        .map_or(authority, |(host, _)| host)
}

/// A plain-text answer of the mesh's own.
pub fn text_response(status: StatusCode, message: String) -> http::Response<WasiBody> {
    let mut response = http::Response::new(
        Full::new(Bytes::from(message + "\n"))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert("wbx-mesh", HeaderValue::from_static("refused"));
    response
}

impl Runtime for MeshRuntime {
    fn start(self: Arc<Self>) {
        // Services run per request: nothing to start until one comes.
    }

    fn module_swapped(self: Arc<Self>, _module: &str) {
        // New requests get a fresh instance of the active version; those
        // in flight keep theirs.
    }

    fn modules_changed(&self, modules: &[ModuleDecl]) {
        self.set_modules(modules);
    }

    fn apply(self: Arc<Self>, manifest: &Manifest) -> BoxFuture<'static, Result<()>> {
        let services: Vec<String> = read(&self.services)
            .values()
            .map(|s| s.module.clone())
            .collect();
        let settings = crate::settings::settings(manifest, &services);
        Box::pin(async move {
            self.apply_settings(settings?);
            Ok(())
        })
    }

    fn shutdown(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }

    fn routes(self: Arc<Self>, closing: Closing) -> axum::Router {
        crate::api::routes(self, closing)
    }

    fn states(&self) -> Vec<ModuleState> {
        read(&self.services)
            .values()
            .map(|s| {
                let state = self.breaker(&s.module);
                ModuleState {
                    module: s.module.clone(),
                    state: format!("serving {} · breaker {}", s.address(), state.as_str()),
                    stopped: None,
                    retrying: (state != BreakerState::Closed)
                        .then(|| format!("circuit breaker {}", state.as_str())),
                }
            })
            .collect()
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}
