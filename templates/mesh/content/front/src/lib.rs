//! `front`: `GET /hello/{name}` asks `greeter` for a greeting, through the
//! mesh (`http://{{project-name}}.greeter/…`, an ordinary HTTP request the
//! engine routes in-process), and answers it as text.

use serde::Deserialize;
use wbx_guest::service::{Request, Response, Service};

/// The greeter, as any service of the project reaches it.
const GREETER: &str = "http://{{project-name}}.greeter";

struct Front;

#[derive(Deserialize)]
struct Greeting {
    greeting: String,
}

impl Service for Front {
    fn handle(request: Request) -> Response {
        let path = request.path_only().to_owned();
        match (request.method.as_str(), path.strip_prefix("/hello/")) {
            ("GET", Some(name)) if !name.is_empty() => hello(name),
            _ => Response::status(404).with_body(format!(
                "no route {} {path}; routes: GET /hello/NAME",
                request.method
            )),
        }
    }
}

fn hello(name: &str) -> Response {
    let answer = match wbx_guest::http::get(&format!("{GREETER}/greeting/{name}")) {
        Ok(answer) => answer,
        Err(e) => return Response::status(502).with_body(format!("greeter unreachable: {e}")),
    };
    if answer.status != 200 {
        // Pass the greeter's own answer on: it says what went wrong.
        return Response::status(502).with_body(format!(
            "greeter answered {}: {}",
            answer.status,
            answer.text()
        ));
    }
    match answer.json::<Greeting>() {
        Ok(greeting) => Response::text(format!("{}!\n", greeting.greeting))
            .with_header("x-greeted-by", "greeter"),
        Err(e) => Response::status(502).with_body(format!("greeter: {e}")),
    }
}

wbx_guest::export_service!(Front);
