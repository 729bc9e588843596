//! `lend-book {book_id, member_id}`: one decision over two entities. The
//! book must exist and have a copy on the shelf; the member must exist and
//! hold fewer than three books. Both folds' queries go into the append's
//! condition, so two loans racing for the last copy (or for a member's
//! third slot) cannot both succeed.

use library_shared::{BookAdded, BookLent, BookReturned, MemberRegistered, check_id};
use wbx_guest::{CommandError, Decide, Event, Fold, NewEvent, QueryItem, emit};

/// A member holds at most this many books at once.
pub const MAX_LOANS: u32 = 3;

/// Copies of a book, and how many are out.
struct Shelf {
    book_id: String,
    copies: Option<u32>,
    out: u32,
}

impl Fold for Shelf {
    fn query(&self) -> Vec<QueryItem> {
        let item = QueryItem::of::<BookAdded>().or_of::<BookLent>().or_of::<BookReturned>();
        vec![item.tag("book_id", &self.book_id)]
    }

    fn apply(&mut self, event: &Event) {
        if let Some(book) = event.decode::<BookAdded>() {
            self.copies = Some(book.copies);
        } else if event.is::<BookLent>() {
            self.out += 1;
        } else if event.is::<BookReturned>() {
            self.out = self.out.saturating_sub(1);
        }
    }
}

/// Whether a member exists, and how many books they hold.
struct Member {
    member_id: String,
    exists: bool,
    holds: u32,
}

impl Fold for Member {
    fn query(&self) -> Vec<QueryItem> {
        let item = QueryItem::of::<MemberRegistered>().or_of::<BookLent>().or_of::<BookReturned>();
        vec![item.tag("member_id", &self.member_id)]
    }

    fn apply(&mut self, event: &Event) {
        if event.is::<MemberRegistered>() {
            self.exists = true;
        } else if event.is::<BookLent>() {
            self.holds += 1;
        } else if event.is::<BookReturned>() {
            self.holds = self.holds.saturating_sub(1);
        }
    }
}

struct LendBook;

impl Decide for LendBook {
    type Input = BookLent;
    type Folds = (Shelf, Member);

    fn folds(loan: &BookLent) -> Result<Self::Folds, CommandError> {
        check_id("book_id", &loan.book_id)?;
        check_id("member_id", &loan.member_id)?;
        let shelf = Shelf { book_id: loan.book_id.clone(), copies: None, out: 0 };
        let member = Member { member_id: loan.member_id.clone(), exists: false, holds: 0 };
        Ok((shelf, member))
    }

    fn decide(loan: BookLent, (shelf, member): Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        let reject = |why: String| Err(CommandError::Rejected(why));
        let Some(copies) = shelf.copies else {
            return reject(format!("no book '{}' in the catalog", loan.book_id));
        };
        if !member.exists {
            return reject(format!("no member '{}'", loan.member_id));
        }
        if shelf.out >= copies {
            return reject(format!("all {copies} copies of '{}' are on loan", loan.book_id));
        }
        if member.holds >= MAX_LOANS {
            return reject(format!(
                "member '{}' already holds {MAX_LOANS} books",
                loan.member_id
            ));
        }
        Ok(emit![loan])
    }
}

wbx_guest::command!(LendBook);
