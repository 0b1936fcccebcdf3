//! The memory allocator of unionstat's programs: mimalloc, tuned to give
//! memory back as soon as it is freed.
//!
//! An indicators answer with 100 children makes and frees some 100,000 small
//! objects (maps, strings, the serialized text); with glibc's allocator their
//! `malloc`/`free` were about a fifth of the answer's time (BENCHMARKS.md,
//! "2026-12-07"), with mimalloc much less. mimalloc's defaults keep freed memory
//! for a while and commit whole arenas up front, which took the service's peak
//! while ingesting a 50,000-row workbook from ~150 MB to ~400 MB; purging at
//! once and committing on use keeps it where glibc's was.
//!
//! Each binary declares [`Allocator`] as its `#[global_allocator]` and calls
//! [`tune`] first thing in `main`. Code that runs in another program (the
//! integration tests, which embed the service) keeps that program's allocator;
//! [`tune`] then tunes glibc's the same way it was tuned before.

/// The allocator a unionstat binary declares as its global allocator.
pub type Allocator = mimalloc::MiMalloc;

/// mimalloc's option numbers (`mi_option_t` in its `mimalloc.h`, the same in
/// its v2 and v3): commit arenas eagerly (0: on use). Its default is set at
/// build time (`.cargo/config.toml`): the first arena is reserved before
/// `main`, too early for [`tune`]…
#[cfg(test)]
const MI_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// …and the milliseconds freed memory is kept before it goes back (0: at once;
/// mimalloc's default is 1,000).
const MI_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Malloc arenas of a process on glibc's allocator, unless `MALLOC_ARENA_MAX`
/// says otherwise.
const MALLOC_ARENAS: i32 = 2;
/// Allocations from this size up are mapped and given back whole when freed
/// (glibc), unless `MALLOC_MMAP_THRESHOLD_` says otherwise.
const MALLOC_MMAP_THRESHOLD: i32 = 128 * 1024;

/// Tunes the allocators; call before any thread starts. Environment variables
/// of the same names (`MIMALLOC_PURGE_DELAY`, `MALLOC_ARENA_MAX`,
/// `MALLOC_MMAP_THRESHOLD_`) win. Commit on use is mimalloc's compiled-in
/// default already (`MIMALLOC_ARENA_EAGER_COMMIT` overrides it).
pub fn tune() {
    let unset = |name: &str| std::env::var_os(name).is_none();
    // SAFETY: mi_option_set only sets an option, which mimalloc reads when it
    // next needs it.
    unsafe {
        if unset("MIMALLOC_PURGE_DELAY") {
            libmimalloc_sys::mi_option_set(MI_PURGE_DELAY, 0);
        }
    }
    // A large workbook passes through the service as a few big buffers (the
    // file, the reader's answer, its rows). With glibc's defaults each runtime
    // thread may grow an arena of its own, and the threshold above which
    // buffers are mapped rises after every large free, so freed buffers stay
    // in the heap. Two arenas and a fixed threshold keep it near the heap.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before other
    // threads exist.
    unsafe {
        if unset("MALLOC_ARENA_MAX") {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
        if unset("MALLOC_MMAP_THRESHOLD_") {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
        }
    }
}

#[cfg(test)]
mod tests {
    // The only test that calls `tune`: it reads mimalloc's defaults first.
    use super::*;

    #[test]
    fn the_option_numbers_are_mimallocs_purge_delay_and_eager_commit() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
            || std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_some()
        {
            return;
        }
        // SAFETY: reading options.
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        // mimalloc's (v3, options.c) default purge delay is 1,000 ms; its
        // eager commit (2: on systems that overcommit) is 0 from the build's
        // CFLAGS (.cargo/config.toml).
        assert_eq!((get(MI_PURGE_DELAY), get(MI_ARENA_EAGER_COMMIT)), (1000, 0));
        tune();
        assert_eq!((get(MI_PURGE_DELAY), get(MI_ARENA_EAGER_COMMIT)), (0, 0));
    }
}
