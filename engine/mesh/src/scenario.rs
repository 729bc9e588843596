//! Scenario tests of a project's services (`wbx test`).
//!
//! A project keeps them in `scenarios/services/*.toml` (beside the events
//! model's `scenarios/*.toml`, in a folder of their own so each model reads
//! its files strictly), each file a list of `[[scenario]]` tables:
//!
//! ```toml
//! [[scenario]]
//! name = "front greets through the greeter"
//! service = "front"                       # a service module (or its address, `demo.front`)
//! request = { method = "GET", path = "/hello/ada", headers = { accept = "text/plain" } }
//! # a body: `request.body = "text"`, or `request.json = { … }` (sent as application/json)
//! expect = { status = 200, headers = { x-greeted-by = "greeter" }, body = "hello, ada!\n" }
//! # or `expect.json = { … }`: the answer is JSON holding at least these fields
//! ```
//!
//! `request.method` defaults to `GET`, `request.path` to `/`,
//! `expect.status` to 200. Expected headers are a subset (names in any
//! case, values exact); `expect.body` is the whole body, exactly;
//! `expect.json` is a subset of the body's JSON (objects compared key by
//! key, anything else whole).
//!
//! Every scenario runs on scratch state of its own against the project's
//! built components, loaded once into one engine: each registered model's
//! runtime is opened over the scratch state (as `wbx run` opens them over
//! the project's), so a service's calls to other services go through the
//! mesh, and the commands it executes run on a scratch event store, empty
//! at the start. Nothing is started: projectors and effects do not run, so
//! read models are empty. The request goes through
//! [`MeshRuntime::dispatch`] as one from the gateway. On failure the
//! outcome carries a unified diff of what was expected against what came,
//! both written the same way (the answer cut down to what is expected), so
//! the diff shows only what differs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use serde_json::Value as Json;
use toml::Spanned;
use wbx_core::host_http::Caller;
use wbx_core::project::Project;
use wbx_core::scenario::{self as shared, Problem, Table, diff, flatten, listing, shaped};

use crate::kinds::SERVICE;
use crate::runtime::{GATEWAY, MeshRuntime};

pub use wbx_core::scenario::Outcome;

/// Where a project keeps its service scenario files.
pub const DIR: &str = "scenarios/services";

/// The longest one request may take, its body included: beyond any
/// service's own timeout, so it only ends a scenario that would hang.
const ANSWER: Duration = Duration::from_secs(60);

/// One scenario, read and checked; its module is the service it sends its
/// request to.
pub type Scenario = shared::Scenario<Test>;

/// What a scenario sends, and what it expects back.
#[derive(Debug, Clone)]
pub struct Test {
    request: Sent,
    expect: Expected,
}

