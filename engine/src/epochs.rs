//! Which validator set certifies which heights. The consensus core knows only its own epoch;
//! around a boundary the node still certifies (signs, tallies, verifies, repairs) heights of the
//! epoch before, which the old set signs: the ledger certificate of an epoch's last height, signed
//! by the old set, is the epoch-change certificate auditors follow. So the node keeps the current
//! epoch's set and the one before, each with the heights it covers, and the sets before those:
//! a node that passes through an epoch before it holds the epoch's last certificate (two changes
//! in quick succession, or catch-up across both) must still check that certificate when it
//! fetches it, or it serves auditors a chain of changes that stops short.
//!
//! Certificates are checked by `ledger`'s functions, which take a [`Genesis`]: each epoch's view
//! is the genesis with its `validators` replaced by the epoch's set (chain id and parameters stay
//! the genesis's).

use std::borrow::Cow;
use std::collections::VecDeque;

use ledger::governance::EpochSet;
use ledger::Genesis;

pub(crate) struct EpochView {
    pub(crate) set: EpochSet,
    /// The first height this set certifies (1 for epoch 0).
    pub(crate) first_height: u64,
    pub(crate) genesis: Genesis,
}

impl EpochView {
    fn new(genesis: &Genesis, set: EpochSet, first_height: u64) -> Self {
        let mut view = genesis.clone();
        view.validators = set.validators.clone();
        EpochView {
            set,
            first_height,
            genesis: view,
        }
    }
}

pub(crate) struct EpochViews {
    pub(crate) current: EpochView,
    /// The epoch before (the one whose peers may still connect).
    pub(crate) previous: Option<EpochView>,
    /// The epochs before that, oldest first, at most [`MAX_OLDER_EPOCHS`]: their sets only (a
    /// view is built when a certificate of theirs is checked, which is rare).
    older: VecDeque<(u64, EpochSet)>,
}

/// How many epochs before the previous one a node remembers. Beyond them a certificate cannot
/// be checked here, and the chain this node serves stops there until it is; with changes one at
/// a time (OPERATIONS.md), a node is never that many epochs ahead of a certificate.
pub(crate) const MAX_OLDER_EPOCHS: usize = 64;

impl EpochViews {
    /// The epochs as the store knows them: `history` holds the sets after genesis's, oldest
    /// first, each with its first height; the last is the current one.
    pub(crate) fn new(genesis: &Genesis, history: Vec<(u64, EpochSet)>) -> Self {
        let mut views = EpochViews {
            current: EpochView::new(genesis, EpochSet::genesis(genesis), 1),
            previous: None,
            older: VecDeque::new(),
        };
        for (first_height, set) in history {
            views.advance(genesis, set, first_height);
        }
        views
    }

    /// The epoch after the current one starts at `first_height`.
    pub(crate) fn advance(&mut self, genesis: &Genesis, set: EpochSet, first_height: u64) {
        debug_assert!(set.epoch > self.current.set.epoch, "epochs only advance");
        debug_assert!(first_height >= self.current.first_height);
        let next = EpochView::new(genesis, set, first_height);
        let left = std::mem::replace(&mut self.current, next);
        if let Some(p) = self.previous.replace(left) {
            if self.older.len() >= MAX_OLDER_EPOCHS {
                self.older.pop_front();
            }
            self.older.push_back((p.first_height, p.set));
        }
    }

