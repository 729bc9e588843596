//! Services: modules that answer HTTP requests.
//!
//! A service exports the standard `wasi:http/incoming-handler@0.2.x` (the
//! `wasi:http/proxy` world), so any `wasi:http` component is one; this module
//! is the plain way to write one in Rust. The engine makes a fresh instance
//! for each request. A crate declares itself with
//!
//! ```toml
//! [package.metadata.wbx]
//! kind = "service"
//! namespace = "shop"
//! ```
//!
//! and is reached as `http://{namespace}.{module}/{path}`, by the engine's
//! clients and by other services through ordinary outgoing HTTP
//! ([`crate::http`]), which the engine routes in-process. Beyond WASI and
//! `wasi:http`, a service may log ([`crate::log`]), execute the project's
//! commands ([`crate::commands`]) and query read models
//! ([`crate::read_model`]).
//!
//! [`Service::handle`] gets the whole request (its body read) and returns a
//! [`Response`]: whole, or streamed with [`Response::stream`], where the head
//! goes out first and each chunk is flushed as it is written.
//!
//! ```ignore
//! use wbx_guest::service::{Request, Response, Service};
//!
//! struct Hello;
//! impl Service for Hello {
//!     fn handle(request: Request) -> Response {
//!         match (request.method.as_str(), request.path_only()) {
//!             ("GET", "/hello") => Response::text("hello"),
//!             ("GET", "/ticks") => Response::stream(200, vec![], |body| {
//!                 for i in 0..3 {
//!                     body.write(format!("tick {i}\n").as_bytes())?;
//!                 }
//!                 Ok(())
//!             }),
//!             _ => Response::status(404),
//!         }
//!     }
//! }
//! wbx_guest::export_service!(Hello);
//! ```

use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasip2::io::streams::{OutputStream, StreamError};

/// A service: one call per request, on a fresh instance.
pub trait Service {
    fn handle(request: Request) -> Response;
}

/// An incoming request, its body read whole.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, … (upper case, as sent).
    pub method: String,
    /// The path and query: `/orders/7?full=1`.
    pub path: String,
    /// The headers in order; names are lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::header(&self.headers, name)
    }

    /// The path without its query: `/orders/7`.
    pub fn path_only(&self) -> &str {
        self.path.split_once('?').map_or(&self.path, |(p, _)| p)
    }

    /// The query string without `?`, empty when there is none.
    pub fn query_string(&self) -> &str {
        self.path.split_once('?').map_or("", |(_, q)| q)
    }

    /// The first value of query parameter `name`, percent-decoded (`+` is a space).
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_string()
            .split('&')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key) == name).then(|| percent_decode(value))
            })
            .next()
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, String> {
        std::str::from_utf8(&self.body).map_err(|e| format!("the body is not UTF-8: {e}"))
    }

    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("the body is not the JSON expected: {e}"))
    }
}

/// Decodes `%XX` escapes and `+` (a space) of a URL query component; invalid
/// escapes stay as they are, invalid UTF-8 is replaced.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// A response: status, headers and a body, whole or streamed.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// A response's body.
pub enum Body {
    /// Sent at once.
    Bytes(Vec<u8>),
    /// Written after the head has gone out, chunk by chunk.
    Stream(WriteBody),
}

/// What writes a streamed body: see [`Response::stream`].
pub type WriteBody = Box<dyn FnOnce(&mut BodyWriter) -> Result<(), String>>;

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            Body::Bytes(bytes) => format!("{} bytes", bytes.len()),
            Body::Stream(_) => "stream".to_owned(),
        };
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .finish()
    }
}

impl Response {
    /// `200` with `body`, no content type.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Response::status(200).with_body(body)
    }

    /// `200` with `body` as `text/plain; charset=utf-8`.
    pub fn text(body: impl Into<String>) -> Self {
        Response::ok(body.into()).with_header("content-type", "text/plain; charset=utf-8")
    }

    /// `200` with `value` as `application/json` (`500` if it cannot be serialised).
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Response::ok(body).with_header("content-type", "application/json"),
            Err(e) => Response::status(500).with_body(format!("serialising the response: {e}")),
        }
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
        }
    }

    /// A streamed response: the head (`status`, `headers`) goes out first,
    /// then `write` writes the body; each [`BodyWriter::write`] is flushed
    /// to the client before it returns. An error from `write` ends the body
    /// (what was written stays written).
    pub fn stream(
        status: u16,
        headers: Vec<(String, String)>,
        write: impl FnOnce(&mut BodyWriter) -> Result<(), String> + 'static,
    ) -> Self {
        Response {
            status,
            headers,
            body: Body::Stream(Box::new(write)),
        }
    }

    /// The same response with another status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same response with `body` (sent at once).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }
}

