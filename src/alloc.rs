//! The wasm heap: power-of-two size classes, each with its own free list, over a bump pointer
//! into pages taken with `memory.grow`. Replaces std's dlmalloc (~3 kB smaller in
//! dist/action.js).
//!
//! Why this shape: every operation is O(1) whatever the size, so the 1 MB roles page (a reply
//! buffer doubling up to 1 MB, then ~25,000 small strings) stays as fast as with dlmalloc; a
//! freed block is reused exactly by the next request of its class (a big reply buffer by the
//! next big reply), so one container's memory stays bounded by its peak use per class instead
//! of fragmenting (the failure of `lol_alloc`'s single free list: 1.4–3.4 s per 1 MB page).
//! The price is up to 2× per block, and memory once given to a class stays in it.
//! The instance is single-threaded (no wasm atomics), which is what makes the `Sync` sound.

#[allow(unused_imports)]
use crate::prelude::*;

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::memory_grow;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65536;
/// Pages taken per `memory.grow` at least (1 MiB).
const GROW: usize = 16;
/// A freed block holds the next pointer of its free list, so no block is below 8 bytes.
const MIN: usize = 8;

struct Heap {
    /// `free[c]`: the first freed block of 2^c bytes (null: none), linked through its first word.
    free: [*mut u8; 32],
    /// The bump region: `top..end` is taken from wasm memory but not yet handed out.
    top: usize,
    end: usize,
}

/// The global allocator of the wasm build (see the module documentation).
pub struct ClassAlloc(UnsafeCell<Heap>);

// SAFETY: wasm32-unknown-unknown without the atomics feature has exactly one thread.
unsafe impl Sync for ClassAlloc {}

impl ClassAlloc {
    /// An empty heap: the first allocation grows memory.
    pub const fn new() -> Self {
        ClassAlloc(UnsafeCell::new(Heap {
            free: [null_mut(); 32],
            top: 0,
            end: 0,
        }))
    }
}

impl Default for ClassAlloc {
    fn default() -> Self {
        Self::new()
    }
}

/// The class of a block for `size` bytes at `align`: ⌈log2⌉ of the larger, at least 3.
/// (A `Layout`'s size is at most `isize::MAX`, so on wasm32 the class is at most 31.)
fn class(size: usize, align: usize) -> usize {
    let s = size.max(align).max(MIN);
    (usize::BITS - (s - 1).leading_zeros()) as usize
}

impl Heap {
    /// A fresh block of 2^c bytes from the bump region, growing memory as needed.
    fn bump(&mut self, c: usize, align: usize) -> *mut u8 {
        let size = 1usize << c;
        // Every block size is a multiple of 8 and `top` starts page-aligned, so blocks are
        // 8-aligned; a larger alignment is rounded up to here.
        let align = align.max(MIN);
        loop {
            let start = (self.top + align - 1) & !(align - 1);
            let Some(stop) = start.checked_add(size) else {
                return null_mut();
            };
            if stop <= self.end {
                self.top = stop;
                return start as *mut u8;
            }
            // At least 1 MiB at a time: each `memory.grow` costs the host a new buffer (and
            // the glue its views), measured ~15% of a 1 MB page's parse when grown page by page.
            let pages = (stop - self.end).div_ceil(PAGE).max(GROW);
            let old = memory_grow(0, pages);
            if old == usize::MAX {
                return null_mut();
            }
            let base = old * PAGE;
            if base != self.end {
                // Not contiguous with our region (the first growth): start over at the new pages.
                self.top = base;
            }
            self.end = base + pages * PAGE;
        }
    }
}

unsafe impl GlobalAlloc for ClassAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Sync` above) and never re-entered.
        let h = unsafe { &mut *self.0.get() };
        let c = class(l.size(), l.align());
        let head = h.free[c];
        // A freed block is 8-aligned (see `bump`); a larger alignment takes a fresh one.
        if !head.is_null() && l.align() <= MIN {
            // SAFETY: a block on a free list holds the next pointer in its first word.
            h.free[c] = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        h.bump(c, l.align())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, l: Layout) {
        // SAFETY: as in `alloc`; `ptr` is a block of this class that the caller gives back.
        let h = unsafe { &mut *self.0.get() };
        let c = class(l.size(), l.align());
        unsafe { *(ptr as *mut *mut u8) = h.free[c] };
        h.free[c] = ptr;
    }

    unsafe fn realloc(&self, ptr: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        // Same class: the block already has room (a growing Vec mostly stays put).
        if class(new_size, l.align()) == class(l.size(), l.align()) {
            return ptr;
        }
        // SAFETY: the caller's contract of `realloc` (valid `l`, `new_size` fits in isize).
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, l.align()));
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, l.size().min(new_size));
                self.dealloc(ptr, l);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn classes_round_up_to_powers_of_two() {
        assert_eq!(class(0, 1), 3);
        assert_eq!(class(8, 8), 3);
        assert_eq!(class(9, 1), 4);
        assert_eq!(class(1000, 8), 10);
        assert_eq!(class(1 << 20, 1), 20);
        assert_eq!(class(4, 64), 6);
    }

    #[wasm_bindgen_test]
    fn a_freed_block_is_reused_and_realloc_stays_in_its_class() {
        let a = ClassAlloc::new();
        unsafe {
            let l = Layout::from_size_align(100, 8).unwrap();
            let p = a.alloc(l);
            assert!(!p.is_null() && p as usize % 8 == 0);
            p.write_bytes(7, 100);
            // 100 → 120 bytes: both in the 128-byte class, so the block stays put.
            assert_eq!(a.realloc(p, l, 120), p);
            // → 1 MB: moved, contents kept, the old block back on its list.
            let big = a.realloc(p, Layout::from_size_align(120, 8).unwrap(), 1 << 20);
            assert_ne!(big, p);
            assert_eq!(*big.add(99), 7);
            assert_eq!(a.alloc(l), p);
            // A freed 1 MB block serves the next 1 MB request without growing memory.
            let lb = Layout::from_size_align(1 << 20, 1).unwrap();
            a.dealloc(big, lb);
            assert_eq!(a.alloc(lb), big);
            // Over-aligned requests get their alignment.
            let q = a.alloc(Layout::from_size_align(24, 256).unwrap());
            assert_eq!(q as usize % 256, 0);
        }
    }
}
