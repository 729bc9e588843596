//! The catalog read model: `books`, `members` and `badges`, kept in the
//! projector's own SQLite database and queried with
//! `curl "$API/api/projectors/catalog/query?sql=SELECT * FROM books"`.

use library_shared::{BadgeAwarded, BookAdded, BookLent, BookReturned, MemberRegistered};
use wbx_guest::sql::{self, Value};
use wbx_guest::{Event, Projector, QueryItem};

struct Catalog;

fn text(s: &str) -> Value {
    Value::from(s)
}

fn apply(event: &Event) -> Result<(), String> {
    if let Some(b) = event.decode::<BookAdded>() {
        sql::execute(
            "INSERT INTO books (book_id, title, copies, on_loan) VALUES (?, ?, ?, 0)",
            &[text(&b.book_id), text(&b.title), Value::Integer(b.copies.into())],
        )?;
    } else if let Some(m) = event.decode::<MemberRegistered>() {
        sql::execute(
            "INSERT INTO members (member_id, name, holding, loans) VALUES (?, ?, 0, 0)",
            &[text(&m.member_id), text(&m.name)],
        )?;
    } else if let Some(l) = event.decode::<BookLent>() {
        sql::execute(
            "UPDATE books SET on_loan = on_loan + 1 WHERE book_id = ?",
            &[text(&l.book_id)],
        )?;
        sql::execute(
            "UPDATE members SET holding = holding + 1, loans = loans + 1 WHERE member_id = ?",
            &[text(&l.member_id)],
        )?;
    } else if let Some(r) = event.decode::<BookReturned>() {
        sql::execute(
            "UPDATE books SET on_loan = on_loan - 1 WHERE book_id = ?",
            &[text(&r.book_id)],
        )?;
        sql::execute(
            "UPDATE members SET holding = holding - 1 WHERE member_id = ?",
            &[text(&r.member_id)],
        )?;
    } else if let Some(a) = event.decode::<BadgeAwarded>() {
        sql::execute(
            "INSERT INTO badges (member_id, badge) VALUES (?, ?)",
            &[text(&a.member_id), text(&a.badge)],
        )?;
    } else {
        return Err(format!(
            "event {} ({}) has an unexpected shape",
            event.position, event.event_type
        ));
    }
    Ok(())
}

impl Projector for Catalog {
    fn subscription() -> Vec<QueryItem> {
        vec![
            QueryItem::of::<BookAdded>()
                .or_of::<MemberRegistered>()
                .or_of::<BookLent>()
                .or_of::<BookReturned>()
                .or_of::<BadgeAwarded>(),
        ]
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
