//! `web` (`shop.web`): the storefront. It owns no data: it asks `catalog`
//! for items and `orders` to place an order, through the mesh, and answers
//! for both.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the items, a line each, as text |
//! | `POST /buy/{item}?order={id}&quantity={n}` | prices the item at `catalog`, places the order at `orders`: 201 with the order as JSON |
//!
//! What a service it calls answers with an error comes back as a 502
//! naming that service and its answer.

use serde::{Deserialize, Serialize};
use wbx_guest::http;
use wbx_guest::service::{Request, Response, Service};

const CATALOG: &str = "http://shop.catalog";
const ORDERS: &str = "http://shop.orders";

#[derive(Deserialize)]
struct Item {
    id: String,
    name: String,
    price_cents: u64,
}

#[derive(Serialize)]
struct Order<'a> {
    order_id: &'a str,
    item_id: &'a str,
    quantity: u32,
    total_cents: u64,
}

struct Web;

impl Service for Web {
    fn handle(request: Request) -> Response {
        let path = request.path_only().to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let answer = match (request.method.as_str(), segments.as_slice()) {
            ("GET", [""]) => front_page(),
            ("POST", ["buy", item]) => buy(item, &request),
            _ => Ok(Response::status(404).with_body(format!(
                "no route {} {path}; routes: GET /, POST /buy/ITEM?order=ID&quantity=N",
                request.method
            ))),
        };
        answer.unwrap_or_else(|failed| failed)
    }
}

fn front_page() -> Result<Response, Response> {
    let items: Vec<Item> = parsed(call("catalog", "GET", &format!("{CATALOG}/items"), &[])?)?;
    let lines: String = items
        .iter()
        .map(|item| {
            format!(
                "{:<8} {:<8} {}\n",
                item.id,
                item.name,
                cents(item.price_cents)
            )
        })
        .collect();
    Ok(Response::text(lines))
}

fn buy(item_id: &str, request: &Request) -> Result<Response, Response> {
    let Some(order_id) = request.query("order") else {
        return Ok(Response::status(400).with_body("say which order: ?order=ID"));
    };
    let quantity = match request
        .query("quantity")
        .as_deref()
        .unwrap_or("1")
        .parse::<u32>()
    {
        Ok(n) => n,
        Err(_) => return Ok(Response::status(400).with_body("quantity is a number")),
    };
    let item: Item = parsed(call(
        "catalog",
        "GET",
        &format!("{CATALOG}/items/{item_id}"),
        &[],
    )?)?;
    let order = Order {
        order_id: &order_id,
        item_id: &item.id,
        quantity,
        total_cents: item.price_cents * u64::from(quantity),
    };
    let body = serde_json::to_vec(&order).unwrap_or_default();
    let placed = call("orders", "POST", &format!("{ORDERS}/orders"), &body)?;
    Ok(Response::status(201)
        .with_header("content-type", "application/json")
        .with_body(placed.body))
}

/// One call through the mesh; an error answer or none at all becomes the
/// 502 this service answers with.
fn call(service: &str, method: &str, url: &str, body: &[u8]) -> Result<http::Response, Response> {
    let headers: &[(&str, &str)] = if body.is_empty() {
        &[]
    } else {
        &[("content-type", "application/json")]
    };
    match http::request(method, url, headers, body) {
        Ok(answer) if answer.status < 300 => Ok(answer),
        Ok(answer) => Err(Response::status(502).with_body(format!(
            "{service} answered {}: {}",
            answer.status,
            answer.text().trim_end()
        ))),
        Err(e) => Err(Response::status(502).with_body(format!("{service} unreachable: {e}"))),
    }
}

fn parsed<T: serde::de::DeserializeOwned>(answer: http::Response) -> Result<T, Response> {
    answer
        .json()
        .map_err(|e| Response::status(502).with_body(e))
}

fn cents(amount: u64) -> String {
    format!("{}.{:02}", amount / 100, amount % 100)
}

wbx_guest::export_service!(Web);
