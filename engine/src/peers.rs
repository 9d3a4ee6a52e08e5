//! Who is who: each validator's consensus key and network identity (the current epoch's set and
//! the one before). A consensus message
//! is attributed to the validator whose network identity authenticated the connection; the core
//! then checks that the message is signed by that validator's key.
//!
//! The network identity is the shell's type (libp2p's `PeerId` in the node, a small number in the
//! simulator): the engine only compares and orders them.

use std::collections::BTreeMap;

use ledger::genesis::Validator;
use ledger::{Genesis, PublicKey};

use crate::Peer;

#[derive(Clone, Debug)]
pub struct PeerBook<P> {
    by_peer: BTreeMap<P, PublicKey>,
    by_key: BTreeMap<PublicKey, P>,
    /// Validators' peers in genesis order (the order catch-up and certificate repair ask them in).
    ordered: Vec<P>,
}

impl<P: Peer> PeerBook<P> {
    /// The genesis validators whose network identity `parse` understands (genesis validation
    /// guarantees every one does; one that does not is skipped).
    pub fn from_genesis(genesis: &Genesis, parse: impl Fn(&str) -> Option<P>) -> Self {
        Self::from_sets(&[&genesis.validators], parse)
    }

    /// The validators of several sets (the current epoch's first, then the one before): a peer
    /// known in two maps to its key in the first, and a key to its first peer. Peers are in
    /// the order of the sets.
    pub fn from_sets(sets: &[&[Validator]], parse: impl Fn(&str) -> Option<P>) -> Self {
        let mut book = PeerBook {
            by_peer: BTreeMap::new(),
            by_key: BTreeMap::new(),
            ordered: Vec::new(),
        };
        for set in sets {
            for v in set.iter() {
                if let Some(peer) = parse(&v.peer_id) {
                    book.by_peer.entry(peer).or_insert(v.consensus_key);
                    book.by_key.entry(v.consensus_key).or_insert(peer);
                    if !book.ordered.contains(&peer) {
                        book.ordered.push(peer);
                    }
                }
            }
        }
        book
    }

    pub fn key_of(&self, peer: &P) -> Option<PublicKey> {
        self.by_peer.get(peer).copied()
    }

    pub fn peer_of(&self, key: &PublicKey) -> Option<P> {
        self.by_key.get(key).copied()
    }

    /// Every validator's peer, in genesis order.
    pub fn peers(&self) -> &[P] {
        &self.ordered
    }
}
