//! The mempool: transactions that passed every check a node can make before ordering (size,
//! chain id, signature, sequence window, duplicates) wait here for a proposal. Bounded in total and
//! per account, so a flood costs a clear "full" rejection, never unbounded memory.

use std::collections::BTreeMap;

use ledger::hash::{FastHashMap, FastHashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use ledger::crypto::PublicKey;
use ledger::hash::Hash;
use ledger::tx::{verify_transactions, SignedTransaction, TxError};

use crate::signature_checks::SignatureChecks;
use crate::Millis;

/// The mempool's bounds (the node's `[mempool]` config section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Most transactions held in total.
    pub capacity: usize,
    /// Most transactions held per account.
    pub per_account: usize,
    /// How far ahead of an account's next sequence number a transaction may be.
    pub sequence_window: u64,
}

/// Tables at most this large are left as they are after a backlog drains (a few hundred KiB).
const SHRINK_ABOVE_CAPACITY: usize = 1_024;
/// How long a gossiped transaction has been pending before a proposal names it by hash alone
/// (see [`Mempool::others_hold`]). The other validators received it from its origin at about the
/// same time, but their intake may verify it a little later than this node's did: naming the
/// freshest by hash made a replica miss some in one proposal in five at 10,000 tx/s.
const NAMED_AFTER_MS: Millis = 50;

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum MempoolError {
    #[error(transparent)]
    Invalid(#[from] TxError),
    #[error("transaction {hash} is already in the mempool")]
    Duplicate { hash: Hash },
    #[error("transaction {hash} is already committed")]
    AlreadyCommitted { hash: Hash },
    #[error("account {account}: sequence {sequence} is already used (next is {next})")]
    SequenceTooLow {
        account: String,
        sequence: u64,
        next: u64,
    },
    #[error("account {account}: sequence {sequence} is beyond the window (next is {next}, window {window})")]
    SequenceTooHigh {
        account: String,
        sequence: u64,
        next: u64,
        window: u64,
    },
    #[error("account {account}: another transaction with sequence {sequence} is pending")]
    SequenceConflict { account: String, sequence: u64 },
    #[error("mempool is full ({count} of {capacity} transactions); retry later")]
    Full { count: usize, capacity: usize },
    #[error(
        "account {account} has {count} pending transactions, the limit is {limit}; retry later"
    )]
    AccountFull {
        account: String,
        count: usize,
        limit: usize,
    },
}

/// What the mempool needs to know from the committed ledger.
pub trait LedgerView {
    /// The next sequence number the account may use (0 for an account never seen).
    fn next_sequence(&self, account: &PublicKey) -> u64;
    fn is_committed(&self, tx: &Hash) -> bool;
}

/// The mempool as the RPC side and the driver share it. RPC submissions admit directly, so a
/// client never waits for the driver's loop (which pauses for consensus fsyncs); the driver takes
/// batches for proposals and drops committed transactions. Every critical section is short: one
/// admission, or one batch selection.
///
/// It also carries the node's tally of signature checks: every path that checks a transaction's
/// signature (submission, gossip, proposal) holds this, and nothing else all three share.
#[derive(Clone)]
pub struct SharedMempool {
    pool: Arc<Mutex<Mempool>>,
    checks: Arc<SignatureChecks>,
}

impl SharedMempool {
    pub fn new(mempool: Mempool) -> Self {
        SharedMempool {
            pool: Arc::new(Mutex::new(mempool)),
            checks: Arc::default(),
        }
    }

    /// Transaction signatures checked so far, by path.
    pub fn signature_checks(&self) -> &Arc<SignatureChecks> {
        &self.checks
    }

