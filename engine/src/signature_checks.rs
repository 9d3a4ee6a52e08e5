//! Transaction signatures this node has checked, by the path that brought the transaction.
//!
//! Every validator must check each committed transaction's signature once: that is the
//! signature bound's premise (BENCHMARKS.md). The sum over the paths per committed transaction
//! says how close a node comes. Anything above 1 is work done twice. A proposal can bring a
//! transaction whose gossip is still in this node's intake. Gossip can arrive after the
//! transaction has already committed.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Where a checked transaction came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckedVia {
    /// A client's submission to this node.
    Submission,
    /// Another validator's gossip.
    Gossip,
    /// A proposal, for a transaction this node did not hold already checked.
    Proposal,
}

/// The counters, shared by the paths that check (see [`crate::mempool::SharedMempool`]).
#[derive(Debug, Default)]
pub struct SignatureChecks {
    submission: AtomicU64,
    gossip: AtomicU64,
    proposal: AtomicU64,
}

/// The counters' values at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignatureCheckCounts {
    pub submission: u64,
    pub gossip: u64,
    pub proposal: u64,
}

impl SignatureChecks {
    /// Counts `n` signatures checked for transactions that came `via` this path.
    pub fn add(&self, via: CheckedVia, n: usize) {
        let counter = match via {
            CheckedVia::Submission => &self.submission,
            CheckedVia::Gossip => &self.gossip,
            CheckedVia::Proposal => &self.proposal,
        };
        // Relaxed: each counter is a tally read only for reporting; nothing is ordered by it.
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn counts(&self) -> SignatureCheckCounts {
        SignatureCheckCounts {
            submission: self.submission.load(Ordering::Relaxed),
            gossip: self.gossip.load(Ordering::Relaxed),
            proposal: self.proposal.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_counts_on_its_own() {
        let checks = SignatureChecks::default();
        checks.add(CheckedVia::Submission, 3);
        checks.add(CheckedVia::Gossip, 5);
        checks.add(CheckedVia::Gossip, 2);
        checks.add(CheckedVia::Proposal, 1);
        assert_eq!(
            checks.counts(),
            SignatureCheckCounts {
                submission: 3,
                gossip: 7,
                proposal: 1
            }
        );
    }
}
