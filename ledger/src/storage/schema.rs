//! The RocksDB layout: every column family and every key encoding, in one place, so that a later
//! column family (state, secondary indexes) is one line in [`COLUMN_FAMILIES`] and the meaning of
//! each byte on disk can be read from this file alone.
//!
//! Integer keys are big-endian so that RocksDB's byte order is numeric order (iteration by
//! height or ledger index is a plain range scan).

use crate::accumulator::NodePos;
use crate::hash::{Hash, HASH_LEN};

/// Bumped on any change to a key or value encoding; [`super::Store::open`] refuses other versions,
/// except the ones it knows how to upgrade in place ([`UPGRADABLE_FROM`]).
///
/// - 2: blocks, indexes, accumulator, state tree, history indexes.
/// - 3: adds [`CF_LEDGER_CERTS`]. Nothing else changed, so a version-2 store is upgraded by
///   creating that (empty) column family and rewriting the version: its heights simply have no
///   ledger certificate yet (the node fetches them from peers).
/// - 4: an item's state value also carries the head of its history chain
///   (`supply::ItemState`). Item values and state roots of older stores differ from what
///   execution now computes, so they cannot be upgraded in place: such a chain is re-created.
/// - 5: property and reading values are typed canonical values (`supply::JsonValue`), not JSON
///   texts, and transactions are signed under `waybill/tx/v2`: blocks, item values and roots all
///   differ, so older stores are refused with the message to re-create them.
/// - 6: adds [`CF_EPCIS_EVENTS`] (transactions gained the `capture_epcis` payload and events the
///   EPCIS kinds, both appended: old bytes keep their meaning). A version-5 store holds no EPCIS
///   event, so it is upgraded by creating the (empty) column family and rewriting the version.
/// - 7: adds [`CF_STATE_KEYS`] (what a state-tree leaf's key hash stands for, so the store can
///   serve state by subtree to a node that syncs) and [`META_BASE`] (where a state-synced store
///   starts). Older stores are upgraded by filling the keys from [`CF_STATE`]; keys deleted
///   before the upgrade are gone from every root a peer asks for but the oldest.
/// - 8: [`CF_ACCUMULATOR`] keys a frozen node by its number in freezing order
///   ([`accumulator_key`]), not by level and index ([`legacy_node_key`]), so that every commit's
///   keys come after every older one's. Older stores are upgraded by rekeying the family.
pub const SCHEMA_VERSION: u32 = 8;
/// Older versions [`super::Store::open`] upgrades to [`SCHEMA_VERSION`]. A read-only open
/// refuses them: their accumulator keys are not the ones this build reads.
pub const UPGRADABLE_FROM: &[u32] = &[5, 6, 7];

/// height u64 BE -> canonical [`crate::stored::StoredBlock`].
pub const CF_BLOCKS: &str = "blocks";
/// block hash (32 bytes) -> height u64 BE.
pub const CF_BLOCK_INDEX: &str = "block_index";
/// tx hash (32 bytes) -> [`TxLocation`] (20 bytes). Points at the inclusion of the hash that
/// succeeded, else at its first.
pub const CF_TX_INDEX: &str = "tx_index";
/// ledger index u64 BE -> canonical [`crate::receipt::Receipt`].
pub const CF_RECEIPTS: &str = "receipts";
/// Frozen node number in freezing order u64 BE ([`accumulator_key`]) -> 32-byte frozen
/// accumulator node.
pub const CF_ACCUMULATOR: &str = "accumulator";
/// Fixed keys below -> small values describing the whole store.
pub const CF_META: &str = "meta";
/// Application state key -> value, as written by execution ([`crate::execute`]); changed only in a
/// block's commit batch, so it always matches the head.
pub const CF_STATE: &str = "state";
/// Sparse Merkle tree node hash (32 bytes) -> 65-byte node ([`crate::smt::Node::to_bytes`]).
/// Content-addressed and never deleted, so the state root of every height stays provable.
pub const CF_SMT_NODES: &str = "smt_nodes";
/// height u64 BE -> 32-byte state root after executing that block (the SMT over [`CF_STATE`]).
pub const CF_STATE_ROOTS: &str = "state_roots";
/// value hash ([`crate::smt::value_hash`], 32 bytes) -> state value: the values behind old
/// roots, so a state proof at a past height can return the value it proves.
pub const CF_STATE_VALUES: &str = "state_values";
/// Item history: `u8 len || item id || ledger index u64 BE` -> canonical
/// [`crate::supply::history::HistoryEntry`], one per event that touched the item.
pub const CF_ITEM_HISTORY: &str = "item_history";
/// Events by organization: `u8 len || organization id || ledger index u64 BE` -> canonical
/// [`crate::supply::history::HistoryEntry`], one per event that concerned the organization.
pub const CF_ORG_EVENTS: &str = "org_events";
/// The consensus core's own durable records, opaque here: [`CONSENSUS_SAFETY`] -> safety data;
/// `b'b' || height u64 BE || block hash` -> a block the core persisted (committed or not).
pub const CF_CONSENSUS: &str = "consensus";