    /// The mempool, locked. A panic while it was held cannot leave it half-updated in a way that
    /// matters (each operation keeps its maps consistent before anything can panic), so a
    /// poisoned lock is taken over rather than propagated.
    pub fn lock(&self) -> MutexGuard<'_, Mempool> {
        self.pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub struct Mempool {
    chain_id: String,
    limits: MempoolLimits,
    txs: FastHashMap<Hash, Pending>,
    by_account: FastHashMap<PublicKey, BTreeMap<u64, Hash>>,
    /// The committed next sequence number of every account in `by_account`, so admission and
    /// proposals do not read the store per transaction (those reads were a few percent of a
    /// validator's CPU under load). Exact because every commit passes through
    /// [`Mempool::remove_committed`], which re-reads the accounts the block touched.
    next_committed: FastHashMap<PublicKey, u64>,
}

/// A transaction waiting for a proposal.
struct Pending {
    tx: SignedTransaction,
    /// When it was admitted, in milliseconds of the caller's clock (for naming it by hash in a
    /// proposal, and for evicting it when stuck behind a sequence gap).
    admitted_at: Millis,
    /// It came by gossip from a peer, so every validator got it from its origin at about the
    /// same time; one submitted to this node came to the others only through this node.
    gossiped: bool,
    /// When this node last offered it to its peers: at admission (the shell's gossip), then at
    /// each [`Mempool::take_for_regossip`].
    announced_at: Millis,
}

impl Mempool {
    pub fn new(chain_id: String, limits: MempoolLimits) -> Self {
        assert!(
            limits.capacity > 0 && limits.per_account > 0,
            "mempool limits must be positive"
        );
        Mempool {
            chain_id,
            limits,
            txs: FastHashMap::default(),
            by_account: FastHashMap::default(),
            next_committed: FastHashMap::default(),
        }
    }

    /// Most transactions it holds.
    pub fn capacity(&self) -> usize {
        self.limits.capacity
    }

    pub fn len(&self) -> usize {
        self.txs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.txs.contains_key(hash)
    }

    pub fn get(&self, hash: &Hash) -> Option<&SignedTransaction> {
        self.txs.get(hash).map(|p| &p.tx)
    }

    /// Whether this very transaction, signature included, is pending. Everything pending had
    /// its signature checked before admission, so such a transaction needs no second check
    /// (when a proposal brings it, or a client or a peer sends it again). The hash alone would
    /// not do: it does not cover the signature, and a copy with another signature must be
    /// checked on its own.
    pub fn holds(&self, tx: &SignedTransaction) -> bool {
        self.txs
            .get(&tx.hash())
            .is_some_and(|p| p.tx.signature == tx.signature)
    }

    /// Refuses at once when there is no room, before anyone spends a signature check on a
    /// transaction that admission would refuse anyway: under overload those checks took the CPU
    /// that ordering the admitted transactions needed.
    pub fn check_room(&self) -> Result<(), MempoolError> {
        if self.txs.len() >= self.limits.capacity {
            return Err(MempoolError::Full {
                count: self.txs.len(),
                capacity: self.limits.capacity,
            });
        }
        Ok(())
    }

    /// Checks signatures of a batch at once (one batch verification), then admits each valid
    /// transaction. Returns one result per input, in order.
    pub fn submit_batch(
        &mut self,
        txs: Vec<SignedTransaction>,
        ledger: &dyn LedgerView,
        now: Millis,
    ) -> Vec<Result<Hash, MempoolError>> {
        let checks = verify_transactions(&self.chain_id, &txs);
        txs.into_iter()
            .zip(checks)
            .map(|(tx, check)| {
                check?;
                self.admit_verified(tx, ledger, now)
            })
            .collect()
    }

    /// Admits a transaction whose envelope and signature were already verified, submitted to
    /// this node by a client.
    pub fn admit_verified(
        &mut self,
        tx: SignedTransaction,
        ledger: &dyn LedgerView,
        now: Millis,
    ) -> Result<Hash, MempoolError> {
        self.admit(tx, ledger, false, now)
    }

    /// [`Mempool::admit_verified`] for a transaction a peer gossiped.
    pub fn admit_gossiped(
        &mut self,
        tx: SignedTransaction,
        ledger: &dyn LedgerView,
        now: Millis,
    ) -> Result<Hash, MempoolError> {
        self.admit(tx, ledger, true, now)
    }

