//! Fiber stacks kept for the next instance. Every guest call runs on a
//! native stack of its own (a fiber), which wasmtime's on-demand allocator
//! maps when an instance makes its first call and unmaps when the instance
//! ends. An instance that lives for one call (a command, a mesh call, a
//! request) paid a `mmap`, an `mprotect`, the faults of the pages its call
//! touched and a `munmap`: about a tenth of a command's execution. A
//! [`StackShelf`] keeps up to [`KEEP`] stacks an instance gave back, pages
//! still mapped, and lends them to the next ones.
//!
//! A lent stack still holds what its last call left on it. Guest code
//! cannot read a native stack (its loads and stores reach its own linear
//! memory only), which is why wasmtime's own pooling allocator does not
//! zero stacks unless asked either; when wasmtime asks (`zeroed`), a reused
//! stack's pages are given back to the kernel first, so they read as zeros.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use wasmtime::{Result, StackCreator, StackMemory, bail};

use crate::sync::lock;

/// How many given-back stacks a shelf keeps: enough for the instances a
/// busy engine makes and ends at once; each holds only the pages its calls
/// touched.
pub const KEEP: usize = 16;

/// Lends fiber stacks to a wasmtime engine (`Config::with_host_stack`).
#[derive(Default)]
pub struct StackShelf {
    kept: Arc<Mutex<Vec<Mapping>>>,
}

// SAFETY: each stack is a mapping of its own with a guard page below it,
// page-aligned, and lent to one fiber at a time (a mapping is either on
// the shelf or owned by one `LentStack`).
unsafe impl StackCreator for StackShelf {
    fn new_stack(&self, size: usize, zeroed: bool) -> Result<Box<dyn StackMemory>> {
        let size = size.next_multiple_of(page_size());
        let reused = {
            let mut kept = lock(&self.kept);
            let at = kept.iter().rposition(|m| m.size == size);
            at.map(|at| kept.swap_remove(at))
        };
        let mapping = match reused {
            Some(mapping) => {
                if zeroed {
                    mapping.discard()?;
                }
                mapping
            }
            None => Mapping::new(size)?,
        };
        Ok(Box::new(LentStack {
            mapping: Some(mapping),
            shelf: self.kept.clone(),
        }))
    }
}

/// A stack lent to one instance; back on the shelf when it is dropped.
struct LentStack {
    mapping: Option<Mapping>,
    shelf: Arc<Mutex<Vec<Mapping>>>,
}

impl LentStack {
    fn mapping(&self) -> &Mapping {
        self.mapping.as_ref().expect("a lent stack has its mapping")
    }
}

// SAFETY: the ranges are those of the mapping this stack owns alone.
unsafe impl StackMemory for LentStack {
    fn top(&self) -> *mut u8 {
        let m = self.mapping();
        (m.base + m.guard + m.size) as *mut u8
    }

    fn range(&self) -> Range<usize> {
        let m = self.mapping();
        m.base + m.guard..m.base + m.guard + m.size
    }

    fn guard_range(&self) -> Range<*mut u8> {
        let m = self.mapping();
        m.base as *mut u8..(m.base + m.guard) as *mut u8
    }
}

impl Drop for LentStack {
    fn drop(&mut self) {
        let Some(mapping) = self.mapping.take() else {
            return;
        };
        let mut kept = lock(&self.shelf);
        if kept.len() < KEEP {
            kept.push(mapping);
        }
        // Otherwise the mapping drops here: unmapped.
    }
}

/// An anonymous mapping: a guard page, then `size` bytes of stack.
struct Mapping {
    base: usize,
    guard: usize,
    size: usize,
}

impl Mapping {
    fn new(size: usize) -> Result<Mapping> {
        let guard = page_size();
        let len = guard + size;
        // SAFETY: a fresh private anonymous mapping, touched by no one
        // else; the stack part is made writable below its guard page.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                bail!(
                    "cannot map a {size}-byte fiber stack: {}",
                    std::io::Error::last_os_error()
                );
            }
            let mapping = Mapping {
                base: base as usize,
                guard,
                size,
            };
            let stack = (mapping.base + guard) as *mut libc::c_void;
            if libc::mprotect(stack, size, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                bail!(
                    "cannot make a fiber stack writable: {}",
                    std::io::Error::last_os_error()
                );
            }
            Ok(mapping)
        }
    }

    /// Gives the stack's pages back: the next touch reads zeros.
    fn discard(&self) -> Result<()> {
        let stack = (self.base + self.guard) as *mut libc::c_void;
        // SAFETY: the range is this mapping's stack, lent to no fiber now.
        if unsafe { libc::madvise(stack, self.size, libc::MADV_DONTNEED) } != 0 {
            bail!(
                "cannot clear a fiber stack: {}",
                std::io::Error::last_os_error()
            );
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `new`, used by no fiber now.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.guard + self.size);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: usize = 64 * 1024;

    fn lend(shelf: &StackShelf, zeroed: bool) -> Box<dyn StackMemory> {
        shelf.new_stack(SIZE, zeroed).unwrap()
    }

    fn kept(shelf: &StackShelf) -> usize {
        lock(&shelf.kept).len()
    }

    #[test]
    fn a_stack_given_back_is_lent_again_as_it_was() {
        let shelf = StackShelf::default();
        let stack = lend(&shelf, false);
        let range = stack.range();
        assert_eq!(range.len(), SIZE);
        assert_eq!(stack.top() as usize, range.end);
        assert_eq!(stack.guard_range().end as usize, range.start);
        // SAFETY: the stack is lent to no fiber; its range is writable.
        unsafe { *((range.end - 8) as *mut u64) = 0x5eed };
        drop(stack);
        assert_eq!(kept(&shelf), 1);

        let again = lend(&shelf, false);
        assert_eq!(again.range(), range, "the same mapping, not a new one");
        assert_eq!(kept(&shelf), 0);
        // SAFETY: as above.
        assert_eq!(unsafe { *((range.end - 8) as *const u64) }, 0x5eed);
    }

    #[test]
    fn a_stack_asked_for_zeroed_reads_as_zeros() {
        let shelf = StackShelf::default();
        let stack = lend(&shelf, false);
        let range = stack.range();
        // SAFETY: the stack is lent to no fiber; its range is writable.
        unsafe { std::ptr::write_bytes(range.start as *mut u8, 0xab, range.len()) };
        drop(stack);

        let zeroed = lend(&shelf, true);
        assert_eq!(zeroed.range(), range);
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(range.start as *const u8, range.len()) };
        assert!(bytes.iter().all(|b| *b == 0));
    }

    #[test]
    fn the_shelf_keeps_a_bounded_number_of_stacks() {
        let shelf = StackShelf::default();
        let stacks: Vec<_> = (0..KEEP + 4).map(|_| lend(&shelf, false)).collect();
        drop(stacks);
        assert_eq!(kept(&shelf), KEEP);
        // A stack of another size is made anew, not cut from a kept one.
        let other = shelf.new_stack(2 * SIZE, false).unwrap();
        assert_eq!(other.range().len(), 2 * SIZE);
        assert_eq!(kept(&shelf), KEEP);
    }
}