/// height u64 BE -> canonical [`crate::proof::LedgerCertificate`] for that height: a quorum of
/// validators' signatures over the checkpoint (block hash, state root, accumulator root and size)
/// this store's own records give. Written only after the certificate verified against the genesis
/// validator set and matched this store's checkpoint; a height may have none (yet).
pub const CF_LEDGER_CERTS: &str = "ledger_certs";

/// Captured EPCIS events in ledger order: ledger index u64 BE -> the event's 32-byte CBV 2.0
/// hash ID digest (`epcis::EventHashId`). What an EPCIS query walks; the event itself is in the
/// transaction.
pub const CF_EPCIS_EVENTS: &str = "epcis_events";

/// State-tree key hash ([`crate::smt::key_hash`], 32 bytes) -> the application state key it
/// hashes. Written for every key a commit sets, never deleted: a tree leaf holds only the key's
/// hash, and a peer syncing state needs the key itself.
pub const CF_STATE_KEYS: &str = "state_keys";

/// Every column family the store opens. Later ones (state, indexes) are appended here.
pub const COLUMN_FAMILIES: &[&str] = &[
    CF_BLOCKS,
    CF_BLOCK_INDEX,
    CF_TX_INDEX,
    CF_RECEIPTS,
    CF_ACCUMULATOR,
    CF_META,
    CF_STATE,
    CF_CONSENSUS,
    CF_SMT_NODES,
    CF_STATE_ROOTS,
    CF_STATE_VALUES,
    CF_ITEM_HISTORY,
    CF_ORG_EVENTS,
    CF_LEDGER_CERTS,
    CF_EPCIS_EVENTS,
    CF_STATE_KEYS,
];

/// Prefix of every index key of `id` (an item or organization id, at most 255 bytes): the length
/// makes one id's keys never run into another's that it is a prefix of.
pub fn index_prefix(id: &str) -> Vec<u8> {
    let bytes = id.as_bytes();
    assert!(
        bytes.len() <= u8::MAX as usize,
        "index id of {} bytes",
        bytes.len()
    );
    let mut k = Vec::with_capacity(1 + bytes.len() + 8);
    k.push(bytes.len() as u8);
    k.extend_from_slice(bytes);
    k
}

pub fn index_key(id: &str, ledger_index: u64) -> Vec<u8> {
    let mut k = index_prefix(id);
    k.extend_from_slice(&ledger_index.to_be_bytes());
    k
}

/// Key of the consensus safety data in [`CF_CONSENSUS`].
pub const CONSENSUS_SAFETY: &[u8] = b"safety";
/// Prefix of consensus block keys in [`CF_CONSENSUS`].
pub const CONSENSUS_BLOCK_PREFIX: u8 = b'b';

pub fn consensus_block_key(height: u64, hash: &Hash) -> [u8; 1 + 8 + HASH_LEN] {
    let mut k = [0u8; 1 + 8 + HASH_LEN];
    k[0] = CONSENSUS_BLOCK_PREFIX;
    k[1..9].copy_from_slice(&height.to_be_bytes());
    k[9..].copy_from_slice(hash.as_bytes());
    k
}

/// u32 BE.
pub const META_SCHEMA_VERSION: &[u8] = b"schema_version";
/// height u64 BE || block hash.
pub const META_HEAD: &[u8] = b"head";
/// u64 BE: transactions in the accumulator.
pub const META_ACCUMULATOR_SIZE: &[u8] = b"accumulator_size";
/// 32 bytes: hash of the genesis file this store belongs to.
pub const META_GENESIS_HASH: &[u8] = b"genesis_hash";
/// The verified-up-to marker (`super::marker`): height u64 BE || block hash || accumulator root
/// after that block. Absent in stores written before it existed (their first open checks all).
pub const META_VERIFIED: &[u8] = b"verified";

/// Where a state-synced store starts ([`super::Store::install_snapshot`]): height u64 BE ||
/// block hash. Absent in a store that starts at genesis. Nothing below this height is stored:
/// no block, receipt or old accumulator leaf, so proofs reach back only to it.
pub const META_BASE: &[u8] = b"base";
/// JSON of the chain of epoch changes from genesis up to the base, as the sync verified it: a
/// synced store has no state roots below its base to find them in.
pub const META_BASE_EPOCHS: &[u8] = b"base_epochs";

/// Where a committed transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    pub height: u64,
    pub index_in_block: u32,
    pub ledger_index: u64,
}

