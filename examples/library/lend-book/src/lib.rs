//! `lend-book {book_id, member_id}`: one decision over two entities. The
//! book must exist and have a copy on the shelf; the member must exist and
//! hold fewer than three books. Both sets of events are read, and the append
//! is conditional on both, so two loans racing for the last copy (or for a
//! member's third slot) cannot both succeed.

use library_shared::{
    BookAdded, BookLent, Execution, book_tag, event, id, input, item, member_tag, payload,
};
use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

/// A member holds at most this many books at once.
pub const MAX_LOANS: u32 = 3;

#[derive(Default)]
struct Seen {
    copies: Option<u32>,
    book_on_loan: u32,
    member_exists: bool,
    member_holds: u32,
}

thread_local! {
    static RUN: Execution<BookLent, Seen> = const { Execution::new() };
}

struct LendBook;

impl Command for LendBook {
    fn prepare(json: String) -> Result<Vec<QueryItem>, CommandError> {
        let loan: BookLent = input(&json)?;
        id("book_id", &loan.book_id)?;
        id("member_id", &loan.member_id)?;
        let query = vec![
            item(&["BookAdded", "BookLent", "BookReturned"], book_tag(&loan.book_id)),
            item(
                &["MemberRegistered", "BookLent", "BookReturned"],
                member_tag(&loan.member_id),
            ),
        ];
        RUN.with(|run| run.start(loan));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        RUN.with(|run| {
            run.fold(|loan, seen| {
                for e in &events {
                    let about_book = e.tags.contains(&book_tag(&loan.book_id));
                    let about_member = e.tags.contains(&member_tag(&loan.member_id));
                    match e.event_type.as_str() {
                        "BookAdded" => seen.copies = payload::<BookAdded>(e).map(|b| b.copies),
                        "MemberRegistered" => seen.member_exists = true,
                        "BookLent" => {
                            seen.book_on_loan += u32::from(about_book);
                            seen.member_holds += u32::from(about_member);
                        }
                        "BookReturned" => {
                            seen.book_on_loan -= u32::from(about_book && seen.book_on_loan > 0);
                            seen.member_holds -= u32::from(about_member && seen.member_holds > 0);
                        }
                        _ => {}
                    }
                }
            })
        });
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let (loan, seen) = RUN.with(Execution::finish)?;
        let reject = |why: String| Err(CommandError::Rejected(why));
        let Some(copies) = seen.copies else {
            return reject(format!("no book '{}' in the catalog", loan.book_id));
        };
        if !seen.member_exists {
            return reject(format!("no member '{}'", loan.member_id));
        }
        if seen.book_on_loan >= copies {
            return reject(format!(
                "all {copies} copies of '{}' are on loan",
                loan.book_id
            ));
        }
        if seen.member_holds >= MAX_LOANS {
            return reject(format!(
                "member '{}' already holds {MAX_LOANS} books",
                loan.member_id
            ));
        }
        let tags = vec![book_tag(&loan.book_id), member_tag(&loan.member_id)];
        Ok(vec![event("BookLent", tags, &loan)])
    }
}

wbx_guest::export_command!(LendBook);
