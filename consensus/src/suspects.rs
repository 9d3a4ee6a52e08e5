//! Leaders this node suspects to be down, and how long it waits for them.
//!
//! Leaders rotate round-robin ([`crate::ValidatorSet::leader`]), so a validator that is down (a
//! crash, an upgrade, a machine in maintenance) still leads every n-th round, and the round
//! before it sends its votes there. Both lasted the full round timeout: with `round_timeout_ms`
//! at a second and rounds of a few milliseconds, one member down of four made every cycle of
//! four rounds cost two seconds or more.
//!
//! The rule, from what this node saw itself (no agreement is needed):
//!
//! - a leader becomes a suspect when a round it led ended in a timeout certificate and this node
//!   saw no proposal of that round;
//! - any proposal signed by it, even one that arrives too late for its round, clears it;
//! - a round that needs a suspect, as its leader (to propose) or as the next round's leader (to
//!   form its QC from the votes), is timed out after a [`SUSPECT_DIVISOR`]-th of the usual
//!   timeout.
//!
//! Why safety does not depend on it: a timeout's length decides only when this node signs a
//! timeout for its round, and safety rules check every signature the same way whatever the
//! timing. Why liveness holds: a leader that is up proposes when its round comes, and its
//! proposal seen, even a late one, makes its rounds full-length again, so an honest leader
//! loses at most the round in which it is found to be up. The short wait still grows with the
//! pacemaker's backoff. Every round that needs no suspect keeps the full, growing timeout, so
//! those rounds still outlast any delay once the network settles.

use crate::types::Millis;

/// A suspect leader's round waits this fraction of the usual timeout: 100 ms for the shipped
/// genesis's 1 s, still several round trips between continents.
pub const SUSPECT_DIVISOR: u64 = 10;

/// One flag per validator of the epoch (bounded by the set's size).
#[derive(Clone, Debug, Default)]
pub struct Suspects {
    flags: Vec<bool>,
}

impl Suspects {
    pub fn new(validators: usize) -> Self {
        Suspects {
            flags: vec![false; validators],
        }
    }

    /// The leader at `index` let a round end in a timeout with no proposal seen.
    pub fn failed(&mut self, index: u16) {
        if let Some(f) = self.flags.get_mut(usize::from(index)) {
            *f = true;
        }
    }

    /// A proposal signed by the leader at `index` was seen.
    pub fn proposed(&mut self, index: u16) {
        if let Some(f) = self.flags.get_mut(usize::from(index)) {
            *f = false;
        }
    }

    pub fn is_suspect(&self, index: u16) -> bool {
        self.flags.get(usize::from(index)).copied().unwrap_or(false)
    }

    pub fn count(&self) -> usize {
        self.flags.iter().filter(|f| **f).count()
    }
}

/// The wait in a round a suspect is needed in, for a usual `timeout`.
pub fn shortened(timeout: Millis) -> Millis {
    (timeout / SUSPECT_DIVISOR).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_leader_is_a_suspect_until_it_proposes_again() {
        let mut s = Suspects::new(4);
        assert!(!s.is_suspect(2));
        s.failed(2);
        assert!(s.is_suspect(2));
        assert!(!s.is_suspect(1), "only the failed leader");
        assert_eq!(s.count(), 1);
        s.proposed(2);
        assert!(!s.is_suspect(2));
        assert_eq!(shortened(1_000), 100);
        assert_eq!(shortened(5), 1);
        // Indices past the set are ignored, never a panic.
        s.failed(9);
        s.proposed(9);
        assert!(!s.is_suspect(9));
        assert_eq!(s.count(), 0);
    }
}
