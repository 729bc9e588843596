//! Typed events, folds and commands on top of the raw worlds.
//!
//! - [`DomainEvent`] (usually `#[derive(Event)]`): an event's type name and
//!   tags come from its Rust type; [`emit!`](crate::emit) turns values into
//!   events to append, [`Event::decode`] turns stored events back.
//! - [`Fold`]: a piece of state built from the events of its own query.
//!   Tuples of folds are folds; each part sees only the events its query
//!   matches. [`Exists`], [`Count`] and [`Latest`] cover the common cases.
//! - [`Decide`] + [`command!`](crate::command): a command as "these folds
//!   for this input, then this decision".
//!
//! ```ignore
//! #[derive(Serialize, Deserialize, Event)]
//! struct BookAdded { #[tag] book_id: String, title: String }
//!
//! struct AddBook;
//! impl Decide for AddBook {
//!     type Input = BookAdded;
//!     type Folds = Exists<BookAdded>;
//!     fn folds(input: &BookAdded) -> Result<Self::Folds, CommandError> {
//!         Ok(Exists::tagged("book_id", &input.book_id))
//!     }
//!     fn decide(input: BookAdded, exists: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
//!         if exists.0 { return Err(CommandError::Rejected("already added".into())) }
//!         Ok(emit![input])
//!     }
//! }
//! wbx_guest::command!(AddBook);
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{CommandError, Event, NewEvent, QueryItem};

/// An event with a type name and tags that follow from its Rust type.
pub trait DomainEvent: Serialize + DeserializeOwned {
    const TYPE: &'static str;
    /// `key:value` tags of this event.
    fn tags(&self) -> Vec<String>;

    /// This value as an event to append.
    fn to_event(&self) -> NewEvent {
        NewEvent {
            event_type: Self::TYPE.to_owned(),
            tags: self.tags(),
            data: serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned()),
        }
    }
}

/// `emit![a, b]`: the events to append, from [`DomainEvent`] values.
#[macro_export]
macro_rules! emit {
    ($($event:expr),* $(,)?) => {
        ::std::vec![$($crate::typed::DomainEvent::to_event(&$event)),*]
    };
}

/// A tag as the derive writes it: `key:value`.
pub fn tag(key: &str, value: impl std::fmt::Display) -> String {
    format!("{key}:{value}")
}

impl Event {
    /// Whether this is an event of type `E`.
    pub fn is<E: DomainEvent>(&self) -> bool {
        self.event_type == E::TYPE
    }

    /// The payload as `E`, when this event is one.
    pub fn decode<E: DomainEvent>(&self) -> Option<E> {
        if self.is::<E>() {
            serde_json::from_str(&self.data).ok()
        } else {
            None
        }
    }
}

impl QueryItem {
    /// Events of type `E` (add tags with [`QueryItem::tag`]).
    pub fn of<E: DomainEvent>() -> QueryItem {
        QueryItem {
            types: vec![E::TYPE.to_owned()],
            tags: Vec::new(),
        }
    }

    /// Also of type `E`.
    pub fn or_of<E: DomainEvent>(mut self) -> QueryItem {
        self.types.push(E::TYPE.to_owned());
        self
    }

    /// Only events carrying `key:value`.
    pub fn tag(mut self, key: &str, value: impl std::fmt::Display) -> QueryItem {
        self.tags.push(tag(key, value));
        self
    }

    /// Whether `event` matches this item (the store's rule, for routing).
    pub fn matches(&self, event: &Event) -> bool {
        (self.types.is_empty() || self.types.contains(&event.event_type))
            && self.tags.iter().all(|t| event.tags.contains(t))
    }
}

/// State built from the events its query selects.
pub trait Fold {
    /// The events this fold needs.
    fn query(&self) -> Vec<QueryItem>;
    /// Takes one of those events into account, in position order.
    fn apply(&mut self, event: &Event);
}