#[derive(Debug, Clone)]
struct Sent {
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Expected {
    status: u16,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Option<ExpectedBody>,
}

#[derive(Debug, Clone)]
enum ExpectedBody {
    Text(String),
    Json(Json),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    service: Spanned<String>,
    #[serde(default)]
    request: Option<Spanned<RawRequest>>,
    expect: Spanned<RawExpect>,
}

impl Table for RawScenario {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    json: Option<Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<Spanned<u16>>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    json: Option<Json>,
}

/// Reads every `scenarios/services/*.toml` of the project, in name order.
/// The first bad file stops it, with the file, line and column of the problem.
pub fn load(project: &Project) -> Result<Vec<Scenario>> {
    shared::read(project, DIR, |text, file| parse(text, file, project))
}

/// The scenarios of one file's `text`; `file` names it in errors.
pub fn parse(text: &str, file: &Path, project: &Project) -> Result<Vec<Scenario>> {
    shared::parse(text, file, |raw| checked(raw, project))
}

/// The scenario's service, request and expectation, or what is wrong and where.
fn checked(raw: RawScenario, project: &Project) -> Result<(String, Test), Problem> {
    let services: Vec<_> = project
        .modules
        .iter()
        .filter(|m| m.kind == SERVICE)
        .collect();
    let wanted = raw.service.get_ref();
    let module = services
        .iter()
        .find(|m| {
            m.name == *wanted
                || m.namespace
                    .as_deref()
                    .is_some_and(|ns| format!("{ns}.{}", m.name) == *wanted)
        })
        .map(|m| m.name.clone())
        .ok_or_else(|| {
            (
                Some(raw.service.span()),
                format!(
                    "no service named '{wanted}' in this project; services: {}",
                    listing(services.iter().map(|m| m.name.as_str()))
                ),
            )
        })?;
    let request_span = raw.request.as_ref().map(Spanned::span);
    let request = sent(raw.request.map(Spanned::into_inner).unwrap_or_default())
        .map_err(|(at, message)| (at.or(request_span), message))?;
    let expect_span = raw.expect.span();
    let expect =
        expected(raw.expect.into_inner()).map_err(|(at, m)| (at.or(Some(expect_span)), m))?;
    Ok((module, Test { request, expect }))
}

fn sent(raw: RawRequest) -> Result<Sent, Problem> {
    let method = match raw.method {
        Some(method) => Method::from_bytes(method.get_ref().to_ascii_uppercase().as_bytes())
            .map_err(|_| {
                (
                    Some(method.span()),
                    format!("'{}' is not an HTTP method", method.get_ref()),
                )
            })?,
        None => Method::GET,
    };
    let path = match raw.path {
        Some(path) if !path.get_ref().starts_with('/') => {
            return Err((
                Some(path.span()),
                format!(
                    "the path '{}' must start with '/' (the service is named by `service`)",
                    path.get_ref()
                ),
            ));
        }
        Some(path) => path.into_inner(),
        None => "/".to_owned(),
    };
    let mut headers = raw
        .headers
        .iter()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| (None, format!("'{name}' is not a header name")))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                (
                    None,
                    format!("header {name}: '{value}' is not a header value"),
                )
            })?;
            Ok((name, value))
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let body = match (raw.body, raw.json) {
        (Some(_), Some(_)) => {
            return Err((
                None,
                "a request has a `body` or a `json`, not both".to_owned(),
            ));
        }
        (Some(text), None) => text.into_bytes(),
        (None, Some(json)) => {
            if !headers
                .iter()
                .any(|(n, _)| *n == http::header::CONTENT_TYPE)
            {
                headers.push((
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ));
            }
            json.to_string().into_bytes()
        }
        (None, None) => Vec::new(),
    };
    Ok(Sent {
        method,
        path,
        headers,
        body,
    })
}

fn expected(raw: RawExpect) -> Result<Expected, Problem> {
    let status = match raw.status {
        Some(status) if !(100..=599).contains(status.get_ref()) => {
            return Err((
                Some(status.span()),
                format!("{} is not an HTTP status", status.get_ref()),
            ));
        }
        Some(status) => status.into_inner(),
        None => 200,
    };
    let body = match (raw.body, raw.json) {
        (Some(_), Some(_)) => {
            return Err((
                None,
                "expect the body as text (`body`) or as JSON (`json`), not both".to_owned(),
            ));
        }
        (Some(text), None) => Some(ExpectedBody::Text(text)),
        (None, Some(json)) => Some(ExpectedBody::Json(json)),
        (None, None) => None,
    };
    Ok(Expected {
        status,
        headers: raw
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect(),
        body,
    })
}

/// Runs `scenarios` against the project's built components, each on
/// scratch state of its own; `on_outcome` sees each result as it comes.
pub async fn run(
    project: &Project,
    scenarios: &[Scenario],
    on_outcome: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    shared::run_in_models(project, scenarios, on_outcome, async |mesh, scenario| {
        let answer = answer(mesh, scenario).await?;
        Ok(compare(&scenario.test.expect, &answer))
    })
    .await
}

/// The answer to a scenario's request, its body read whole.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    /// The body, or why it ended early.
    body: Result<Vec<u8>, String>,
}

