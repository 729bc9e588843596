//! A service built with wstd: `GET /` answers `hello from wstd`;
//! `GET /forward/{authority}/{rest…}` fetches `http://{authority}/{rest…}`
//! with wstd's client and answers with its status and body.

use wstd::http::{Body, Client, Error, Request, Response, StatusCode};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if method == "GET" && path == "/" {
        return Ok(Response::new("hello from wstd".into()));
    }
    if let Some(target) = path.strip_prefix("/forward/").filter(|_| method == "GET") {
        return forward(target).await;
    }
    Ok(Response::builder()
        .status(StatusCode::NOT_FOUND)
        .body(format!("no route {method} {path}").into())?)
}

/// `authority/rest…` → the answer of `GET http://authority/rest…`.
async fn forward(target: &str) -> Result<Response<Body>, Error> {
    let url = format!("http://{target}");
    let request = Request::get(url.as_str()).body(Body::empty())?;
    match Client::new().send(request).await {
        Ok(answer) => {
            let status = answer.status();
            let body = answer.into_body().contents().await?.to_vec();
            Ok(Response::builder().status(status).body(body.into())?)
        }
        Err(error) => Ok(Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(format!("forward failed: {error:?}").into())?),
    }
}