    /// Whether a proposal made at `now` may name `tx` by its hash alone (see
    /// [`crate::wire::TxRef`]): it is pending here with this signature, came by gossip (so the
    /// other validators got it from its origin too) and has been pending for [`NAMED_AFTER_MS`].
    /// A client's submission to this node reached the others only through this node's gossip,
    /// which their intake may not have verified yet; it travels whole.
    pub fn others_hold(&self, tx: &SignedTransaction, now: Millis) -> bool {
        self.txs.get(&tx.hash()).is_some_and(|p| {
            p.gossiped
                && p.tx.signature == tx.signature
                && now.saturating_sub(p.admitted_at) >= NAMED_AFTER_MS
        })
    }

    fn admit(
        &mut self,
        tx: SignedTransaction,
        ledger: &dyn LedgerView,
        gossiped: bool,
        now: Millis,
    ) -> Result<Hash, MempoolError> {
        let hash = tx.hash();
        if self.txs.contains_key(&hash) {
            return Err(MempoolError::Duplicate { hash });
        }
        let account = tx.tx.signer;
        let sequence = tx.tx.sequence;
        let next = self.next_sequence(&account, ledger);
        let shown = || account.to_hex();
        if sequence < next {
            // Only a transaction whose sequence number is used can be in the ledger: one that
            // commits with the right number consumes it, and one that commits with a wrong
            // number (a failed `bad_sequence` receipt) may carry it again once its turn comes.
            // So the index is asked only here, for the clearer answer; asking for every
            // admission was 3 % of a validator's CPU under load.
            if ledger.is_committed(&hash) {
                return Err(MempoolError::AlreadyCommitted { hash });
            }
            return Err(MempoolError::SequenceTooLow {
                account: shown(),
                sequence,
                next,
            });
        }
        if sequence - next >= self.limits.sequence_window {
            return Err(MempoolError::SequenceTooHigh {
                account: shown(),
                sequence,
                next,
                window: self.limits.sequence_window,
            });
        }
        let pending = self.by_account.get(&account);
        if pending.is_some_and(|p| p.contains_key(&sequence)) {
            return Err(MempoolError::SequenceConflict {
                account: shown(),
                sequence,
            });
        }
        let count = pending.map_or(0, BTreeMap::len);
        if count >= self.limits.per_account {
            return Err(MempoolError::AccountFull {
                account: shown(),
                count,
                limit: self.limits.per_account,
            });
        }
        self.check_room()?;
        self.by_account
            .entry(account)
            .or_default()
            .insert(sequence, hash);
        self.next_committed.insert(account, next);
        self.txs.insert(
            hash,
            Pending {
                tx,
                admitted_at: now,
                gossiped,
                announced_at: now,
            },
        );
        Ok(hash)
    }

