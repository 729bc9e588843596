//! `catalog` (`shop.catalog`): the items for sale, a fixed list.
//!
//! | route | answer |
//! |---|---|
//! | `GET /items` | every item, as JSON |
//! | `GET /items/{id}` | one item, as JSON; 404 when there is none |

use serde::Serialize;
use wbx_guest::service::{Request, Response, Service};

#[derive(Serialize)]
struct Item {
    id: &'static str,
    name: &'static str,
    price_cents: u64,
}

const ITEMS: [Item; 3] = [
    Item {
        id: "kettle",
        name: "Kettle",
        price_cents: 2_500,
    },
    Item {
        id: "teapot",
        name: "Teapot",
        price_cents: 1_800,
    },
    Item {
        id: "mug",
        name: "Mug",
        price_cents: 600,
    },
];

struct Catalog;

impl Service for Catalog {
    fn handle(request: Request) -> Response {
        let path = request.path_only().to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["items"]) => Response::json(&ITEMS),
            ("GET", ["items", id]) => match ITEMS.iter().find(|item| item.id == *id) {
                Some(item) => Response::json(item),
                None => Response::status(404).with_body(format!("no item '{id}'")),
            },
            _ => Response::status(404).with_body(format!(
                "no route {} {path}; routes: GET /items, GET /items/ID",
                request.method
            )),
        }
    }
}

wbx_guest::export_service!(Catalog);
