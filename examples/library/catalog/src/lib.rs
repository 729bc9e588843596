//! The catalog read model: `books`, `members` and `badges`, kept in the
//! projector's own SQLite database and queried with
//! `curl "$API/api/projectors/catalog/query?sql=SELECT * FROM books"`.

use library_shared::{BadgeAwarded, BookAdded, BookLent, BookReturned, MemberRegistered, payload};
use wbx_guest::sql::{self, Value};
use wbx_guest::{Event, Projector, QueryItem};

struct Catalog;

fn text(s: &str) -> Value {
    Value::from(s)
}

fn apply(event: &Event) -> Result<(), String> {
    let bad = || format!("event {} ({}) has an unexpected shape", event.position, event.event_type);
    match event.event_type.as_str() {
        "BookAdded" => {
            let b: BookAdded = payload(event).ok_or_else(bad)?;
            sql::execute(
                "INSERT INTO books (book_id, title, copies, on_loan) VALUES (?, ?, ?, 0)",
                &[text(&b.book_id), text(&b.title), Value::Integer(b.copies.into())],
            )?;
        }
        "MemberRegistered" => {
            let m: MemberRegistered = payload(event).ok_or_else(bad)?;
            sql::execute(
                "INSERT INTO members (member_id, name, holding, loans) VALUES (?, ?, 0, 0)",
                &[text(&m.member_id), text(&m.name)],
            )?;
        }
        "BookLent" => {
            let l: BookLent = payload(event).ok_or_else(bad)?;
            sql::execute("UPDATE books SET on_loan = on_loan + 1 WHERE book_id = ?", &[text(&l.book_id)])?;
            sql::execute(
                "UPDATE members SET holding = holding + 1, loans = loans + 1 WHERE member_id = ?",
                &[text(&l.member_id)],
            )?;
        }
        "BookReturned" => {
            let r: BookReturned = payload(event).ok_or_else(bad)?;
            sql::execute("UPDATE books SET on_loan = on_loan - 1 WHERE book_id = ?", &[text(&r.book_id)])?;
            sql::execute(
                "UPDATE members SET holding = holding - 1 WHERE member_id = ?",
                &[text(&r.member_id)],
            )?;
        }
        "BadgeAwarded" => {
            let a: BadgeAwarded = payload(event).ok_or_else(bad)?;
            sql::execute(
                "INSERT INTO badges (member_id, badge) VALUES (?, ?)",
                &[text(&a.member_id), text(&a.badge)],
            )?;
        }
        _ => {}
    }
    Ok(())
}

impl Projector for Catalog {
    fn subscription() -> Vec<QueryItem> {
        vec![QueryItem {
            types: ["BookAdded", "MemberRegistered", "BookLent", "BookReturned", "BadgeAwarded"]
                .map(String::from)
                .to_vec(),
            tags: vec![],
        }]
    }

    fn init() -> Result<(), String> {
        sql::execute_batch(
            "CREATE TABLE IF NOT EXISTS books (
                 book_id TEXT PRIMARY KEY, title TEXT NOT NULL,
                 copies INTEGER NOT NULL, on_loan INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS members (
                 member_id TEXT PRIMARY KEY, name TEXT NOT NULL,
                 holding INTEGER NOT NULL, loans INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS badges (
                 member_id TEXT NOT NULL, badge TEXT NOT NULL,
                 PRIMARY KEY (member_id, badge));",
        )
    }

    fn handle(events: Vec<Event>) -> Result<(), String> {
        events.iter().try_for_each(apply)
    }
}

wbx_guest::export_projector!(Catalog);
