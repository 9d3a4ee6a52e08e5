//! A bounded set of transaction hashes whose signatures this node has already verified, so no
//! transaction's signature is checked twice (once at the mempool, again in a proposal). Oldest
//! entries are forgotten first; forgetting only costs a second verification.

use std::collections::VecDeque;
use std::sync::Mutex;

use ledger::hash::FastHashSet;
use ledger::Hash;

pub struct VerifiedCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    set: FastHashSet<Hash>,
    order: VecDeque<Hash>,
}

impl VerifiedCache {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "verified cache capacity must be positive");
        VerifiedCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.lock().set.contains(hash)
    }

    /// Whether each of `hashes` is known, under one lock (a gossip batch or a proposal holds
    /// thousands; a lock per transaction showed in the profile).
    pub fn contains_each<'a>(&self, hashes: impl IntoIterator<Item = &'a Hash>) -> Vec<bool> {
        let inner = self.lock();
        hashes.into_iter().map(|h| inner.set.contains(h)).collect()
    }

    pub fn insert_all(&self, hashes: impl IntoIterator<Item = Hash>) {
        let mut inner = self.lock();
        for h in hashes {
            if inner.set.insert(h) {
                inner.order.push_back(h);
            }
        }
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.set.remove(&old);
            }
        }
        debug_assert_eq!(inner.set.len(), inner.order.len());
    }

    pub fn len(&self) -> usize {
        self.lock().set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_beyond_capacity() {
        let c = VerifiedCache::new(2);
        c.insert_all([Hash([1; 32]), Hash([2; 32]), Hash([1; 32]), Hash([3; 32])]);
        assert_eq!(c.len(), 2);
        assert!(!c.contains(&Hash([1; 32])));
        assert!(c.contains(&Hash([2; 32])) && c.contains(&Hash([3; 32])));
        assert_eq!(
            c.contains_each(&[Hash([1; 32]), Hash([2; 32]), Hash([3; 32])]),
            vec![false, true, true]
        );
    }
}