macro_rules! tuple_fold {
    ($($part:ident . $n:tt),+) => {
        impl<$($part: Fold),+> Fold for ($($part,)+) {
            fn query(&self) -> Vec<QueryItem> {
                let mut items = Vec::new();
                $(items.extend(self.$n.query());)+
                items
            }

            fn apply(&mut self, event: &Event) {
                $(
                    if self.$n.query().iter().any(|item| item.matches(event)) {
                        self.$n.apply(event);
                    }
                )+
            }
        }
    };
}

tuple_fold!(A.0, B.1);
tuple_fold!(A.0, B.1, C.2);
tuple_fold!(A.0, B.1, C.2, D.3);

/// Whether any event of type `E` with the given tags exists.
pub struct Exists<E>(pub bool, QueryItem, PhantomData<E>);

impl<E: DomainEvent> Exists<E> {
    /// Over the events of type `E` carrying `key:value`.
    pub fn tagged(key: &str, value: impl std::fmt::Display) -> Self {
        Self::matching(QueryItem::of::<E>().tag(key, value))
    }

    /// Over the events `item` matches.
    pub fn matching(item: QueryItem) -> Self {
        Exists(false, item, PhantomData)
    }
}

impl<E: DomainEvent> Fold for Exists<E> {
    fn query(&self) -> Vec<QueryItem> {
        vec![self.1.clone()]
    }

    fn apply(&mut self, _event: &Event) {
        self.0 = true;
    }
}

/// How many events of type `E` with the given tags exist.
pub struct Count<E>(pub u64, QueryItem, PhantomData<E>);

impl<E: DomainEvent> Count<E> {
    /// Over the events of type `E` carrying `key:value`.
    pub fn tagged(key: &str, value: impl std::fmt::Display) -> Self {
        Self::matching(QueryItem::of::<E>().tag(key, value))
    }

    /// Over the events `item` matches.
    pub fn matching(item: QueryItem) -> Self {
        Count(0, item, PhantomData)
    }
}

impl<E: DomainEvent> Fold for Count<E> {
    fn query(&self) -> Vec<QueryItem> {
        vec![self.1.clone()]
    }

    fn apply(&mut self, _event: &Event) {
        self.0 += 1;
    }
}

/// The latest event of type `E` with the given tags, decoded.
pub struct Latest<E>(pub Option<E>, QueryItem);

impl<E: DomainEvent> Latest<E> {
    /// Over the events of type `E` carrying `key:value`.
    pub fn tagged(key: &str, value: impl std::fmt::Display) -> Self {
        Self::matching(QueryItem::of::<E>().tag(key, value))
    }

    /// Over the events `item` matches.
    pub fn matching(item: QueryItem) -> Self {
        Latest(None, item)
    }
}

impl<E: DomainEvent> Fold for Latest<E> {
    fn query(&self) -> Vec<QueryItem> {
        vec![self.1.clone()]
    }

    fn apply(&mut self, event: &Event) {
        if let Some(value) = event.decode() {
            self.0 = Some(value);
        }
    }
}

/// A command in two steps: the folds its input needs, then its decision.
pub trait Decide: 'static {
    type Input: DeserializeOwned + 'static;
    type Folds: Fold + 'static;

    /// The folds for this input; also the place to check the input.
    fn folds(input: &Self::Input) -> Result<Self::Folds, CommandError>;
    /// The events to append (none is an answer too), or a rejection.
    fn decide(input: Self::Input, folds: Self::Folds) -> Result<Vec<NewEvent>, CommandError>;
}

