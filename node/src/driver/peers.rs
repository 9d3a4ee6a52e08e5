//! Who is who: each genesis validator's consensus key and libp2p PeerId. A consensus message is
//! attributed to the validator whose PeerId authenticated the connection; the core then checks
//! that the message is signed by that validator's key.

use std::collections::HashMap;
use std::str::FromStr;

use ledger::{Genesis, PublicKey};

use crate::network::PeerId;

#[derive(Clone, Debug, Default)]
pub struct PeerBook {
    by_peer: HashMap<PeerId, PublicKey>,
    by_key: HashMap<PublicKey, PeerId>,
}

impl PeerBook {
    /// Genesis validation guarantees every peer id parses; one that does not is skipped.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        let mut book = PeerBook::default();
        for v in &genesis.validators {
            if let Ok(peer) = PeerId::from_str(&v.peer_id) {
                book.by_peer.insert(peer, v.consensus_key);
                book.by_key.insert(v.consensus_key, peer);
            }
        }
        book
    }

    pub fn key_of(&self, peer: &PeerId) -> Option<PublicKey> {
        self.by_peer.get(peer).copied()
    }

    pub fn peer_of(&self, key: &PublicKey) -> Option<PeerId> {
        self.by_key.get(key).copied()
    }

    pub fn peers(&self) -> impl Iterator<Item = &PeerId> {
        self.by_key.values()
    }
}