pub fn u64_key(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

pub fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

pub fn decode_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

pub fn decode_hash(bytes: &[u8]) -> Option<Hash> {
    Some(Hash(bytes.try_into().ok()?))
}

/// Key of a frozen accumulator node: its number in freezing order
/// ([`NodePos::post_order`]), so each commit's nodes append to the family's key space.
pub fn accumulator_key(pos: NodePos) -> [u8; 8] {
    pos.post_order().to_be_bytes()
}

pub fn decode_accumulator_key(bytes: &[u8]) -> Option<NodePos> {
    NodePos::from_post_order(decode_u64(bytes)?)
}

/// Versions 2 to 7 keyed a frozen node as level u8 || index u64 BE: read only to upgrade.
pub fn legacy_node_key(pos: NodePos) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = pos.level;
    k[1..].copy_from_slice(&pos.index.to_be_bytes());
    k
}

pub fn decode_legacy_node_key(bytes: &[u8]) -> Option<NodePos> {
    let (&level, rest) = bytes.split_first()?;
    let pos = NodePos::new(level, decode_u64(rest)?);
    // Only nodes of the maximum tree have a number to move to.
    pos.checked_post_order().map(|_| pos)
}

pub fn head_value(height: u64, hash: &Hash) -> [u8; 8 + HASH_LEN] {
    let mut v = [0u8; 8 + HASH_LEN];
    v[..8].copy_from_slice(&height.to_be_bytes());
    v[8..].copy_from_slice(hash.as_bytes());
    v
}

pub fn decode_head(bytes: &[u8]) -> Option<(u64, Hash)> {
    if bytes.len() != 8 + HASH_LEN {
        return None;
    }
    Some((decode_u64(&bytes[..8])?, decode_hash(&bytes[8..])?))
}

pub const MARKER_LEN: usize = 8 + 2 * HASH_LEN;

pub fn marker_value(height: u64, block_hash: &Hash, accumulator_root: &Hash) -> [u8; MARKER_LEN] {
    let mut v = [0u8; MARKER_LEN];
    v[..8].copy_from_slice(&height.to_be_bytes());
    v[8..8 + HASH_LEN].copy_from_slice(block_hash.as_bytes());
    v[8 + HASH_LEN..].copy_from_slice(accumulator_root.as_bytes());
    v
}

/// (height, block hash, accumulator root).
pub fn decode_marker(bytes: &[u8]) -> Option<(u64, Hash, Hash)> {
    if bytes.len() != MARKER_LEN {
        return None;
    }
    Some((
        decode_u64(&bytes[..8])?,
        decode_hash(&bytes[8..8 + HASH_LEN])?,
        decode_hash(&bytes[8 + HASH_LEN..])?,
    ))
}

impl TxLocation {
    pub const ENCODED_LEN: usize = 20;

    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut v = [0u8; Self::ENCODED_LEN];
        v[..8].copy_from_slice(&self.height.to_be_bytes());
        v[8..12].copy_from_slice(&self.index_in_block.to_be_bytes());
        v[12..].copy_from_slice(&self.ledger_index.to_be_bytes());
        v
    }

    pub fn decode(bytes: &[u8]) -> Option<TxLocation> {
        if bytes.len() != Self::ENCODED_LEN {
            return None;
        }
        Some(TxLocation {
            height: decode_u64(&bytes[..8])?,
            index_in_block: decode_u32(&bytes[8..12])?,
            ledger_index: decode_u64(&bytes[12..])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip_and_sort_numerically() {
        let loc = TxLocation {
            height: 9,
            index_in_block: 3,
            ledger_index: 1 << 40,
        };
        assert_eq!(TxLocation::decode(&loc.encode()), Some(loc));
        assert_eq!(TxLocation::decode(&[0; 19]), None);
        let pos = NodePos::new(3, 77);
        assert_eq!(decode_accumulator_key(&accumulator_key(pos)), Some(pos));
        assert_eq!(decode_accumulator_key(&[0xff; 8]), None);
        assert_eq!(decode_accumulator_key(&[0; 9]), None);
        assert_eq!(decode_legacy_node_key(&legacy_node_key(pos)), Some(pos));
        assert!(accumulator_key(NodePos::new(2, 0)) < accumulator_key(NodePos::leaf(4)));
        // Beyond the maximum tree of 2^63 leaves: a level past 63, an index past its level.
        assert_eq!(decode_legacy_node_key(&[64, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(
            decode_legacy_node_key(&[1, 0x40, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(decode_legacy_node_key(&[0; 8]), None);
        assert!(u64_key(255) < u64_key(256));
        let h = Hash::blake3(b"x");
        assert_eq!(decode_head(&head_value(5, &h)), Some((5, h)));
        assert_eq!(decode_head(&[0; 39]), None);
        let root = Hash::blake3(b"root");
        assert_eq!(
            decode_marker(&marker_value(7, &h, &root)),
            Some((7, h, root))
        );
        assert_eq!(decode_marker(&[0; MARKER_LEN - 1]), None);
    }
}
