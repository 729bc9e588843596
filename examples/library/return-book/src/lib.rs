//! `return-book {book_id, member_id}`: only a book the member holds.

use library_shared::{BookLent, BookReturned, check_id};
use wbx_guest::{CommandError, Count, Decide, NewEvent, QueryItem, emit};

struct ReturnBook;

fn loans_of(r: &BookReturned) -> QueryItem {
    QueryItem::of::<BookLent>()
        .tag("book_id", &r.book_id)
        .tag("member_id", &r.member_id)
}

impl Decide for ReturnBook {
    type Input = BookReturned;
    /// Loans and returns of this book by this member.
    type Folds = (Count<BookLent>, Count<BookReturned>);

    fn folds(r: &BookReturned) -> Result<Self::Folds, CommandError> {
        check_id("book_id", &r.book_id)?;
        check_id("member_id", &r.member_id)?;
        let returns = QueryItem::of::<BookReturned>()
            .tag("book_id", &r.book_id)
            .tag("member_id", &r.member_id);
        Ok((Count::matching(loans_of(r)), Count::matching(returns)))
    }

    fn decide(r: BookReturned, (lent, returned): Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if lent.0 <= returned.0 {
            return Err(CommandError::Rejected(format!(
                "member '{}' does not hold '{}'",
                r.member_id, r.book_id
            )));
        }
        Ok(emit![r])
    }
}

wbx_guest::command!(ReturnBook);