async fn answer(mesh: &Arc<MeshRuntime>, scenario: &Scenario) -> Result<Answer> {
    let service = mesh
        .services()
        .into_iter()
        .find(|s| s.module == scenario.module)
        .with_context(|| format!("service '{}' has no namespace", scenario.module))?;
    let address = service.address();
    let sent = &scenario.test.request;
    let mut request = http::Request::builder()
        .method(sent.method.clone())
        .uri(format!("http://{address}{}", sent.path))
        .header(http::header::HOST, &address);
    // `wbx-*` headers are dropped by the call path, as for the gateway's.
    for (name, value) in &sent.headers {
        request = request.header(name, value);
    }
    if !sent.body.is_empty() {
        request = request.header(http::header::CONTENT_LENGTH, sent.body.len());
    }
    let request = request
        .body(
            Full::new(Bytes::from(sent.body.clone()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .with_context(|| format!("cannot make the request {} {}", sent.method, sent.path))?;
    let caller = Caller {
        module: GATEWAY.into(),
        traceparent: None,
        hops: 0,
    };
    let whole = async {
        let response = mesh.dispatch(&caller, request).await;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .map_err(|e| format!("the body ended early: {e}"));
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    };
    tokio::time::timeout(ANSWER, whole).await.with_context(|| {
        format!(
            "no whole answer from '{}' within {} s",
            scenario.module,
            ANSWER.as_secs()
        )
    })
}

/// `None` when `answer` is what was expected, else the diff. Both sides
/// are written the same way, one fact a line:
///
/// ```text
/// status: 200
/// header content-type: application/json
/// json.greeting: "hello, ada"
/// ```
fn compare(expect: &Expected, answer: &Answer) -> Option<String> {
    let mut expected = vec![format!("status: {}", expect.status)];
    let mut actual = vec![format!("status: {}", answer.status)];
    for (name, value) in &expect.headers {
        expected.push(format!("header {name}: {value}"));
        let values: Vec<_> = answer
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        actual.push(if values.is_empty() {
            format!("header {name}: (none)")
        } else {
            format!("header {name}: {}", values.join(", "))
        });
    }
    match &expect.body {
        Some(ExpectedBody::Text(text)) => {
            body_lines(text.as_bytes(), &mut expected);
            actual_body(answer, &mut actual);
        }
        Some(ExpectedBody::Json(shape)) => {
            expected.extend(flatten("json", shape));
            match &answer.body {
                Ok(bytes) => match serde_json::from_slice::<Json>(bytes) {
                    Ok(json) => actual.extend(flatten("json", &shaped(&json, shape))),
                    Err(_) => {
                        actual.push("json: (the body is not JSON)".to_owned());
                        body_lines(bytes, &mut actual);
                    }
                },
                Err(why) => actual.push(format!("body: ({why})")),
            }
        }
        // Unasked, the body still says why a status differs (a mesh
        // refusal names what went wrong).
        None if expect.status != answer.status => actual_body(answer, &mut actual),
        None => {}
    }
    diff(&expected.join("\n"), &actual.join("\n"))
}

fn actual_body(answer: &Answer, out: &mut Vec<String>) {
    match &answer.body {
        Ok(bytes) => body_lines(bytes, out),
        Err(why) => out.push(format!("body: ({why})")),
    }
}

/// A body a line at a time, each quoted as a JSON string, so the end of
/// a line and what is invisible show: `body: "hello, ada!\n"`.
fn body_lines(bytes: &[u8], out: &mut Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    if text.is_empty() {
        out.push("body: \"\"".to_owned());
    }
    for line in text.split_inclusive('\n') {
        out.push(format!("body: {}", Json::from(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Answer {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_static(value));
        }
        Answer {
            status,
            headers: map,
            body: Ok(body.as_bytes().to_vec()),
        }
    }

    #[test]
    fn an_answer_matches_when_it_holds_what_is_expected() {
        let expect = Expected {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(ExpectedBody::Json(
                json!({"greeting": "hi", "to": {"name": "ada"}}),
            )),
        };
        let more = answer(
            200,
            &[("content-type", "application/json"), ("x-other", "1")],
            r#"{"greeting":"hi","to":{"name":"ada","id":7},"at":3}"#,
        );
        assert_eq!(compare(&expect, &more), None);
    }

    #[test]
    fn a_difference_shows_only_what_differs() {
        let expect = Expected {
            status: 200,
            headers: vec![("x-greeted-by".into(), "greeter".into())],
            body: Some(ExpectedBody::Text("hello, ada!\n".into())),
        };
        let diff = compare(&expect, &answer(200, &[], "hello, bob!\n")).unwrap();
        assert_eq!(
            diff,
            "--- expected\n+++ actual\n@@ -1,3 +1,3 @@\n status: 200\n\
             -header x-greeted-by: greeter\n-body: \"hello, ada!\\n\"\n\
             +header x-greeted-by: (none)\n+body: \"hello, bob!\\n\"\n"
        );
    }

    #[test]
    fn an_unexpected_status_shows_the_body_that_says_why() {
        let expect = Expected {
            status: 200,
            headers: Vec::new(),
            body: None,
        };
        let diff = compare(&expect, &answer(502, &[], "no service answers to 'a.b'\n")).unwrap();
        assert!(
            diff.ends_with(
                "-status: 200\n+status: 502\n+body: \"no service answers to 'a.b'\\n\"\n"
            ),
            "{diff}"
        );
    }
}
