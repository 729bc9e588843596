//! A service for the engine's tests: each route does one thing a service
//! may do (answer, echo, stream, wait, call another service, execute a
//! command, query a read model) or misbehave (trap before or after the
//! head, loop, exhaust memory). `echo-v2` builds this source under another
//! name and version; `/hello` says which.
//!
//! | route | answer |
//! |---|---|
//! | `GET /hello` | `hello from echo` (`hello from echo v2` in `echo-v2`) |
//! | `POST /echo` | the body and its `content-type`; `x-echo-method` |
//! | `GET /headers` | the request's headers as a JSON object |
//! | `GET /env/{NAME}` | the variable's value, 404 when unset |
//! | `GET /status/{N}` | status N, `status N` |
//! | `GET /trap` | panics before answering |
//! | `GET /trap-after-head` | head 200, `first\n` flushed, then panics |
//! | `GET /loop` | loops forever |
//! | `GET /sleep/{ms}` | a host wait of ms milliseconds, then `slept {ms}` |
//! | `GET /stream/{n}` | head first, then `chunk {i}\n` n times, 100 ms apart |
//! | `ANY /call/{authority}/{rest…}` | forwards to `http://{authority}/{rest…}` |
//! | `GET /self-loop` | calls `http://test.echo/self-loop` |
//! | `GET /repeat/{n}/{authority}/{rest…}` | `GET http://{authority}/{rest…}` n times from this one instance; `n calls, n ok` |
//! | `POST /exec/{command}` | executes the command with the body as input |
//! | `GET /query/{projector}?sql=…` | the read model's rows as JSON |
//! | `GET /memory` | allocates until it fails |
//! | `GET /print` | a stdout and a stderr line, then `printed` |

use std::hint::black_box;

use wbx_guest::commands::{self, Failure};
use wbx_guest::service::{Request, Response, Service, sleep_ms};

const V2: bool = env!("CARGO_PKG_NAME").len() > "echo".len();

struct Echo;

impl Service for Echo {
    fn handle(request: Request) -> Response {
        let method = request.method.clone();
        let path = request.path_only().to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["hello"]) if V2 => Response::ok("hello from echo v2"),
            ("GET", ["hello"]) => Response::ok("hello from echo"),
            ("POST", ["echo"]) => echo(request),
            ("GET", ["headers"]) => headers(&request),
            ("GET", ["env", name]) => match std::env::var(name) {
                Ok(value) => Response::ok(value),
                Err(_) => Response::status(404).with_body(format!("{name} is not set")),
            },
            ("GET", ["status", n]) => match n.parse::<u16>() {
                Ok(n) => Response::status(n).with_body(format!("status {n}")),
                Err(_) => bad_request(format!("'{n}' is no status")),
            },
            ("GET", ["trap"]) => panic!("echo was asked to trap"),
            ("GET", ["trap-after-head"]) => Response::stream(200, vec![], |body| {
                body.write(b"first\n")?;
                panic!("echo was asked to trap after the head");
            }),
            ("GET", ["loop"]) => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            ("GET", ["sleep", ms]) => match ms.parse::<u64>() {
                Ok(ms) => {
                    sleep_ms(ms);
                    Response::ok(format!("slept {ms}"))
                }
                Err(_) => bad_request(format!("'{ms}' is no number of milliseconds")),
            },
            ("GET", ["stream", n]) => match n.parse::<u32>() {
                Ok(n) => Response::stream(200, vec![], move |body| {
                    for i in 0..n {
                        if i > 0 {
                            sleep_ms(100);
                        }
                        body.write(format!("chunk {i}\n").as_bytes())?;
                    }
                    Ok(())
                }),
                Err(_) => bad_request(format!("'{n}' is no number of chunks")),
            },
            (_, ["call", authority, rest @ ..]) => {
                let url = format!(
                    "http://{authority}/{}{}",
                    rest.join("/"),
                    query_suffix(&request)
                );
                call(&request, &url)
            }
            ("GET", ["self-loop"]) => call(&request, "http://test.echo/self-loop"),
            ("GET", ["repeat", n, authority, rest @ ..]) => match n.parse::<u32>() {
                Ok(n) => repeat(n, &format!("http://{authority}/{}", rest.join("/"))),
                Err(_) => bad_request(format!("'{n}' is no number of calls")),
            },
            ("POST", ["exec", command]) => exec(command, &request),
            ("GET", ["query", projector]) => query(projector, &request),
            ("GET", ["memory"]) => {
                let mut blocks = Vec::new();
                loop {
                    blocks.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            ("GET", ["print"]) => {
                println!("printed by echo");
                eprintln!("warned by echo");
                Response::ok("printed")
            }
            _ => Response::status(404).with_body(format!("no route {method} {path}")),
        }
    }
}

fn bad_request(message: String) -> Response {
    Response::status(400).with_body(message)
}

fn query_suffix(request: &Request) -> String {
    match request.query_string() {
        "" => String::new(),
        query => format!("?{query}"),
    }
}

fn echo(request: Request) -> Response {
    let mut response =
        Response::ok(request.body.clone()).with_header("x-echo-method", &request.method);
    if let Some(kind) = request.header("content-type") {
        response = response.with_header("content-type", kind);
    }
    response
}

fn headers(request: &Request) -> Response {
    let mut object = serde_json::Map::new();
    for (name, value) in &request.headers {
        let joined = match object.get(name).and_then(|v| v.as_str()) {
            Some(before) => format!("{before}, {value}"),
            None => value.clone(),
        };
        object.insert(name.to_ascii_lowercase(), joined.into());
    }
    Response::json(&object)
}

/// Forwards the request's method and body, with `x-from: echo`, to `url`.
fn call(request: &Request, url: &str) -> Response {
    let mut headers = vec![("x-from", "echo")];
    if let Some(kind) = request.header("content-type") {
        headers.push(("content-type", kind));
    }
    match wbx_guest::http::request(&request.method, url, &headers, &request.body) {
        Ok(answer) => Response::status(answer.status)
            .with_body(answer.body)
            .with_header("x-callee-status", answer.status.to_string()),
        Err(error) => Response::status(502).with_body(format!("call failed: {error}")),
    }
}

/// `n` calls of `url` in a row, from this instance: what a routed call
/// costs once the caller runs.
fn repeat(n: u32, url: &str) -> Response {
    let ok = (0..n)
        .filter(|_| wbx_guest::http::get(url).is_ok_and(|answer| answer.status == 200))
        .count();
    Response::ok(format!("{n} calls, {ok} ok"))
}

fn exec(command: &str, request: &Request) -> Response {
    let input = String::from_utf8_lossy(&request.body);
    match commands::execute(command, &input, None) {
        Ok(executed) => Response::json(&serde_json::json!({
            "position": executed.position,
            "events": executed.events,
            "duplicate": executed.duplicate,
        })),
        Err(failure) => {
            let text = match failure {
                Failure::UnknownCommand(m) => format!("unknown command: {m}"),
                Failure::InvalidInput(m) => format!("invalid input: {m}"),
                Failure::Rejected(m) => format!("rejected: {m}"),
                Failure::Conflict(m) => format!("conflict: {m}"),
                Failure::Failed(m) => format!("failed: {m}"),
            };
            Response::status(422).with_body(text)
        }
    }
}

fn query(projector: &str, request: &Request) -> Response {
    let Some(sql) = request.query("sql") else {
        return bad_request("no sql parameter".to_owned());
    };
    match wbx_guest::read_model::query(projector, &sql, &[]) {
        Ok(rows) => Response::json(&rows),
        Err(error) => bad_request(error),
    }
}

wbx_guest::export_service!(Echo);
