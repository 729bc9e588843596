//! `add-book {book_id, title, copies}`: a book id is added once.

use library_shared::{BookAdded, check_id};
use wbx_guest::{CommandError, Decide, Exists, NewEvent, emit};

struct AddBook;

impl Decide for AddBook {
    type Input = BookAdded;
    type Folds = Exists<BookAdded>;

    fn folds(book: &BookAdded) -> Result<Self::Folds, CommandError> {
        check_id("book_id", &book.book_id)?;
        if book.title.trim().is_empty() || book.copies == 0 {
            return Err(CommandError::InvalidInput(
                "a book needs a title and at least one copy".into(),
            ));
        }
        Ok(Exists::tagged("book_id", &book.book_id))
    }

    fn decide(book: BookAdded, added: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if added.0 {
            return Err(CommandError::Rejected(format!(
                "book '{}' is already in the catalog",
                book.book_id
            )));
        }
        Ok(emit![book])
    }
}

wbx_guest::command!(AddBook);