thread_local! {
    /// The input and folds of the one execution an instance lives for.
    static EXECUTION: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// `prepare` for a [`Decide`] command (used by [`command!`](crate::command)).
#[doc(hidden)]
pub fn prepare<T: Decide>(input: String) -> Result<Vec<QueryItem>, CommandError> {
    let input: T::Input =
        serde_json::from_str(&input).map_err(|e| CommandError::InvalidInput(e.to_string()))?;
    let folds = T::folds(&input)?;
    let query = folds.query();
    EXECUTION.with(|slot| *slot.borrow_mut() = Some(Box::new((input, folds))));
    Ok(query)
}

/// `fold` for a [`Decide`] command.
#[doc(hidden)]
pub fn fold<T: Decide>(events: Vec<Event>) {
    EXECUTION.with(|slot| {
        if let Some((_, folds)) = slot
            .borrow_mut()
            .as_mut()
            .and_then(|state| state.downcast_mut::<(T::Input, T::Folds)>())
        {
            events.iter().for_each(|event| folds.apply(event));
        }
    });
}

/// `decide` for a [`Decide`] command.
#[doc(hidden)]
pub fn decide<T: Decide>() -> Result<Vec<NewEvent>, CommandError> {
    let state = EXECUTION.with(|slot| slot.borrow_mut().take());
    let (input, folds) = *state
        .and_then(|s| s.downcast::<(T::Input, T::Folds)>().ok())
        .ok_or_else(|| CommandError::InvalidInput("decide before prepare".into()))?;
    T::decide(input, folds)
}

/// Exports a [`Decide`] type as the crate's command.
#[macro_export]
macro_rules! command {
    ($decide:ty) => {
        struct __WbxTypedCommand;

        impl $crate::Command for __WbxTypedCommand {
            fn prepare(input: String) -> Result<Vec<$crate::QueryItem>, $crate::CommandError> {
                $crate::typed::prepare::<$decide>(input)
            }

            fn fold(events: Vec<$crate::Event>) {
                $crate::typed::fold::<$decide>(events)
            }

            fn decide() -> Result<Vec<$crate::NewEvent>, $crate::CommandError> {
                $crate::typed::decide::<$decide>()
            }
        }

        $crate::export_command!(__WbxTypedCommand);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Added {
        id: String,
    }

    impl DomainEvent for Added {
        const TYPE: &'static str = "Added";
        fn tags(&self) -> Vec<String> {
            vec![tag("id", &self.id)]
        }
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Removed {
        id: String,
    }

    impl DomainEvent for Removed {
        const TYPE: &'static str = "Removed";
        fn tags(&self) -> Vec<String> {
            vec![tag("id", &self.id)]
        }
    }

    fn stored(e: NewEvent, position: u64) -> Event {
        Event {
            id: position.to_string(),
            position,
            event_type: e.event_type,
            tags: e.tags,
            data: e.data,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn events_round_trip_through_their_types() {
        let emitted = emit![Added { id: "a".into() }];
        assert_eq!(emitted[0].event_type, "Added");
        assert_eq!(emitted[0].tags, ["id:a"]);
        let event = stored(emitted[0].clone(), 1);
        assert_eq!(event.decode::<Added>(), Some(Added { id: "a".into() }));
        assert!(event.decode::<Removed>().is_none());
    }

    #[test]
    fn each_part_of_a_tuple_fold_sees_only_its_events() {
        let mut folds = (
            Count::<Added>::tagged("id", "a"),
            Exists::<Removed>::tagged("id", "b"),
        );
        assert_eq!(folds.query().len(), 2);
        let events = [
            stored(Added { id: "a".into() }.to_event(), 1),
            stored(Added { id: "b".into() }.to_event(), 2),
            stored(Removed { id: "a".into() }.to_event(), 3),
            stored(Added { id: "a".into() }.to_event(), 4),
        ];
        events.iter().for_each(|e| folds.apply(e));
        assert_eq!(folds.0.0, 2, "two Added for a");
        assert!(!folds.1.0, "no Removed for b");
        let mut latest = Latest::<Added>::tagged("id", "b");
        let item = latest.1.clone();
        events
            .iter()
            .filter(|e| item.matches(e))
            .for_each(|e| latest.apply(e));
        assert_eq!(latest.0, Some(Added { id: "b".into() }));
    }
}
