//! [`Extensions`]: what a model adds to an instance's host state, one value
//! per type.
//!
//! The core's [`HostState`](crate::HostState) cannot name a model's types,
//! so each model keeps its per-instance context here, under a type of its
//! own (a database connection, the right to execute commands, a mesh
//! caller's identity), and its host functions look it up by that type. An
//! instance carries only what its kind was given; a host function whose
//! context is missing answers with an error, not a panic.

use std::any::{Any, TypeId};
use std::collections::HashMap;

#[derive(Default)]
pub struct Extensions(HashMap<TypeId, Box<dyn Any + Send>>);

impl Extensions {
    /// Adds `value`, replacing one of the same type.
    pub fn insert<T: Any + Send>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// `self` with `value` added, for building instance set-ups.
    pub fn with<T: Any + Send>(mut self, value: T) -> Self {
        self.insert(value);
        self
    }

    pub fn get<T: Any + Send>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref()
    }

    pub fn get_mut<T: Any + Send>(&mut self) -> Option<&mut T> {
        self.0.get_mut(&TypeId::of::<T>())?.downcast_mut()
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Extensions({} values)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::Extensions;

    #[test]
    fn one_value_per_type() {
        let mut extensions = Extensions::default().with(1u32).with("text");
        extensions.insert(2u32);
        assert_eq!(extensions.get::<u32>(), Some(&2));
        assert_eq!(extensions.get::<&str>(), Some(&"text"));
        assert_eq!(extensions.get::<u64>(), None);
        *extensions.get_mut::<u32>().unwrap() += 1;
        assert_eq!(extensions.get::<u32>(), Some(&3));
    }
}
