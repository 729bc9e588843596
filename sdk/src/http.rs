//! Outgoing HTTP from a guest, over `wasi:http`.
//!
//! Services reach each other as `http://{namespace}.{module}/{path}`: the
//! engine routes those requests in-process to the service module, whatever
//! library made them. Anything else goes out only to hosts the project
//! allows the module to reach (`wbx.toml`: an effect's in `[effects.allow-http]`,
//! a service's in its `[modules.NAME] allow-http`);
//! the rest fails with `HttpRequestDenied`.
//!
//! ```ignore
//! let response = wbx_guest::http::post("http://127.0.0.1:8080/hooks", b"{\"ok\":true}")?;
//! assert_eq!(response.status, 200);
//!
//! let stock = wbx_guest::http::request(
//!     "GET",
//!     "http://shop.stock/items/7",
//!     &[("accept", "application/json")],
//!     &[],
//! )?;
//! let kind = stock.header("content-type");
//! ```

use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::{InputStream, StreamError};

/// A response, its body read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The headers in order; names are lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("the body is not the JSON expected: {e}"))
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, String> {
    request("GET", url, &[], &[])
}

/// `POST url` with a JSON body.
pub fn post(url: &str, body: &[u8]) -> Result<Response, String> {
    request("POST", url, &[("content-type", "application/json")], body)
}

/// Sends a request with `headers` and `body` and waits for the whole
/// response. An `Err` means no response came: the request was denied or
/// failed (the `wasi:http` error code, as `Debug`); any status, 4xx and 5xx
/// included, is an `Ok`.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    let (scheme, authority, path) = split_url(url)?;
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("header {name}: {e:?}"))?;
    }
    let request = OutgoingRequest::new(fields);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_owned()),
    };
    let scheme = if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request.set_method(&method).map_err(|()| "bad method")?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "bad scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "bad authority")?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| "bad path")?;

    let outgoing = request.body().map_err(|()| "request body taken")?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    if let Err(write_error) = write_body(outgoing, body) {
        // A refused request closes the body stream; its response, ready
        // within moments, says why.
        let timer = wasip2::clocks::monotonic_clock::subscribe_duration(1_000_000_000);
        wasip2::io::poll::poll(&[&future.subscribe(), &timer]);
        return Err(match future.get() {
            Some(Ok(Err(code))) => format!("{code:?}"),
            _ => write_error,
        });
    }
    future.subscribe().block();
    let response = future
        .get()
        .ok_or("no response")?
        .map_err(|()| "response taken")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let headers = lowered(&response.headers());
    let incoming = response.consume().map_err(|()| "response body taken")?;
    let stream = incoming
        .stream()
        .map_err(|()| "response body stream taken")?;
    let body = read_all(&stream).map_err(|e| format!("reading the response body: {e:?}"))?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn write_body(outgoing: OutgoingBody, body: &[u8]) -> Result<(), String> {
    {
        let stream = outgoing.write().map_err(|()| "request body stream taken")?;
        for chunk in body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the request body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))
}

/// `http://host:port/path?q` → (`http`, `host:port`, `/path?q`).
fn split_url(url: &str) -> Result<(&str, &str, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("'{url}' is not an absolute http(s) URL"))?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("'{url}': only http and https are supported"));
    }
    // The authority ends at the path or, when there is none, the query.
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    Ok((scheme, authority, path))
}

// What reading a message takes, in either direction: a response here, a
// service's incoming request in `service`.

/// The first value of header `name` (any case) in `headers`.
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `fields` in order, names in lower case, values as text (invalid UTF-8
/// replaced).
pub(crate) fn lowered(fields: &Fields) -> Vec<(String, String)> {
    fields
        .entries()
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect()
}

/// Everything `stream` gives until it closes; an error is how it failed
/// before that (never `Closed`).
pub(crate) fn read_all(stream: &InputStream) -> Result<Vec<u8>, StreamError> {
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(body),
            Err(e) => return Err(e),
        }
    }
}
