//! What happened to each transaction of the run, written from many tasks without locks: when it
//! was sent, whether its node refused it (and why), when the client first learnt it committed.
//! Times are nanoseconds since the run's clock started, stored `+ 1` so that 0 means "not yet".
//!
//! Besides the two ends (sent, seen committed), two stages in between are kept, so a run says
//! where its latency goes: when the node answered the submission (admitted, its signature
//! checked), and when the leader proposed the block that holds it (the block header's
//! `timestamp_ms`, the leader's wall clock: the loadgen and the validators share the machine's
//! clock, so the stamp is comparable to ours within a millisecond).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub struct Tracker {
    pub t0: Instant,
    /// The wall clock at `t0`, in nanoseconds since the Unix epoch: converts block timestamps.
    wall0_ns: u64,
    sent: Vec<AtomicU64>,
    /// When the node's answer to the transaction's submission arrived.
    answered: Vec<AtomicU64>,
    /// When the block that committed it was proposed (its header's timestamp).
    proposed: Vec<AtomicU64>,
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

/// Where one committed transaction's latency went, in nanoseconds. Each is `None` when a stamp
/// is missing (a transport error left no answer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stages {
    /// Sent to the node's answer: RPC, signature check, admission.
    pub answered_ns: Option<u64>,
    /// Sent to the proposal of its block: gossip to the leader, waiting for the leader's turn.
    pub proposed_ns: Option<u64>,
    /// Proposal to the first commit notification: the rounds that certify and commit it,
    /// execution, the store's write, the notification.
    pub committed_after_proposal_ns: Option<u64>,
}

impl Tracker {
    pub fn new(n: usize, t0: Instant) -> Self {
        let zeros = || (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
        // The clock may start a moment from now (the run starts it once subscriptions are up).
        let (instant_now, wall_now) = (Instant::now(), SystemTime::now());
        let wall_now = wall_now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let wall0 = if t0 >= instant_now {
            wall_now + (t0 - instant_now)
        } else {
            wall_now.saturating_sub(instant_now - t0)
        };
        Tracker {
            t0,
            wall0_ns: wall0.as_nanos() as u64,
            sent: zeros(),
            answered: zeros(),
            proposed: zeros(),
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

    /// The node answered the call that carried transaction `i`.
    pub fn answered(&self, i: u32, at: Instant) {
        if let Some(slot) = self.answered.get(i as usize) {
            let _ = slot.compare_exchange(0, self.stamp(at), Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Records a commit seen at `at`, of a block proposed at `proposed_ms` (its header's
    /// timestamp, Unix milliseconds, when known); the first sighting wins (several nodes notify
    /// the block).
    pub fn committed(&self, i: u32, at: Instant, proposed_ms: Option<u64>) {
        if let Some(slot) = self.committed.get(i as usize) {
            if slot
                .compare_exchange(0, self.stamp(at), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                if let Some(ms) = proposed_ms {
                    let proposed_ns = (ms * 1_000_000).saturating_sub(self.wall0_ns) + 1;
                    self.proposed[i as usize].store(proposed_ns, Ordering::Relaxed);
                }
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

    /// The stages of a committed transaction's latency (`None` for one not committed).
    pub fn stages(&self, i: usize) -> Option<Stages> {
        let load = |v: &[AtomicU64]| v[i].load(Ordering::Relaxed);
        let (sent, committed) = (load(&self.sent), load(&self.committed));
        if sent == 0 || committed == 0 {
            return None;
        }
        let after = |from: u64, to: u64| (from != 0 && to != 0).then(|| to.saturating_sub(from));
        let (answered, proposed) = (load(&self.answered), load(&self.proposed));
        Some(Stages {
            answered_ns: after(sent, answered),
            // The header's stamp is whole milliseconds: a block proposed within the millisecond
            // the transaction was sent in reads as 0, never as negative.
            proposed_ns: after(sent, proposed),
            committed_after_proposal_ns: after(proposed, committed),
        })
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
    fn a_clock_that_starts_later_converts_wall_times_from_its_start() {
        let now = Instant::now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let later = Tracker::new(1, now + Duration::from_secs(1));
        let gap = later.wall0_ns as i128 - wall.as_nanos() as i128;
        assert!((990_000_000..1_010_000_000).contains(&gap), "{gap}");
    }

    #[test]
    fn every_transaction_has_exactly_one_fate() {
        let t0 = Instant::now();
        let t = Tracker::new(5, t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        for i in 0..4 {
            t.sent(i, at(10));
        }
        let wall_ms = |ms: u64| (t.wall0_ns + ms * 1_000_000) / 1_000_000;
        t.answered(0, at(12));
        t.committed(0, at(60), Some(wall_ms(30)));
        t.committed(0, at(90), Some(wall_ms(80))); // a later node's notification does not move it
        t.rejected(1, "mempool_full");
        t.rejected(2, "transport: timed out");
        t.committed(2, at(70), None); // refused by the transport, but it did commit
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
        t.committed(99, at(1), None); // not ours: ignored
        let s0 = t.stages(0).expect("committed");
        assert_eq!(s0.answered_ns, Some(2_000_000));
        // The wall clock is whole milliseconds: the proposal stamp can be up to 1 ms early.
        let proposed = s0.proposed_ns.expect("proposed");
        assert!((19_000_000..=20_000_000).contains(&proposed), "{proposed}");
        let after = s0.committed_after_proposal_ns.expect("after");
        assert!((30_000_000..=31_000_000).contains(&after), "{after}");
        let s2 = t.stages(2).expect("committed");
        assert_eq!(
            (s2.answered_ns, s2.proposed_ns),
            (None, None),
            "no answer, no header"
        );
        assert_eq!(t.stages(3), None, "not committed");
    }
}
