//! The chain check run on open and by `waybill audit ledger`: walks the blocks from genesis (or
//! the last n) to the head and checks every link between records, reporting the first broken one
//! with its height. Full mode also checks that every column family holds exactly the records the
//! chain implies (no missing, extra or altered accumulator nodes, index entries or receipts).

use rocksdb::{Direction, IteratorMode};

use super::schema::{self, TxLocation};
use super::{Head, Store, StoreError, VerifyMode};
use crate::accumulator::{self as acc, AccumulatorError};
use crate::hash::Hash;
use crate::merkle::TreeHasher;
use crate::proof::LedgerCheckpoint;
use crate::receipt::{ExecStatus, TxLeaf};
use crate::stored::StoredBlock;

/// What a successful check covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainSummary {
    pub genesis_hash: Option<Hash>,
    pub head: Option<Head>,
    /// First height checked (0 in full mode; the height after the marker in since-the-marker
    /// mode, so the head + 1 when nothing came after it).
    pub from_height: u64,
    pub blocks_checked: u64,
    pub txs_checked: u64,
    pub accumulator_size: u64,
    pub accumulator_root: Hash,
    /// State root after the head block (the empty tree's root for an empty store).
    pub state_root: Hash,
    /// Whether the whole store was checked (full mode), not only its tail.
    pub full: bool,
    /// Whether every block up to the head is now known to be checked: by this check from
    /// genesis, or by this check from a verified-up-to marker it confirmed (not by a tail check,
    /// nor a skipped one). Only then may the marker move to the head.
    pub through_head: bool,
}

impl Store {
    /// Checks the whole store (see the module doc).
    pub fn verify_chain(&self) -> Result<ChainSummary, StoreError> {
        self.verify_chain_with(VerifyMode::Full)
    }

    pub fn verify_chain_with(&self, mode: VerifyMode) -> Result<ChainSummary, StoreError> {
        self.verify_chain_reporting(mode, &mut |_| {})
    }

