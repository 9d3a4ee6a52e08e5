//! Where a validator's resident memory is, for the metrics: the process's resident set, what
//! jemalloc holds (the `waybill` binary's allocator, serving Rust and RocksDB's C++ alike), and
//! what glibc's malloc holds (nothing much in `waybill`, everything in a test binary). With
//! RocksDB's own accounting (`ledger::storage::StoreMemory`), a figure that keeps growing under
//! steady load names the leak.

/// Bytes; zero where a figure cannot be read (another platform, or an allocator not in use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessMemory {
    /// `VmRSS` of `/proc/self/status`.
    pub resident: u64,
    /// Bytes allocated through jemalloc and not freed (`stats.allocated`).
    pub jemalloc_allocated: u64,
    /// Pages jemalloc holds resident, allocated or not (`stats.resident`): the difference from
    /// `jemalloc_allocated` is fragmentation and freed memory not yet returned.
    pub jemalloc_resident: u64,
    /// Bytes allocated through glibc's malloc and not freed (`mallinfo2` `uordblks` plus
    /// `hblkhd`).
    pub glibc_allocated: u64,
    /// Bytes glibc's heaps hold free (`fordblks`): fragmentation, or memory not yet returned.
    pub glibc_free: u64,
}

impl ProcessMemory {
    pub fn read() -> ProcessMemory {
        let mut memory = ProcessMemory {
            resident: resident_bytes().unwrap_or(0),
            ..ProcessMemory::default()
        };
        read_jemalloc(&mut memory);
        read_glibc(&mut memory);
        memory
    }
}

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn read_jemalloc(memory: &mut ProcessMemory) {
    use tikv_jemalloc_ctl::{epoch, stats};
    // The statistics are cached until the epoch advances.
    if epoch::advance().is_err() {
        return;
    }
    memory.jemalloc_allocated = stats::allocated::read().map_or(0, |v| v as u64);
    memory.jemalloc_resident = stats::resident::read().map_or(0, |v| v as u64);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn read_glibc(memory: &mut ProcessMemory) {
    // SAFETY: mallinfo2 takes no arguments and only reads the allocator's counters (under each
    // arena's lock).
    let info = unsafe { libc::mallinfo2() };
    memory.glibc_allocated = (info.uordblks + info.hblkhd) as u64;
    memory.glibc_free = info.fordblks as u64;
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn read_glibc(_memory: &mut ProcessMemory) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_live_allocation_is_counted_by_one_allocator() {
        // Which allocator serves a test binary's `Vec` depends on how jemalloc got linked in;
        // one of them must count it. The figures are the whole process's, and the other tests
        // run in it at the same time: one of them freeing more than the block between the two
        // reads hides the block, so the reads are tried a few times.
        let allocated = |m: &ProcessMemory| m.jemalloc_allocated + m.glibc_allocated;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let before = ProcessMemory::read();
            assert!(before.resident > 0, "VmRSS read: {before:?}");
            let block = std::hint::black_box(vec![1u8; 8 << 20]);
            let after = ProcessMemory::read();
            drop(block);
            if allocated(&after) >= allocated(&before) + (8 << 20) {
                return;
            }
            seen.push((before, after));
        }
        panic!("an 8 MiB block was never counted: {seen:?}");
    }
}
