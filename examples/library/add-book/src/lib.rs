//! `add-book {book_id, title, copies}`: a book id is added once.

use library_shared::{BookAdded, Execution, book_tag, event, id, input, item};
use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};

thread_local! {
    static RUN: Execution<BookAdded, bool> = const { Execution::new() };
}

struct AddBook;

impl Command for AddBook {
    fn prepare(json: String) -> Result<Vec<QueryItem>, CommandError> {
        let book: BookAdded = input(&json)?;
        id("book_id", &book.book_id)?;
        if book.title.trim().is_empty() || book.copies == 0 {
            return Err(CommandError::InvalidInput(
                "a book needs a title and at least one copy".into(),
            ));
        }
        let query = vec![item(&["BookAdded"], book_tag(&book.book_id))];
        RUN.with(|run| run.start(book));
        Ok(query)
    }

    fn fold(events: Vec<Event>) {
        RUN.with(|run| run.fold(|_, exists| *exists |= !events.is_empty()));
    }

    fn decide() -> Result<Vec<NewEvent>, CommandError> {
        let (book, exists) = RUN.with(Execution::finish)?;
        if exists {
            return Err(CommandError::Rejected(format!(
                "book '{}' is already in the catalog",
                book.book_id
            )));
        }
        Ok(vec![event("BookAdded", vec![book_tag(&book.book_id)], &book)])
    }
}

wbx_guest::export_command!(AddBook);
