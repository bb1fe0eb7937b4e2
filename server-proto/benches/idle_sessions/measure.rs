//! What the bench measures with: a counting allocator, the process's
//! resident set, the thread's CPU clock.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cpu_clock::cpu_clock;

/// The system allocator, counting the bytes and blocks it holds and the
/// allocations made.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn allocated(size: usize) {
    LIVE_BYTES.fetch_add(size, Ordering::Relaxed);
    LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
}

// SAFETY: every call goes to `System` with the caller's arguments,
// unchanged; the counters are atomics and allocate nothing.
#[allow(
    unsafe_code,
    reason = "GlobalAlloc is an unsafe trait: the bench counts the heap"
)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            allocated(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            allocated(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (so from `System`) with
        // `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`, and `new_size` is the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocator's counters at one moment.
#[derive(Clone, Copy)]
pub(crate) struct Heap {
    pub(crate) bytes: usize,
    pub(crate) blocks: usize,
    pub(crate) allocations: usize,
}

impl Heap {
    pub(crate) fn now() -> Self {
        Self {
            bytes: LIVE_BYTES.load(Ordering::Relaxed),
            blocks: LIVE_BLOCKS.load(Ordering::Relaxed),
            allocations: ALLOCATIONS.load(Ordering::Relaxed),
        }
    }
}

/// The process's resident set, from `/proc` (Linux).
pub(crate) fn rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

// ---- clocks --------------------------------------------------------------

/// CPU and wall time of something.
#[derive(Clone, Copy, Default)]
pub(crate) struct Took {
    pub(crate) cpu: Duration,
    pub(crate) wall: Duration,
}

/// Runs `f`, timed.
#[allow(clippy::disallowed_methods, reason = "the bench's own stopwatch")]
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, Took) {
    let (cpu, wall) = (cpu_clock(), Instant::now());
    let out = f();
    let took = Took {
        cpu: cpu_clock().saturating_sub(cpu),
        wall: wall.elapsed(),
    };
    (out, took)
}
