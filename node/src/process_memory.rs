//! Where a validator's resident memory is, for the metrics: the process's resident set, what
//! Rust code holds through jemalloc, and what C++ code (RocksDB) holds through glibc's malloc.
//! Their sum, less RocksDB's own accounting (`ledger::StoreMemory`), is what the node's own
//! structures and the allocators' slack take; a figure that keeps growing under steady load
//! names the leak.

/// Bytes; zero where a figure cannot be read (another platform, or jemalloc not the allocator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessMemory {
    /// `VmRSS` of `/proc/self/status`.
    pub resident: u64,
    /// Bytes Rust code has allocated and not freed (jemalloc `stats.allocated`).
    pub rust_allocated: u64,
    /// Pages jemalloc holds resident, allocated or not (`stats.resident`).
    pub rust_allocator_resident: u64,
    /// Bytes C and C++ code has allocated through glibc and not freed (`mallinfo2` `uordblks`
    /// plus `hblkhd`).
    pub c_allocated: u64,
    /// Bytes glibc's heaps hold free (`fordblks`): fragmentation, or memory not yet returned.
    pub c_free: u64,
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
    memory.rust_allocated = stats::allocated::read().map_or(0, |v| v as u64);
    memory.rust_allocator_resident = stats::resident::read().map_or(0, |v| v as u64);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn read_glibc(memory: &mut ProcessMemory) {
    // SAFETY: mallinfo2 only reads the allocator's counters; it takes each arena's lock.
    let info = unsafe { libc::mallinfo2() };
    memory.c_allocated = (info.uordblks + info.hblkhd) as u64;
    memory.c_free = info.fordblks as u64;
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn read_glibc(_memory: &mut ProcessMemory) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_live_allocation_is_counted() {
        let before = ProcessMemory::read();
        assert!(before.resident > 0, "VmRSS read: {before:?}");
        // The test binary's allocator is glibc's (jemalloc is the binary's global allocator
        // only), so a large Rust allocation shows up in glibc's figures.
        let block = vec![1u8; 8 << 20];
        let after = ProcessMemory::read();
        assert!(
            after.c_allocated >= before.c_allocated + (8 << 20),
            "before {before:?}, after {after:?}"
        );
        drop(block);
    }
}
