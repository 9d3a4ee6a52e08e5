//! Throughput work yields to the rounds. Checking the signatures of submitted and gossiped
//! transactions (`sigcheck`, `intake`) is most of a validator's CPU under load, and none of it is
//! on a round's path: a round waits on the engine's thread (proposals, votes, the commit; a
//! proposal's transactions this node has not checked yet are checked there, at its priority).
//! Both competed for the same cores at equal weight. The checking threads now run at a lower
//! priority, so the scheduler gives a round's work the core first and the checks take the rest.
//! A lower priority is a weight, not a ban: on an idle core the checks run at full speed, and
//! under load they still get their share.
//!
//! The checks run on tokio's blocking pool, whose threads are reused: a lowered thread may later
//! run the pool's other work (the admin socket's backup checkpoint), which is background work
//! too.

/// How much nicer than the rest of the node the checking threads run, in Linux `nice` steps
/// (each about a fifth less weight): at 10, a checking thread weighs about a tenth of the engine's
/// thread when both want a core. 5 was tried too, and its pairs were less clear (BENCHMARKS.md,
/// seventeenth pass).
pub const CHECKING_NICENESS: i32 = 10;

/// Lowers the calling thread's priority by [`CHECKING_NICENESS`], once per thread. On Linux a
/// thread's nice value is its own (`setpriority` on its thread id), and threads it starts
/// inherit it. A failure is ignored: the thread then runs at the node's priority, as before.
pub fn lower_this_thread_for_checking() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if LOWERED.with(|l| l.replace(true)) {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread's own id, with no pointers.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let current = libc::getpriority(libc::PRIO_PROCESS, tid);
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, current + CHECKING_NICENESS);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn this_thread_nice() -> i32 {
        // SAFETY: as above.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        }
    }

    #[test]
    fn a_checking_thread_is_lowered_once_and_other_threads_are_not() {
        let before = this_thread_nice();
        let (first, second) = std::thread::spawn(|| {
            let start = this_thread_nice();
            lower_this_thread_for_checking();
            let first = this_thread_nice() - start;
            lower_this_thread_for_checking();
            (first, this_thread_nice() - start)
        })
        .join()
        .expect("thread");
        // 19 is the floor of priorities; a test run already at it cannot go lower.
        let expected = CHECKING_NICENESS.min(19 - before);
        assert_eq!(first, expected, "lowered by the constant");
        assert_eq!(second, expected, "and only once per thread");
        assert_eq!(
            this_thread_nice(),
            before,
            "the calling thread keeps its priority"
        );
    }
}