/// Writes a streamed response's body, flushing each chunk.
pub struct BodyWriter {
    stream: OutputStream,
}

impl BodyWriter {
    /// Writes `bytes` and waits until they are flushed to the client.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        // `blocking-write-and-flush` takes at most 4096 bytes at a time.
        for chunk in bytes.chunks(4096) {
            self.stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| stream_error("writing the response body", e))?;
        }
        Ok(())
    }
}

impl std::io::Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BodyWriter::write(self, buf).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits `millis` milliseconds: a host wait (`wasi:clocks/monotonic-clock`),
/// not a busy loop.
pub fn sleep_ms(millis: u64) {
    wasip2::clocks::monotonic_clock::subscribe_duration(millis.saturating_mul(1_000_000)).block();
}

fn stream_error(what: &str, error: StreamError) -> String {
    match error {
        StreamError::Closed => format!("{what}: the stream is closed"),
        StreamError::LastOperationFailed(e) => format!("{what}: {}", e.to_debug_string()),
    }
}

/// The incoming-handler's body for a [`Service`]: what [`export_service!`](crate::export_service) calls.
#[doc(hidden)]
pub fn serve<S: Service>(request: IncomingRequest, out: ResponseOutparam) {
    let request = match read_request(request) {
        Ok(request) => request,
        Err(e) => return send(out, Response::status(400).with_body(e)),
    };
    send(out, S::handle(request));
}

fn read_request(request: IncomingRequest) -> Result<Request, String> {
    let method = match request.method() {
        Method::Get => "GET".to_owned(),
        Method::Head => "HEAD".to_owned(),
        Method::Post => "POST".to_owned(),
        Method::Put => "PUT".to_owned(),
        Method::Delete => "DELETE".to_owned(),
        Method::Connect => "CONNECT".to_owned(),
        Method::Options => "OPTIONS".to_owned(),
        Method::Trace => "TRACE".to_owned(),
        Method::Patch => "PATCH".to_owned(),
        Method::Other(other) => other,
    };
    let path = request.path_with_query().unwrap_or_else(|| "/".to_owned());
    let headers = crate::http::lowered(&request.headers());
    let incoming = request.consume().map_err(|()| "request body taken")?;
    let body = {
        // The stream is a child of `incoming`: dropped before it finishes.
        let stream = incoming
            .stream()
            .map_err(|()| "request body stream taken")?;
        crate::http::read_all(&stream).map_err(|e| stream_error("reading the request body", e))?
    };
    drop(wasip2::http::types::IncomingBody::finish(incoming));
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

fn send(out: ResponseOutparam, response: Response) {
    let fields = Fields::new();
    for (name, value) in &response.headers {
        if let Err(e) = fields.append(name, value.as_bytes()) {
            let message = format!("the service answered an invalid header {name}: {e:?}");
            crate::log::error(&message);
            return send(out, Response::status(500).with_body(message));
        }
    }
    let outgoing = OutgoingResponse::new(fields);
    if outgoing.set_status_code(response.status).is_err() {
        let message = format!("the service answered an invalid status {}", response.status);
        crate::log::error(&message);
        return send(out, Response::status(500).with_body(message));
    }
    let Ok(body) = outgoing.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(outgoing));
    let Ok(stream) = body.write() else {
        return;
    };
    let mut writer = BodyWriter { stream };
    let written = match response.body {
        Body::Bytes(bytes) => writer.write(&bytes),
        Body::Stream(write) => write(&mut writer),
    };
    drop(writer);
    match written {
        Ok(()) => {
            let _ = OutgoingBody::finish(body, None);
        }
        Err(e) => {
            // The head is out: the body is left unfinished, so the client
            // sees a broken transfer, not a shorter answer that looks whole.
            crate::log::warn(&e);
            drop(body);
        }
    }
}

/// Exports a [`Service`] as `wasi:http/incoming-handler`.
///
/// ```ignore
/// struct Shop;
/// impl wbx_guest::service::Service for Shop { /* … */ }
/// wbx_guest::export_service!(Shop);
/// ```
#[macro_export]
macro_rules! export_service {
    ($service:ty) => {
        const _: () = {
            struct __WbxIncomingHandler;
            impl $crate::__private::wasip2::exports::http::incoming_handler::Guest
                for __WbxIncomingHandler
            {
                fn handle(
                    request: $crate::__private::wasip2::http::types::IncomingRequest,
                    out: $crate::__private::wasip2::http::types::ResponseOutparam,
                ) {
                    $crate::service::serve::<$service>(request, out)
                }
            }
            $crate::__private::wasip2::http::proxy::export!(
                __WbxIncomingHandler with_types_in $crate::__private::wasip2
            );
        };
    };
}
