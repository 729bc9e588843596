//! `{{module-name}}`: a service. `GET /hello/{name}` greets in plain text;
//! `POST /echo` answers with the JSON it was sent, and how long its text is.
//! Anything else is a 404 that says which routes there are.

use serde::{Deserialize, Serialize};
use wbx_guest::service::{Request, Response, Service};

struct {{ModuleName}};

#[derive(Deserialize)]
struct EchoIn {
    text: String,
}

#[derive(Serialize)]
struct EchoOut {
    text: String,
    length: usize,
}

impl Service for {{ModuleName}} {
    fn handle(request: Request) -> Response {
        let path = request.path_only().to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["hello", name]) => Response::text(format!("hello, {name}")),
            ("POST", ["echo"]) => match request.json::<EchoIn>() {
                Ok(input) => Response::json(&EchoOut {
                    length: input.text.chars().count(),
                    text: input.text,
                }),
                Err(e) => Response::status(400).with_body(e),
            },
            _ => Response::status(404).with_body(format!(
                "no route {} {path}; routes: GET /hello/NAME, POST /echo",
                request.method
            )),
        }
    }
}

wbx_guest::export_service!({{ModuleName}});
