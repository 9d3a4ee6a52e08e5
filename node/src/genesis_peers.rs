//! Who the other validators are and where to reach them, from the genesis file: each
//! validator's name by PeerId (for logs and status), the addresses its member signed into
//! its bundle in the ceremony record (so a node's config needs no peer list), and the
//! organization that member belongs to (`waybill_validators`).

use std::collections::BTreeMap;
use std::str::FromStr;

use ledger::ceremony::GenesisFile;
use ledger::Genesis;
use libp2p::multiaddr::Protocol;

use crate::network::{Multiaddr, PeerId};

/// The genesis's view of the network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenesisPeers {
    /// Every validator's address from its bundle, as `(PeerId, address/p2p/PeerId)`.
    pub dial: Vec<(PeerId, Multiaddr)>,
    /// Every validator's name.
    pub names: BTreeMap<PeerId, String>,
    /// Addresses in bundles that do not parse as multiaddrs, with the member's name: logged,
    /// not dialled.
    pub unusable: Vec<(String, String)>,
    /// Validator name → the organization id in its member's bundle.
    pub organizations: BTreeMap<String, String>,
}

impl GenesisPeers {
    /// Only bundles of the genesis's validators count, and only under the PeerId the genesis
    /// lists for that validator; the caller has checked the ceremony record
    /// (`ledger::ceremony::check`), which verified each bundle's signatures.
    pub fn from_file(file: &GenesisFile) -> GenesisPeers {
        let mut out = GenesisPeers {
            names: names(&file.genesis),
            ..GenesisPeers::default()
        };
        let Some(ceremony) = &file.ceremony else {
            return out;
        };
        for b in &ceremony.members {
            let Some(v) = file.genesis.validators.iter().find(|v| v.name == b.name) else {
                continue;
            };
            if v.peer_id != b.peer_id {
                continue;
            }
            out.organizations
                .insert(v.name.clone(), b.organization.clone());
            let Ok(peer) = PeerId::from_str(&v.peer_id) else {
                continue;
            };
            for a in &b.addresses {
                match Multiaddr::from_str(a) {
                    Ok(ma) => out.dial.push((peer, ma.with(Protocol::P2p(peer)))),
                    Err(_) => out.unusable.push((b.name.clone(), a.clone())),
                }
            }
        }
        out
    }

    /// A peer's validator name, or its PeerId for a peer that is not a validator.
    pub fn name_of(&self, peer: &PeerId) -> String {
        self.names
            .get(peer)
            .cloned()
            .unwrap_or_else(|| peer.to_string())
    }
}

/// Every validator's name by PeerId.
pub fn names(genesis: &Genesis) -> BTreeMap<PeerId, String> {
    genesis
        .validators
        .iter()
        .filter_map(|v| Some((PeerId::from_str(&v.peer_id).ok()?, v.name.clone())))
        .collect()
}