    /// The set (as a genesis view) that certifies `height`, if this node knows it.
    pub(crate) fn for_height(&self, height: u64) -> Option<Cow<'_, Genesis>> {
        if height >= self.current.first_height {
            return Some(Cow::Borrowed(&self.current.genesis));
        }
        if let Some(p) = self.previous.as_ref().filter(|p| height >= p.first_height) {
            return Some(Cow::Borrowed(&p.genesis));
        }
        let (_, set) = self
            .older
            .iter()
            .rev()
            .find(|(first, _)| height >= *first)?;
        let mut view = self.current.genesis.clone();
        view.validators = set.validators.clone();
        Some(Cow::Owned(view))
    }

    /// The sets a peer may belong to: current first, then the one before.
    pub(crate) fn sets(&self) -> Vec<&EpochSet> {
        std::iter::once(&self.current.set)
            .chain(self.previous.as_ref().map(|p| &p.set))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::genesis::{ConsensusParams, Validator};
    use ledger::KeyPair;

    fn validator(i: u8) -> Validator {
        Validator {
            name: format!("v{i}"),
            consensus_key: KeyPair::from_secret([i + 1; 32]).public(),
            peer_id: format!("peer-{i}"),
            power: 1,
        }
    }

    fn genesis() -> Genesis {
        Genesis {
            chain_id: "epochs".into(),
            genesis_time_ms: 0,
            consensus: ConsensusParams {
                round_timeout_ms: 400,
                max_round_timeout_ms: 3_000,
                timeout_backoff_percent: 150,
                max_block_txs: 100,
            },
            validators: (0..4).map(validator).collect(),
            organizations: vec![],
            accounts: vec![],
            governance: None,
            observers: vec![],
        }
    }

    /// Epoch `e` drops validator `e - 1` (so each set is told apart by its first member).
    fn set(e: u64) -> EpochSet {
        let mut validators: Vec<Validator> = (0..4).map(validator).collect();
        validators.push(validator(10 + e as u8));
        EpochSet {
            epoch: e,
            validators: validators.split_off(e as usize),
        }
    }

    fn first_of(views: &EpochViews, height: u64) -> Option<String> {
        views
            .for_height(height)
            .map(|g| g.validators[0].name.clone())
    }

    /// A node that went through epochs 1 and 2 before it held epoch 0's last certificate must
    /// still check it against epoch 0's set (it knew only the current set and the one before,
    /// so the certificate was dropped and the chain it served stopped short).
    #[test]
    fn a_height_two_epochs_back_is_still_checked_against_its_set() {
        let g = genesis();
        let mut views = EpochViews::new(&g, Vec::new());
        assert_eq!(first_of(&views, 1).as_deref(), Some("v0"));
        views.advance(&g, set(1), 10);
        views.advance(&g, set(2), 12);
        assert_eq!(
            first_of(&views, 9).as_deref(),
            Some("v0"),
            "epoch 0's last height"
        );
        assert_eq!(first_of(&views, 1).as_deref(), Some("v0"));
        assert_eq!(first_of(&views, 10).as_deref(), Some("v1"));
        assert_eq!(first_of(&views, 11).as_deref(), Some("v1"));
        assert_eq!(first_of(&views, 12).as_deref(), Some("v2"));
        assert_eq!(first_of(&views, 1_000).as_deref(), Some("v2"));
        // Only the current set and the one before may connect.
        let epochs: Vec<u64> = views.sets().iter().map(|s| s.epoch).collect();
        assert_eq!(epochs, vec![2, 1]);
    }

    /// After a restart the node knows the same: the store's history rebuilds every view.
    #[test]
    fn a_restarted_node_knows_the_epochs_it_went_through() {
        let g = genesis();
        let views = EpochViews::new(&g, vec![(10, set(1)), (12, set(2)), (20, set(3))]);
        assert_eq!(views.current.set.epoch, 3);
        assert_eq!(views.current.first_height, 20);
        assert_eq!(first_of(&views, 9).as_deref(), Some("v0"));
        assert_eq!(first_of(&views, 11).as_deref(), Some("v1"));
        assert_eq!(first_of(&views, 19).as_deref(), Some("v2"));
        assert_eq!(first_of(&views, 20).as_deref(), Some("v3"));
    }

    /// The memory is bounded: the oldest epochs are forgotten first.
    #[test]
    fn only_a_bounded_number_of_old_epochs_is_kept() {
        let g = genesis();
        let mut views = EpochViews::new(&g, Vec::new());
        let last = MAX_OLDER_EPOCHS as u64 + 3;
        for e in 1..=last {
            let validators = set(e % 4).validators;
            views.advance(
                &g,
                EpochSet {
                    epoch: e,
                    validators,
                },
                e * 10,
            );
        }
        assert!(views.older.len() <= MAX_OLDER_EPOCHS);
        assert!(views.for_height(5).is_none(), "epoch 0 forgotten");
        assert!(views.for_height(last * 10 - 25).is_some());
    }
}