    /// [`Store::verify_chain_with`] that calls `progress` with each height once it is checked.
    pub(super) fn verify_chain_reporting(
        &self,
        mode: VerifyMode,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ChainSummary, StoreError> {
        if mode == VerifyMode::Skip {
            return self.chain_summary_unchecked();
        }
        let meta = self.read_meta()?;
        let last = self.last_block_height()?;
        let marker = match mode {
            VerifyMode::SinceVerified => self.verified_marker()?,
            _ => None,
        };
        // A store without a marker (new, or written before markers existed) is checked whole,
        // once: the open then records the marker.
        let full =
            mode == VerifyMode::Full || (mode == VerifyMode::SinceVerified && marker.is_none());
        let through_head = full || mode == VerifyMode::SinceVerified;
        let head_height = match (meta.head, last) {
            (None, None) if meta.accumulator_size.unwrap_or(0) == 0 => {
                if let Some(m) = &marker {
                    self.check_marker(m, None)?;
                }
                if full {
                    self.check_accumulator_nodes(0)?;
                    self.check_counts(0, 0, 0)?;
                }
                return Ok(ChainSummary {
                    genesis_hash: meta.genesis_hash,
                    head: None,
                    from_height: 0,
                    blocks_checked: 0,
                    txs_checked: 0,
                    accumulator_size: 0,
                    accumulator_root: self.hasher.empty_root(),
                    state_root: crate::smt::EMPTY,
                    full,
                    through_head,
                });
            }
            (Some((h, _)), Some(l)) if h == l => h,
            (m, l) => {
                return Err(StoreError::HeadHeightMismatch {
                    meta: m.map(|(h, _)| h),
                    last_block: l,
                })
            }
        };
        if meta.genesis_hash.is_none() {
            return Err(StoreError::Corrupt {
                cf: schema::CF_META,
                key: "genesis_hash".into(),
                reason: format!("missing although blocks exist up to height {head_height}"),
            });
        }

        // A synced store holds nothing below its base: a walk that would start at or below it
        // starts after it instead, following the base block (checked like a marker).
        let base = self.base()?;
        // The first height to walk, and the hash, accumulator size and root it must follow.
        let (from, mut prev_hash, mut size, mut root) = match (mode, &marker) {
            (VerifyMode::SinceVerified, Some(m)) => {
                let anchor = self.check_marker(m, Some(head_height))?;
                (
                    m.height + 1,
                    anchor.block_hash,
                    anchor.accumulator_size,
                    anchor.accumulator_root,
                )
            }
            _ => {
                let from = match mode {
                    VerifyMode::Tail(n) => (head_height + 1).saturating_sub(n.max(1)),
                    VerifyMode::From(h) => h.min(head_height),
                    // (Skip returned above.)
                    VerifyMode::Full | VerifyMode::SinceVerified | VerifyMode::Skip => 0,
                };
                if let Some(b) = base.filter(|b| from <= b.height) {
                    let anchor = self.check_base(&b, head_height)?;
                    (
                        b.height + 1,
                        anchor.block_hash,
                        anchor.accumulator_size,
                        anchor.accumulator_root,
                    )
                } else if from == 0 {
                    (0, Hash::ZERO, 0, self.hasher.empty_root())
                } else {
                    let prev = self.load_block(from - 1, head_height)?;
                    (
                        from,
                        prev.block.hash(),
                        prev.accumulator_size_after,
                        prev.accumulator_root_after,
                    )
                }
            }
        };
        let size_before = size;
        let mut txs_checked = 0u64;
        let mut distinct_txs = 0u64;
        for height in from..=head_height {
            let stored = self.load_block(height, head_height)?;
            let header = &stored.block.header;
            if header.parent != prev_hash {
                return Err(StoreError::BrokenChain {
                    height,
                    expected: prev_hash,
                    found: header.parent,
                });
            }
            let hash = stored.block.hash();
            let indexed = self.block_height(&hash)?;
            if indexed != Some(height) {
                return Err(StoreError::BlockIndexMismatch {
                    height,
                    hash,
                    found: indexed,
                });
            }
            distinct_txs += self.check_block_txs(&stored, size)?;
            txs_checked += stored.block.txs.len() as u64;
            let computed = size + stored.block.txs.len() as u64;
            if stored.accumulator_size_after != computed {
                return Err(StoreError::AccumulatorSizeMismatch {
                    height,
                    recorded: stored.accumulator_size_after,
                    computed,
                });
            }
            size = computed;
            root = acc::root_at(&self.hasher, self, size)?;
            if root != stored.accumulator_root_after {
                return Err(StoreError::AccumulatorRootMismatch {
                    height,
                    size,
                    recorded: stored.accumulator_root_after,
                    computed: root,
                });
            }
            // Every committed block has its state root, written in the same batch.
            let state_root = self
                .state_root_at(height)?
                .ok_or(StoreError::MissingStateRoot { height })?;
            // A stored ledger certificate must certify exactly these records (its signatures
            // need the genesis file: `Store::audit` checks them).
            if let Some(cert) = self.ledger_certificate(height)? {
                let ours = LedgerCheckpoint {
                    chain_id: header.chain_id.clone(),
                    height,
                    block_hash: hash,
                    state_root,
                    accumulator_root: root,
                    accumulator_size: size,
                };
                if cert.checkpoint != ours {
                    return Err(StoreError::CertificateMismatch {
                        height,
                        ours: Box::new(ours),
                        certified: Box::new(cert.checkpoint),
                    });
                }
            }
            prev_hash = hash;
            progress(height);
        }

        let found = Some((head_height, prev_hash));
        if meta.head != found {
            return Err(StoreError::HeadMismatch {
                meta: meta.head,
                found,
            });
        }
        let meta_size = meta.accumulator_size.unwrap_or(0);
        if meta_size != size {
            return Err(StoreError::MetaAccumulatorSizeMismatch {
                meta: meta_size,
                found: size,
            });
        }
        if full {
            match base {
                None => {
                    self.check_accumulator_nodes(size)?;
                    self.check_counts(head_height + 1, distinct_txs, size)?;
                }
                // The base block's transactions are below the base's ledger index: no receipt
                // or index entry for them, only the frontier.
                Some(b) => {
                    self.check_accumulator_nodes_since(b.accumulator_size, size)?;
                    self.check_counts(
                        head_height + 1 - b.height,
                        distinct_txs,
                        size - b.accumulator_size,
                    )?;
                }
            }
            // Every certificate key decodes (the seek below only sees the ones past the head).
            if let Some(&beyond) = self
                .certificate_heights()?
                .iter()
                .find(|&&h| h > head_height)
            {
                return Err(StoreError::CertificateBeyondHead {
                    height: beyond,
                    head: head_height,
                });
            }
        } else {
            self.check_accumulator_nodes_since(size_before, size)?;
        }
        self.check_nothing_beyond_head(head_height, size)?;
        Ok(ChainSummary {
            genesis_hash: meta.genesis_hash,
            head: Some(Head {
                height: head_height,
                hash: prev_hash,
            }),
            from_height: from,
            blocks_checked: head_height + 1 - from,
            txs_checked,
            accumulator_size: size,
            accumulator_root: root,
            state_root: self
                .state_root_at(head_height)?
                .ok_or(StoreError::MissingStateRoot {
                    height: head_height,
                })?,
            full,
            through_head,
        })
    }

    /// The summary [`Store::open`] needs, read from the metadata without checking anything
    /// ([`VerifyMode::Skip`]). Values it cannot read are left at their empty defaults: the caller
    /// is about to run a check of its own that reports them properly.
    pub(super) fn chain_summary_unchecked(&self) -> Result<ChainSummary, StoreError> {
        let meta = self.read_meta()?;
        let head = meta.head.map(|(height, hash)| Head { height, hash });
        let accumulator_size = meta.accumulator_size.unwrap_or(0);
        Ok(ChainSummary {
            genesis_hash: meta.genesis_hash,
            head,
            from_height: head.map_or(0, |h| h.height),
            blocks_checked: 0,
            txs_checked: 0,
            accumulator_size,
            accumulator_root: acc::root_at(&self.hasher, self, accumulator_size)
                .unwrap_or_else(|_| self.hasher.empty_root()),
            state_root: head
                .and_then(|h| self.state_root_at(h.height).ok().flatten())
                .unwrap_or(crate::smt::EMPTY),
            full: false,
            through_head: false,
        })
    }

    /// The base of a synced store, as [`Store::check_marker`] checks a marker (the block, the
    /// accumulator root its frontier gives), and its state root is there.
    fn check_base(
        &self,
        base: &super::Base,
        head_height: u64,
    ) -> Result<super::marker::MarkerAnchor, StoreError> {
        let stored = self.load_block(base.height, head_height)?;
        let anchor = self.check_marker(
            &super::VerifiedMarker {
                height: base.height,
                block_hash: base.block_hash,
                accumulator_root: stored.accumulator_root_after,
            },
            Some(head_height),
        )?;
        self.state_root_at(base.height)?
            .ok_or(StoreError::MissingStateRoot {
                height: base.height,
            })?;
        Ok(anchor)
    }

    fn load_block(&self, height: u64, head: u64) -> Result<StoredBlock, StoreError> {
        self.block_by_height(height)?
            .ok_or(StoreError::MissingBlock { height, head })
    }

    /// Receipts, tx index entries and accumulator leaves of one block, whose first transaction
    /// has ledger index `first`. Returns how many of its transactions the index points at.
    fn check_block_txs(&self, stored: &StoredBlock, first: u64) -> Result<u64, StoreError> {
        let height = stored.block.header.height;
        let mut indexed_here = 0;
        for (i, tx) in stored.block.txs.iter().enumerate() {
            let ledger_index = first + i as u64;
            let index_in_block = i as u32;
            let tx_hash = tx.hash();
            let bad_receipt = |reason: String| StoreError::StoredReceiptMismatch {
                ledger_index,
                height,
                index_in_block,
                reason,
            };
            let receipt = self
                .receipt(ledger_index)?
                .ok_or_else(|| bad_receipt("missing".into()))?;
            if receipt.tx_hash != tx_hash
                || receipt.height != height
                || receipt.index_in_block != index_in_block
                || receipt.ledger_index != ledger_index
            {
                return Err(bad_receipt(format!(
                    "records tx {} at height {} index {} ledger index {}",
                    receipt.tx_hash, receipt.height, receipt.index_in_block, receipt.ledger_index
                )));
            }

            let here = TxLocation {
                height,
                index_in_block,
                ledger_index,
            };
            let bad_index = |reason: String| StoreError::TxIndexMismatch {
                height,
                index_in_block,
                tx_hash,
                reason,
            };
            // The entry points at the inclusion that succeeded, else at the first (see
            // `write_block`).
            let succeeded = matches!(receipt.status, ExecStatus::Success);
            match self.tx_location(&tx_hash)? {
                None => return Err(bad_index("has no entry".into())),
                Some(loc) if loc == here => indexed_here += 1,
                Some(loc) if succeeded => {
                    return Err(bad_index(format!(
                        "points at {loc:?}, not at this inclusion, which succeeded"
                    )))
                }
                // Another inclusion of the same hash: an earlier one, or a later success.
                Some(loc) => {
                    let other = self.receipt(loc.ledger_index)?;
                    let fits = other.as_ref().is_some_and(|r| {
                        r.tx_hash == tx_hash
                            && (loc.ledger_index < ledger_index
                                || matches!(r.status, ExecStatus::Success))
                    });
                    if !fits {
                        return Err(bad_index(format!(
                            "points at {loc:?}, which is neither an earlier inclusion nor a success"
                        )));
                    }
                }
            }

            let expected = acc::tx_leaf_hash(&TxLeaf {
                tx_hash,
                receipt_hash: receipt.hash(),
            });
            let found = self.read_node(0, ledger_index)?;
            if found != Some(expected) {
                return Err(StoreError::AccumulatorLeafMismatch {
                    ledger_index,
                    height,
                    expected,
                    found,
                });
            }
        }
        Ok(indexed_here)
    }

    /// Every frozen node lies within `size`, every inner node hashes from its children, and
    /// none is missing. Leaves were checked against the receipts by the walk.
    fn check_accumulator_nodes(&self, size: u64) -> Result<(), StoreError> {
        self.check_accumulator_nodes_since(0, size)
    }

    /// The accumulator nodes made since size `from` (the ones that froze as the tree grew from
    /// `from` to `size` leaves), as [`Store::check_accumulator_nodes`] checks all of them: each
    /// inner one hashes from its children, none is missing, none lies beyond `size`. Nodes are
    /// keyed in freezing order, so they are one range of keys: one seek and one read per new
    /// node, and a check since a marker costs what the new blocks cost.
    fn check_accumulator_nodes_since(&self, from: u64, size: u64) -> Result<(), StoreError> {
        if size > acc::MAX_TREE_SIZE {
            return Err(AccumulatorError::SizeTooLarge {
                size,
                max: acc::MAX_TREE_SIZE,
            }
            .into());
        }
        let from = from.min(size);
        let cf = self.cf(schema::CF_ACCUMULATOR)?;
        let mut expected = acc::frozen_since(from, size);
        let start = acc::frozen_count(from).to_be_bytes();
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&start, Direction::Forward))
        {
            let (key, value) = item.map_err(StoreError::db("iterate accumulator"))?;
            let corrupt = |reason: String| StoreError::Corrupt {
                cf: schema::CF_ACCUMULATOR,
                key: hex::encode(&key),
                reason,
            };
            let pos = schema::decode_accumulator_key(&key)
                .ok_or_else(|| corrupt("not a node key".into()))?;
            let (level, index) = (pos.level, pos.index);
            match expected.next() {
                None => return Err(StoreError::AccumulatorNodeBeyondSize { level, index, size }),
                // Keys come in order from the first expected one: a later key means the
                // expected node is not there.
                Some(want) if want != pos => {
                    return Err(AccumulatorError::MissingNode {
                        level: want.level,
                        index: want.index,
                    }
                    .into())
                }
                Some(_) => {}
            }
            let node = schema::decode_hash(&value)
                .ok_or_else(|| corrupt(format!("value of {} bytes, expected 32", value.len())))?;
            if level > 0 {
                let child = |i: u64| -> Result<Hash, StoreError> {
                    self.read_node(level - 1, i)?.ok_or(
                        AccumulatorError::MissingNode {
                            level: level - 1,
                            index: i,
                        }
                        .into(),
                    )
                };
                let computed = self
                    .hasher
                    .hash_children(&child(2 * index)?, &child(2 * index + 1)?);
                if computed != node {
                    return Err(StoreError::AccumulatorNodeMismatch {
                        level,
                        index,
                        expected: computed,
                        found: node,
                    });
                }
            }
        }
        if let Some(want) = expected.next() {
            return Err(AccumulatorError::MissingNode {
                level: want.level,
                index: want.index,
            }
            .into());
        }
        Ok(())
    }

    /// No receipt, state root or ledger certificate beyond the head: what a head that went back
    /// (a lost log tail, a bad restore) would leave behind. A few seeks.
    fn check_nothing_beyond_head(&self, head: u64, size: u64) -> Result<(), StoreError> {
        let Some(next) = head.checked_add(1) else {
            return Ok(());
        };
        for (cf, from) in [
            (schema::CF_RECEIPTS, size),
            (schema::CF_STATE_ROOTS, next),
            (schema::CF_LEDGER_CERTS, next),
        ] {
            // An older store opened read-only may lack the newer families: nothing beyond, then.
            let Ok(handle) = self.cf(cf) else { continue };
            let key = schema::u64_key(from);
            let Some(item) = self
                .db
                .iterator_cf(handle, IteratorMode::From(&key, Direction::Forward))
                .next()
            else {
                continue;
            };
            let (found, _) = item.map_err(StoreError::db("seek beyond the head"))?;
            if cf == schema::CF_LEDGER_CERTS {
                if let Some(height) = schema::decode_u64(&found) {
                    return Err(StoreError::CertificateBeyondHead { height, head });
                }
            }
            return Err(StoreError::RecordBeyondHead {
                cf,
                key: hex::encode(&found),
                head,
                accumulator_size: size,
            });
        }
        Ok(())
    }

    /// No stray records: as many block index entries as blocks, tx index entries as distinct
    /// transactions, receipts as ledger entries.
    fn check_counts(&self, blocks: u64, distinct_txs: u64, size: u64) -> Result<(), StoreError> {
        for (cf, expected) in [
            (schema::CF_BLOCKS, blocks),
            (schema::CF_BLOCK_INDEX, blocks),
            (schema::CF_TX_INDEX, distinct_txs),
            (schema::CF_RECEIPTS, size),
            (schema::CF_STATE_ROOTS, blocks),
        ] {
            let mut found = 0u64;
            for item in self.db.iterator_cf(self.cf(cf)?, IteratorMode::Start) {
                item.map_err(StoreError::db("iterate"))?;
                found += 1;
            }
            if found != expected {
                return Err(StoreError::RecordCount {
                    cf,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }

    fn last_block_height(&self) -> Result<Option<u64>, StoreError> {
        let cf = self.cf(schema::CF_BLOCKS)?;
        match self.db.iterator_cf(cf, IteratorMode::End).next() {
            None => Ok(None),
            Some(Err(e)) => Err(StoreError::Db {
                op: "iterate blocks",
                source: e,
            }),
            Some(Ok((key, _))) => {
                schema::decode_u64(&key)
                    .map(Some)
                    .ok_or_else(|| StoreError::Corrupt {
                        cf: schema::CF_BLOCKS,
                        key: hex::encode(&key),
                        reason: "not an 8-byte height".into(),
                    })
            }
        }
    }

    fn read_meta(&self) -> Result<Meta, StoreError> {
        let cf = self.cf(schema::CF_META)?;
        let get = |key: &'static [u8]| self.db.get_cf(cf, key).map_err(StoreError::db("read meta"));
        let corrupt = |key: &'static [u8], len: usize| StoreError::Corrupt {
            cf: schema::CF_META,
            key: String::from_utf8_lossy(key).into_owned(),
            reason: format!("value of {len} bytes"),
        };
        let head = match get(schema::META_HEAD)? {
            None => None,
            Some(v) => {
                Some(schema::decode_head(&v).ok_or_else(|| corrupt(schema::META_HEAD, v.len()))?)
            }
        };
        let accumulator_size = match get(schema::META_ACCUMULATOR_SIZE)? {
            None => None,
            Some(v) => Some(
                schema::decode_u64(&v)
                    .ok_or_else(|| corrupt(schema::META_ACCUMULATOR_SIZE, v.len()))?,
            ),
        };
        let genesis_hash = match get(schema::META_GENESIS_HASH)? {
            None => None,
            Some(v) => Some(
                schema::decode_hash(&v)
                    .ok_or_else(|| corrupt(schema::META_GENESIS_HASH, v.len()))?,
            ),
        };
        Ok(Meta {
            head,
            accumulator_size,
            genesis_hash,
        })
    }
}

struct Meta {
    head: Option<(u64, Hash)>,
    accumulator_size: Option<u64>,
    genesis_hash: Option<Hash>,
}
