//! The tokio runtime all I/O runs on: one per process, made again in a child after `fork()`.
//!
//! A runtime's worker threads do not survive `fork()`, so a child that kept using the parent's
//! runtime would hang. The runtime is tagged with the pid that built it; a caller in another
//! process gets a fresh one. The old one is leaked on purpose: dropping it in the child would
//! wait for threads that do not exist there.

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

use tokio::runtime::{Builder, Runtime};

type Tagged = Option<(u32, &'static Runtime)>;

/// The process's runtime. Locked only on a thread's first call (and after a fork), so a fork can
/// hardly catch another thread holding it.
static SHARED: Mutex<Tagged> = Mutex::new(None);

thread_local! {
    /// Each thread's copy of `SHARED`, so the hot path takes no lock.
    static SEEN: Cell<Tagged> = const { Cell::new(None) };
}

/// The runtime of this process.
pub fn get() -> std::io::Result<&'static Runtime> {
    let pid = std::process::id();
    if let Some((owner, runtime)) = SEEN.get()
        && owner == pid
    {
        return Ok(runtime);
    }
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = match *shared {
        Some((owner, runtime)) if owner == pid => runtime,
        _ => {
            let runtime: &'static Runtime = Box::leak(Box::new(build()?));
            *shared = Some((pid, runtime));
            runtime
        }
    };
    SEEN.set(Some((pid, runtime)));
    Ok(runtime)
}

fn build() -> std::io::Result<Runtime> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    Builder::new_multi_thread().worker_threads(workers).thread_name("cloudpartner-io").enable_all().build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_runtime_per_process_shared_by_threads() {
        let a = super::get().unwrap() as *const _ as usize;
        let b = std::thread::spawn(|| super::get().unwrap() as *const _ as usize).join().unwrap();
        assert_eq!(a, b);
        assert_eq!(super::get().unwrap().block_on(async { 7 }), 7);
    }
}