    /// Up to `max` transactions announced at least `after` ago and still pending, now counted as
    /// announced again. The shell gossips them once more: gossip lost in a partition otherwise
    /// left a transaction in the one mempool its client reached, and when the next leader after
    /// that node is faulty, its blocks never gather a certificate and the transaction never
    /// commits (whole-node simulation, seed 3111). Lowest sequence numbers go first, so a
    /// bounded batch favours what a leader can propose soonest.
    pub fn take_for_regossip(
        &mut self,
        now: Millis,
        after: Millis,
        max: usize,
    ) -> Vec<SignedTransaction> {
        let mut due: Vec<(PublicKey, u64, Hash)> = self
            .txs
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.announced_at) >= after)
            .map(|(h, p)| (p.tx.tx.signer, p.tx.tx.sequence, *h))
            .collect();
        due.sort_unstable_by_key(|(_, sequence, hash)| (*sequence, *hash));
        due.truncate(max);
        due.into_iter()
            .filter_map(|(_, _, h)| {
                let p = self.txs.get_mut(&h)?;
                p.announced_at = now;
                Some(p.tx.clone())
            })
            .collect()
    }

    /// Whether a proposal could take anything: some account's next transaction in sequence is
    /// pending. A node with none is idle (see `idle`): transactions stuck behind a sequence gap
    /// give a leader nothing to order, so they keep no round timer running.
    pub fn has_ready(&self, ledger: &dyn LedgerView) -> bool {
        self.by_account
            .iter()
            .any(|(account, pending)| pending.contains_key(&self.next_sequence(account, ledger)))
    }

    /// Up to `max` transactions for a proposal. Per account, transactions are taken in sequence
    /// order from the account's next sequence number and stop at the first gap, so execution sees
    /// them in order; `exclude` holds transactions already in uncommitted ancestors of the block.
    /// Accounts are visited round-robin so one busy account cannot starve the others.
    pub fn next_batch(
        &self,
        max: usize,
        exclude: &FastHashSet<Hash>,
        ledger: &dyn LedgerView,
    ) -> Vec<SignedTransaction> {
        let mut queues: Vec<Vec<&Hash>> = Vec::new();
        for (account, pending) in &self.by_account {
            let next = self.next_sequence(account, ledger);
            // The driver proposes and commits, so here the remembered value is exact.
            debug_assert_eq!(next, ledger.next_sequence(account), "stale next sequence");
            let mut queue = Vec::new();
            for (expected, (seq, hash)) in (next..).zip(pending.range(next..)) {
                if *seq != expected {
                    break;
                }
                if !exclude.contains(hash) {
                    queue.push(hash);
                }
            }
            if !queue.is_empty() {
                queues.push(queue);
            }
        }
        // Deterministic order across runs helps debugging; HashMap order is not.
        queues.sort_by_key(|q| *q[0]);
        let mut out = Vec::with_capacity(max.min(self.txs.len()));
        let mut depth = 0;
        while out.len() < max {
            let mut took = false;
            for q in &queues {
                if let Some(h) = q.get(depth) {
                    out.push(self.txs[*h].tx.clone());
                    took = true;
                    if out.len() == max {
                        break;
                    }
                }
            }
            if !took {
                break;
            }
            depth += 1;
        }
        out
    }

    /// Drops committed transactions, and any now-stale ones (sequence below the account's next).
    pub fn remove_committed(&mut self, committed: &[SignedTransaction], ledger: &dyn LedgerView) {
        let mut touched = FastHashSet::default();
        for tx in committed {
            self.remove(&tx.hash());
            touched.insert(tx.tx.signer);
        }
        for account in touched {
            let next = ledger.next_sequence(&account);
            if self.by_account.contains_key(&account) {
                self.next_committed.insert(account, next);
            }
            let stale: Vec<Hash> = self
                .by_account
                .get(&account)
                .map(|p| p.range(..next).map(|(_, h)| *h).collect())
                .unwrap_or_default();
            for h in stale {
                self.remove(&h);
            }
        }
        self.release_spare_capacity();
    }

    /// Gives back the tables a backlog grew. A map keeps its largest capacity after its entries
    /// leave, so without this every backlog (the mempool at 45,000 during a compaction stall)
    /// stayed resident: a validator's heap stepped up by 10-20 MiB after each larger backlog
    /// and never came down. Only a table seven eighths empty is shrunk, and to four times its
    /// length: at saturation the mempool swings between a few thousand and twenty thousand
    /// transactions as blocks commit, and shrinking at three quarters empty (to twice the
    /// length) rebuilt the table and regrew it, on fresh pages, every few blocks (a percent of
    /// a validator's CPU in the profile under load).
    fn release_spare_capacity(&mut self) {
        fn shrink<K: Eq + std::hash::Hash, V>(map: &mut FastHashMap<K, V>) {
            if map.capacity() > SHRINK_ABOVE_CAPACITY && map.capacity() > 8 * map.len() {
                map.shrink_to(4 * map.len());
            }
        }
        shrink(&mut self.txs);
        shrink(&mut self.by_account);
        shrink(&mut self.next_committed);
    }

    /// Drops transactions that have waited longer than `max_wait` behind a gap in their
    /// account's sequence (a missing number below theirs), and returns how many. Such a
    /// transaction cannot be proposed until the gap is filled, which may be never (its
    /// predecessor was refused or lost); kept forever, they would hold the mempool's capacity
    /// and, once it is full, refuse everyone. A client refills the gap and resubmits.
    pub fn evict_gapped(
        &mut self,
        max_wait: Millis,
        now: Millis,
        ledger: &dyn LedgerView,
    ) -> usize {
        let mut stuck = Vec::new();
        for (account, pending) in &self.by_account {
            let next = self.next_sequence(account, ledger);
            let mut expected = next;
            for (seq, hash) in pending.range(next..) {
                if *seq == expected {
                    expected += 1;
                    continue;
                }
                let waited = self
                    .txs
                    .get(hash)
                    .map_or(Millis::MAX, |p| now.saturating_sub(p.admitted_at));
                if waited >= max_wait {
                    stuck.push(*hash);
                }
            }
        }
        for hash in &stuck {
            self.remove(hash);
        }
        self.release_spare_capacity();
        stuck.len()
    }

    /// The account's committed next sequence: remembered while it has pending transactions,
    /// read from the ledger otherwise. Between a block's store write and its
    /// `remove_committed` the remembered value can be one block behind; admission then judges
    /// as it would have just before the commit, and `remove_committed` drops what went stale.
    fn next_sequence(&self, account: &PublicKey, ledger: &dyn LedgerView) -> u64 {
        match self.next_committed.get(account) {
            Some(next) => *next,
            None => ledger.next_sequence(account),
        }
    }

    fn remove(&mut self, hash: &Hash) {
        let Some(Pending { tx, .. }) = self.txs.remove(hash) else {
            return;
        };
        let account = tx.tx.signer;
        if let Some(p) = self.by_account.get_mut(&account) {
            p.remove(&tx.tx.sequence);
            if p.is_empty() {
                self.by_account.remove(&account);
                self.next_committed.remove(&account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::crypto::KeyPair;
    use ledger::tx::{Payload, Transaction};
    use std::collections::{HashMap, HashSet};

    #[derive(Default)]
    struct View {
        next: HashMap<PublicKey, u64>,
        committed: HashSet<Hash>,
    }
    impl LedgerView for View {
        fn next_sequence(&self, a: &PublicKey) -> u64 {
            self.next.get(a).copied().unwrap_or(0)
        }
        fn is_committed(&self, h: &Hash) -> bool {
            self.committed.contains(h)
        }
    }

    fn tx(key: &KeyPair, seq: u64) -> SignedTransaction {
        Transaction {
            chain_id: "c".into(),
            signer: key.public(),
            sequence: seq,
            payload: Payload::Memo {
                data: seq.to_le_bytes().to_vec(),
            },
        }
        .sign(key)
    }

    fn pool(capacity: usize, per_account: usize) -> Mempool {
        Mempool::new(
            "c".into(),
            MempoolLimits {
                capacity,
                per_account,
                sequence_window: 10,
            },
        )
    }

    #[test]
    fn admits_orders_and_removes() {
        let (a, b) = (KeyPair::from_secret([1; 32]), KeyPair::from_secret([2; 32]));
        let view = View::default();
        let mut mp = pool(100, 10);
        let r = mp.submit_batch(vec![tx(&a, 1), tx(&a, 0), tx(&b, 0), tx(&a, 3)], &view, 0);
        assert!(r.iter().all(Result::is_ok), "{r:?}");
        let batch = mp.next_batch(10, &FastHashSet::default(), &view);
        // a:0, a:1 (a:3 waits for a:2), b:0.
        assert_eq!(batch.len(), 3);
        let mut view = view;
        view.next.insert(a.public(), 2);
        view.committed.insert(batch[0].hash());
        mp.remove_committed(&batch, &view);
        assert_eq!(mp.len(), 1);
        assert_eq!(
            mp.submit_batch(vec![tx(&a, 1)], &view, 0)[0],
            Err(MempoolError::SequenceTooLow {
                account: a.public().to_hex(),
                sequence: 1,
                next: 2
            })
        );
        // a:3 stayed pending across the commit; its remembered next sequence moved with it.
        assert!(mp.submit_batch(vec![tx(&a, 2)], &view, 0)[0].is_ok());
        let batch = mp.next_batch(10, &FastHashSet::default(), &view);
        let seqs: Vec<u64> = batch.iter().map(|t| t.tx.sequence).collect();
        assert_eq!(seqs, vec![2, 3]);
    }

    #[test]
    fn a_drained_backlog_gives_its_tables_back() {
        let keys: Vec<KeyPair> = (0..400u16)
            .map(|i| {
                let mut secret = [7; 32];
                secret[..2].copy_from_slice(&i.to_le_bytes());
                KeyPair::from_secret(secret)
            })
            .collect();
        let backlog: Vec<SignedTransaction> = keys
            .iter()
            .flat_map(|k| (0..5).map(|seq| tx(k, seq)))
            .collect();
        let mut view = View::default();
        let mut mp = pool(10_000, 10);
        assert!(mp
            .submit_batch(backlog.clone(), &view, 0)
            .iter()
            .all(Result::is_ok));
        let grown = mp.txs.capacity();
        assert!(grown >= backlog.len(), "capacity {grown}");

        // All but one account's transactions commit.
        for k in &keys[1..] {
            view.next.insert(k.public(), 5);
        }
        mp.remove_committed(&backlog[5..], &view);
        assert_eq!(mp.len(), 5);
        assert!(
            mp.txs.capacity() < SHRINK_ABOVE_CAPACITY
                && mp.by_account.capacity() < SHRINK_ABOVE_CAPACITY,
            "tables kept {} and {} slots for 5 transactions (grown to {grown})",
            mp.txs.capacity(),
            mp.by_account.capacity()
        );
        // What is left is intact.
        let batch = mp.next_batch(10, &FastHashSet::default(), &view);
        assert_eq!(batch, backlog[..5].to_vec());
    }

    #[test]
    fn replays_are_refused_and_failed_early_inclusions_admitted_when_their_turn_comes() {
        let a = KeyPair::from_secret([1; 32]);
        let mut view = View::default();
        let (first, early) = (tx(&a, 0), tx(&a, 1));
        // `first` committed; `early` was proposed before it and failed with `bad_sequence`,
        // which left it in the ledger without consuming sequence 1.
        view.next.insert(a.public(), 1);
        view.committed.insert(first.hash());
        view.committed.insert(early.hash());
        let mut mp = pool(10, 10);
        assert_eq!(
            mp.submit_batch(vec![first.clone()], &view, 0)[0],
            Err(MempoolError::AlreadyCommitted { hash: first.hash() })
        );
        assert_eq!(
            mp.submit_batch(vec![early.clone()], &view, 0)[0],
            Ok(early.hash())
        );
    }

    #[test]
    fn rejects_with_reasons() {
        let a = KeyPair::from_secret([1; 32]);
        let view = View::default();
        let mut mp = pool(3, 2);
        assert!(mp.submit_batch(vec![tx(&a, 0)], &view, 0)[0].is_ok());
        assert!(matches!(
            mp.submit_batch(vec![tx(&a, 0)], &view, 0)[0],
            Err(MempoolError::Duplicate { .. })
        ));
        assert!(matches!(
            mp.submit_batch(vec![tx(&a, 10)], &view, 0)[0],
            Err(MempoolError::SequenceTooHigh { .. })
        ));
        let mut forged = tx(&a, 1);
        forged.tx.sequence = 2;
        assert!(matches!(
            mp.submit_batch(vec![forged], &view, 0)[0],
            Err(MempoolError::Invalid(_))
        ));
        assert!(mp.submit_batch(vec![tx(&a, 1)], &view, 0)[0].is_ok());
        assert!(matches!(
            mp.submit_batch(vec![tx(&a, 2)], &view, 0)[0],
            Err(MempoolError::AccountFull { .. })
        ));
        let b = KeyPair::from_secret([2; 32]);
        let c = KeyPair::from_secret([3; 32]);
        assert!(mp.submit_batch(vec![tx(&b, 0)], &view, 0)[0].is_ok());
        assert!(matches!(
            mp.submit_batch(vec![tx(&c, 0)], &view, 0)[0],
            Err(MempoolError::Full {
                count: 3,
                capacity: 3
            })
        ));
    }

    #[test]
    fn exclusions_keep_sequence_contiguity() {
        let a = KeyPair::from_secret([1; 32]);
        let view = View::default();
        let mut mp = pool(100, 10);
        let txs: Vec<_> = (0..4).map(|i| tx(&a, i)).collect();
        mp.submit_batch(txs.clone(), &view, 0);
        let exclude: FastHashSet<Hash> = txs[..2].iter().map(|t| t.hash()).collect();
        let batch = mp.next_batch(10, &exclude, &view);
        assert_eq!(
            batch.iter().map(|t| t.tx.sequence).collect::<Vec<_>>(),
            vec![2, 3]
        );
    }

    /// A proposal names by hash only what the other validators got from its origin too, and
    /// not in its first moments here.
    #[test]
    fn only_settled_gossip_is_named_by_hash() {
        let (a, b) = (KeyPair::from_secret([1; 32]), KeyPair::from_secret([2; 32]));
        let view = View::default();
        let mut mp = pool(100, 10);
        let (gossiped, submitted) = (tx(&a, 0), tx(&b, 0));
        mp.admit_gossiped(gossiped.clone(), &view, 0).unwrap();
        mp.admit_verified(submitted.clone(), &view, 0).unwrap();
        let now = 0;
        let later = now + NAMED_AFTER_MS;
        assert!(!mp.others_hold(&gossiped, now), "just admitted");
        assert!(mp.others_hold(&gossiped, later));
        assert!(
            !mp.others_hold(&submitted, later),
            "this node's own client's"
        );
        let mut other_signature = gossiped.signature;
        other_signature.0[0] ^= 1;
        let copy = SignedTransaction::new(gossiped.tx.clone(), other_signature);
        assert!(!mp.others_hold(&copy, later), "another signature");
        assert!(!mp.others_hold(&tx(&a, 1), later), "not pending");
    }

    #[test]
    fn transactions_stuck_behind_a_gap_are_evicted_after_waiting() {
        let (a, b) = (KeyPair::from_secret([1; 32]), KeyPair::from_secret([2; 32]));
        let view = View::default();
        let mut mp = pool(100, 10);
        // a: 0, 1 ready; 3 and 4 wait for 2. b: 2 waits for 0 and 1.
        for t in [tx(&a, 0), tx(&a, 1), tx(&a, 3), tx(&a, 4), tx(&b, 2)] {
            mp.admit_verified(t, &view, 0).unwrap();
        }
        // Not waited long enough: nothing goes.
        assert_eq!(mp.evict_gapped(3_600_000, 0, &view), 0);
        assert_eq!(mp.len(), 5);
        assert_eq!(mp.evict_gapped(0, 0, &view), 3);
        assert_eq!(mp.len(), 2);
        let ready: Vec<u64> = mp
            .next_batch(10, &FastHashSet::default(), &view)
            .iter()
            .map(|t| t.tx.sequence)
            .collect();
        assert_eq!(ready, vec![0, 1]);
        // Room again for the account's real next transactions.
        mp.admit_verified(tx(&b, 0), &view, 0).unwrap();
        assert_eq!(mp.evict_gapped(0, 0, &view), 0);
    }
}
