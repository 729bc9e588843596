//! `greeter`: `GET /greeting/{name}` answers `{"greeting": "hello, {name}"}`.
//! Edit the greeting while `wbx dev` runs: the next request gets the new
//! version, and `front` with it.

use serde::Serialize;
use wbx_guest::service::{Request, Response, Service};

struct Greeter;

#[derive(Serialize)]
struct Greeting {
    greeting: String,
}

impl Service for Greeter {
    fn handle(request: Request) -> Response {
        let path = request.path_only().to_owned();
        match (request.method.as_str(), path.strip_prefix("/greeting/")) {
            ("GET", Some(name)) if !name.is_empty() && !name.contains('/') => {
                Response::json(&Greeting {
                    greeting: format!("hello, {name}"),
                })
            }
            _ => Response::status(404).with_body(format!(
                "no route {} {path}; routes: GET /greeting/NAME",
                request.method
            )),
        }
    }
}

wbx_guest::export_service!(Greeter);
