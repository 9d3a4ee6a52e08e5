//! What happened to each transaction of the run, written from many tasks without locks: when it
//! was sent, whether its node refused it (and why), when the client first learnt it committed.
//! Times are nanoseconds since the run's clock started, stored `+ 1` so that 0 means "not yet".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub struct Tracker {
    pub t0: Instant,
    sent: Vec<AtomicU64>,
    committed: Vec<AtomicU64>,
    /// Per transaction, 0 or `1 + index` into `reasons`.
    rejected: Vec<AtomicU64>,
    reasons: Mutex<Vec<String>>,
    sent_count: AtomicU64,
    committed_count: AtomicU64,
    rejected_count: AtomicU64,
}

/// The final account of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    NotSent,
    Committed { latency_ns: u64, at_ns: u64 },
    Rejected(String),
    TimedOut,
}

impl Tracker {
    pub fn new(n: usize, t0: Instant) -> Self {
        let zeros = || (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
        Tracker {
            t0,
            sent: zeros(),
            committed: zeros(),
            rejected: zeros(),
            reasons: Mutex::new(Vec::new()),
            sent_count: AtomicU64::new(0),
            committed_count: AtomicU64::new(0),
            rejected_count: AtomicU64::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }

    fn stamp(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.t0).as_nanos() as u64 + 1
    }

    pub fn sent(&self, i: u32, at: Instant) {
        if let Some(slot) = self.sent.get(i as usize) {
            if slot.swap(self.stamp(at), Ordering::Relaxed) == 0 {
                self.sent_count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records a commit seen at `at`; the first sighting wins (several nodes notify the block).
    pub fn committed(&self, i: u32, at: Instant) {
        if let Some(slot) = self.committed.get(i as usize) {
            if slot
                .compare_exchange(0, self.stamp(at), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                self.committed_count.fetch_add(1, Ordering::Relaxed);
                // It no longer counts as refused (see `fate`), so `outstanding` stays right.
                if self.rejected[i as usize].load(Ordering::Relaxed) != 0 {
                    self.rejected_count.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    pub fn rejected(&self, i: u32, reason: &str) {
        let Some(slot) = self.rejected.get(i as usize) else {
            return;
        };
        // Few distinct reasons exist; interning them keeps the per-transaction state one word.
        let code = {
            let mut reasons = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
            match reasons.iter().position(|r| r == reason) {
                Some(k) => k,
                None => {
                    reasons.push(reason.to_string());
                    reasons.len() - 1
                }
            }
        };
        if slot.swap(code as u64 + 1, Ordering::Relaxed) == 0
            && self.committed[i as usize].load(Ordering::Relaxed) == 0
        {
            self.rejected_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn sent_count(&self) -> u64 {
        self.sent_count.load(Ordering::Relaxed)
    }

    /// Sent, neither refused nor seen committed yet.
    pub fn outstanding(&self) -> u64 {
        self.sent_count().saturating_sub(
            self.committed_count.load(Ordering::Relaxed)
                + self.rejected_count.load(Ordering::Relaxed),
        )
    }

    /// A commit counts even if the node also answered with an error (e.g. a transport
    /// timeout on a transaction that was in fact admitted): the ledger is the truth.
    pub fn fate(&self, i: usize) -> Fate {
        let sent = self.sent[i].load(Ordering::Relaxed);
        let committed = self.committed[i].load(Ordering::Relaxed);
        let rejected = self.rejected[i].load(Ordering::Relaxed);
        if committed != 0 {
            // A transaction can be seen committed before its own batch call returned, never
            // before it was sent; `sent` is stamped before the call.
            Fate::Committed {
                latency_ns: committed.saturating_sub(sent.max(1)),
                at_ns: committed - 1,
            }
        } else if sent == 0 {
            Fate::NotSent
        } else if rejected != 0 {
            let reasons = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
            Fate::Rejected(
                reasons
                    .get(rejected as usize - 1)
                    .cloned()
                    .unwrap_or_default(),
            )
        } else {
            Fate::TimedOut
        }
    }

    /// Rejection reasons with their counts (over transactions that did not commit).
    pub fn rejection_counts(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for i in 0..self.len() {
            if let Fate::Rejected(r) = self.fate(i) {
                *out.entry(r).or_default() += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_transaction_has_exactly_one_fate() {
        let t0 = Instant::now();
        let t = Tracker::new(5, t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        for i in 0..4 {
            t.sent(i, at(10));
        }
        t.committed(0, at(60));
        t.committed(0, at(90)); // a later node's notification does not move it
        t.rejected(1, "mempool_full");
        t.rejected(2, "transport: timed out");
        t.committed(2, at(70)); // refused by the transport, but it did commit
        assert_eq!(
            t.fate(0),
            Fate::Committed {
                latency_ns: 50_000_000,
                at_ns: 60_000_000
            }
        );
        assert_eq!(t.fate(1), Fate::Rejected("mempool_full".into()));
        assert!(matches!(t.fate(2), Fate::Committed { .. }));
        assert_eq!(t.fate(3), Fate::TimedOut);
        assert_eq!(t.fate(4), Fate::NotSent);
        assert_eq!(t.sent_count(), 4);
        assert_eq!(t.outstanding(), 1, "only transaction 3 is still waiting");
        t.committed(99, at(1)); // not ours: ignored
    }
}
