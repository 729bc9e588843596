//! `return-book {book_id, member_id}`: only a book the member holds.

use library_shared::{BookReturned, Execution, book_tag, event, id, input, item, member_tag};
use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

thread_local! {
    /// How many copies of the book the member holds.
    static RUN: Execution<BookReturned, u32> = const { Execution::new() };
}

struct ReturnBook;

impl Command for ReturnBook {
    fn prepare(json: String) -> Result<Vec<QueryItem>, CommandError> {
        let loan: BookReturned = input(&json)?;
        id("book_id", &loan.book_id)?;
        id("member_id", &loan.member_id)?;
        // Loans of this book by this member: both tags on one item.
        let mut query = item(&["BookLent", "BookReturned"], book_tag(&loan.book_id));
        query.tags.push(member_tag(&loan.member_id));
        RUN.with(|run| run.start(loan));
        Ok(vec![query])
    }

    fn fold(events: Vec<Event>) {
        RUN.with(|run| {
            run.fold(|_, held| {
                for e in &events {
                    match e.event_type.as_str() {
                        "BookLent" => *held += 1,
                        "BookReturned" => *held = held.saturating_sub(1),
                        _ => {}
                    }
                }
            })
        });
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let (loan, held) = RUN.with(Execution::finish)?;
        if held == 0 {
            return Err(CommandError::Rejected(format!(
                "member '{}' does not hold '{}'",
                loan.member_id, loan.book_id
            )));
        }
        let tags = vec![book_tag(&loan.book_id), member_tag(&loan.member_id)];
        Ok(vec![event("BookReturned", tags, &loan)])
    }
}

wbx_guest::export_command!(ReturnBook);
