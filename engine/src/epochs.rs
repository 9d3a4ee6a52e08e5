//! Which validator set certifies which heights. The consensus core knows only its own epoch;
//! around a boundary the node still certifies (signs, tallies, verifies, repairs) heights of the
//! epoch before, which the old set signs: the ledger certificate of an epoch's last height, signed
//! by the old set, is the epoch-change certificate auditors follow. So the node keeps the current
//! epoch's set and the one before, each with the heights it covers.
//!
//! Certificates are checked by `ledger`'s functions, which take a [`Genesis`]: each epoch's view
//! is the genesis with its `validators` replaced by the epoch's set (chain id and parameters stay
//! the genesis's).

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
    /// The epoch before, when this node saw its end (not known after a restart).
    pub(crate) previous: Option<EpochView>,
}

impl EpochViews {
    pub(crate) fn new(genesis: &Genesis, set: EpochSet, first_height: u64) -> Self {
        EpochViews {
            current: EpochView::new(genesis, set, first_height),
            previous: None,
        }
    }

    /// The epoch after the current one starts at `first_height`.
    pub(crate) fn advance(&mut self, genesis: &Genesis, set: EpochSet, first_height: u64) {
        let next = EpochView::new(genesis, set, first_height);
        self.previous = Some(std::mem::replace(&mut self.current, next));
    }

    /// The set (as a genesis view) that certifies `height`, if this node knows it.
    pub(crate) fn for_height(&self, height: u64) -> Option<&Genesis> {
        if height >= self.current.first_height {
            return Some(&self.current.genesis);
        }
        self.previous
            .as_ref()
            .filter(|p| height >= p.first_height)
            .map(|p| &p.genesis)
    }

    /// The sets a peer may belong to: current first, then the one before.
    pub(crate) fn sets(&self) -> Vec<&EpochSet> {
        std::iter::once(&self.current.set)
            .chain(self.previous.as_ref().map(|p| &p.set))
            .collect()
    }
}
