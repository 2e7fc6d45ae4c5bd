//! The tokio runtimes all I/O runs on, one of each kind per process, made again in a child after
//! `fork()`.
//!
//! - `current_thread()` serves blocking calls: the calling thread drives the I/O itself inside
//!   `block_on`, so a call costs no thread hand-offs. Several threads may call at once; one
//!   drives the shared driver while the others wait on their own futures.
//! - `multi_thread()` serves asyncio calls, whose futures must progress while no Python thread is
//!   blocked on them.
//!
//! Worker threads and the I/O driver do not survive `fork()` (the child would even share the
//! parent's epoll instance), so each runtime is tagged with the pid that built it and a caller in
//! another process gets a fresh one. The old one is leaked on purpose: dropping it in the child
//! would wait for threads that do not exist there and deregister the parent's sockets.

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

use tokio::runtime::{Builder, Runtime};

type Tagged = Option<(u32, &'static Runtime)>;

/// One lazily built, pid-tagged runtime. Its lock is taken only on a thread's first use (and
/// after a fork), so a fork can hardly catch another thread holding it.
struct PerProcess {
    shared: Mutex<Tagged>,
    build: fn() -> std::io::Result<Runtime>,
}

impl PerProcess {
    fn get(&self, seen: &'static std::thread::LocalKey<Cell<Tagged>>) -> std::io::Result<&'static Runtime> {
        let pid = std::process::id();
        if let Some((owner, runtime)) = seen.get()
            && owner == pid
        {
            return Ok(runtime);
        }
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let runtime = match *shared {
            Some((owner, runtime)) if owner == pid => runtime,
            _ => {
                let runtime: &'static Runtime = Box::leak(Box::new((self.build)()?));
                *shared = Some((pid, runtime));
                runtime
            }
        };
        seen.set(Some((pid, runtime)));
        Ok(runtime)
    }
}

static MULTI: PerProcess = PerProcess { shared: Mutex::new(None), build: build_multi };
static CURRENT: PerProcess = PerProcess { shared: Mutex::new(None), build: build_current };

thread_local! {
    /// Each thread's copies of the shared slots, so the hot path takes no lock.
    static SEEN_MULTI: Cell<Tagged> = const { Cell::new(None) };
    static SEEN_CURRENT: Cell<Tagged> = const { Cell::new(None) };
}

/// The runtime for asyncio callers (worker threads drive the I/O).
pub fn multi_thread() -> std::io::Result<&'static Runtime> {
    MULTI.get(&SEEN_MULTI)
}

/// The runtime for blocking callers (the caller drives the I/O in `block_on`).
pub fn current_thread() -> std::io::Result<&'static Runtime> {
    CURRENT.get(&SEEN_CURRENT)
}

/// Run `future` to completion on the current-thread runtime, this thread driving the I/O.
pub fn block_on<F: std::future::Future>(future: F) -> std::io::Result<F::Output> {
    Ok(block_on_caught_up(current_thread()?, future))
}

/// `runtime.block_on(future)`, after letting `runtime` catch up on what happened while nobody
/// drove it.
pub(crate) fn block_on_caught_up<F: std::future::Future>(runtime: &Runtime, future: F) -> F::Output {
    runtime.block_on(async {
        catch_up().await;
        future.await
    })
}

/// Between blocking calls nobody drives the current-thread runtime, so what happened meanwhile
/// waits unseen: above all a server closing an idle pooled connection (its FIN). Yielding lets
/// the scheduler poll the I/O driver and run the connection tasks it woke, so the pool drops the
/// dead connections before this call checks one out; twice, so that it does not matter in which
/// order the scheduler does the two. When another thread is driving the runtime, it has seen
/// them already and the yields cost a few microseconds.
async fn catch_up() {
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
}

fn build_multi() -> std::io::Result<Runtime> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    Builder::new_multi_thread().worker_threads(workers).thread_name("cloudpartner-io").enable_all().build()
}

fn build_current() -> std::io::Result<Runtime> {
    Builder::new_current_thread().thread_name("cloudpartner-blocking").enable_all().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_of_each_kind_per_process_shared_by_threads() {
        for get in [multi_thread, current_thread] {
            let a = get().unwrap() as *const _ as usize;
            let b = std::thread::spawn(move || get().unwrap() as *const _ as usize).join().unwrap();
            assert_eq!(a, b);
        }
        assert_ne!(multi_thread().unwrap() as *const _, current_thread().unwrap() as *const _);
    }

    #[test]
    fn threads_share_the_current_thread_runtime_concurrently() {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    current_thread().unwrap().block_on(async move {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        i
                    })
                })
            })
            .collect();
        let got: Vec<i32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3]);
    }
}
