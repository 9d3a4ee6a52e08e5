//! Ledger certificates in the store: the checkpoint this store's own records give for a height,
//! and the certificates (a quorum of validators' signatures over that checkpoint) stored with it.
//!
//! A certificate is written only after it verified against its epoch's validator set (a
//! [`VerifiedCertificate`]) *and* its checkpoint equals the one recomputed here from the stored
//! block, state root and accumulator: the store never holds a certificate for a ledger other
//! than its own, nor an unverified one.

use std::collections::BTreeMap;

use rocksdb::{Direction, IteratorMode};

use super::schema;
use super::{Store, StoreError};
use crate::encoding::{from_canonical, to_canonical};
use crate::proof::{
    LedgerCertificate, LedgerCheckpoint, VerifiedCertificate, MAX_CERTIFICATE_SIGNERS,
};

/// Largest encoded certificate the read path accepts: the checkpoint (chain id, height, three
/// hashes, a size) and up to [`MAX_CERTIFICATE_SIGNERS`] (key, signature) pairs, with framing.
pub const MAX_LEDGER_CERTIFICATE_BYTES: usize = 512 + MAX_CERTIFICATE_SIGNERS * (32 + 64 + 4);

use crate::store_api::CertificateStored;

/// Checkpoints kept from the last commits: [`Store::ledger_checkpoint`] is asked for the
/// newest heights several times each (our vote, peers' votes, the certificate), and answering
/// from the stored block decoded all its transactions every time (2 % of a validator's CPU
/// under load).
pub const RECENT_CHECKPOINTS: usize = 64;

/// The checkpoints of the last [`RECENT_CHECKPOINTS`] commits, as the commit computed them from
/// the same records a read would decode.
#[derive(Default)]
pub(super) struct RecentCheckpoints(BTreeMap<u64, LedgerCheckpoint>);

impl RecentCheckpoints {
    pub(super) fn remember(&mut self, checkpoint: LedgerCheckpoint) {
        self.0.insert(checkpoint.height, checkpoint);
        while self.0.len() > RECENT_CHECKPOINTS {
            self.0.pop_first();
        }
    }
}

impl Store {
    /// The checkpoint of `height` from this store's records: what this node signs after
    /// executing the height, and what every certificate stored for it must certify.
    pub fn ledger_checkpoint(&self, height: u64) -> Result<Option<LedgerCheckpoint>, StoreError> {
        let recent = self
            .recent_checkpoints
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .get(&height)
            .cloned();
        if recent.is_some() {
            return Ok(recent);
        }
        let Some(stored) = self.block_by_height(height)? else {
            return Ok(None);
        };
        let state_root = self
            .state_root_at(height)?
            .ok_or(StoreError::MissingStateRoot { height })?;
        Ok(Some(LedgerCheckpoint {
            chain_id: stored.block.header.chain_id.clone(),
            height,
            block_hash: stored.block.hash(),
            state_root,
            accumulator_root: stored.accumulator_root_after,
            accumulator_size: stored.accumulator_size_after,
        }))
    }

    /// The certificate stored for `height`, if any. (A store of schema 2 opened read-only has no
    /// certificate column family: none then.)
    pub fn ledger_certificate(&self, height: u64) -> Result<Option<LedgerCertificate>, StoreError> {
        let Ok(cf) = self.cf(schema::CF_LEDGER_CERTS) else {
            return Ok(None);
        };
        let Some(bytes) = self
            .db
            .get_cf(cf, schema::u64_key(height))
            .map_err(StoreError::db("read ledger certificate"))?
        else {
            return Ok(None);
        };
        decode_certificate(height, &bytes).map(Some)
    }

    /// The certificate of the highest certified height at or below `height`.
    pub fn latest_certificate_at_or_below(
        &self,
        height: u64,
    ) -> Result<Option<LedgerCertificate>, StoreError> {
        let Ok(cf) = self.cf(schema::CF_LEDGER_CERTS) else {
            return Ok(None);
        };
        let key = schema::u64_key(height);
        let mut iter = self
            .db
            .iterator_cf(cf, IteratorMode::From(&key, Direction::Reverse));
        match iter.next() {
            None => Ok(None),
            Some(Err(e)) => Err(StoreError::Db {
                op: "iterate ledger certificates",
                source: e,
            }),
            Some(Ok((k, v))) => {
                let at = schema::decode_u64(&k).ok_or_else(|| StoreError::Corrupt {
                    cf: schema::CF_LEDGER_CERTS,
                    key: hex::encode(&k),
                    reason: "not an 8-byte height".into(),
                })?;
                decode_certificate(at, &v).map(Some)
            }
        }
    }

    /// The lowest height in `from..=to` with no stored certificate, looking at no more than
    /// `max_scan` heights (bounded work per call; `None` also when the scan ran out).
    pub fn first_uncertified(
        &self,
        from: u64,
        to: u64,
        max_scan: u64,
    ) -> Result<Option<u64>, StoreError> {
        let Ok(cf) = self.cf(schema::CF_LEDGER_CERTS) else {
            return Ok(if from <= to { Some(from) } else { None });
        };
        // A synced store holds nothing below its base, so nothing there to certify.
        let from = from.max(self.base_height().unwrap_or(0));
        let mut height = from;
        let end = to.min(from.saturating_add(max_scan.saturating_sub(1)));
        while height <= end {
            let present = self
                .db
                .get_pinned_cf(cf, schema::u64_key(height))
                .map_err(StoreError::db("read ledger certificate"))?
                .is_some();
            if !present {
                return Ok(Some(height));
            }
            height += 1;
        }
        Ok(None)
    }

    /// Stores `cert` for its height after checking it: verified against its epoch's set (the type
    /// says so), it must certify exactly this store's checkpoint of that height (so the height
    /// must be committed here). A height keeps its first
    /// certificate; a later valid one for the same checkpoint changes nothing.
    ///
    /// Written without fsync: a certificate lost to a power cut is fetched again from peers,
    /// and the commit path's fsync per block is what the ledger's durability rests on.
    pub fn put_ledger_certificate(
        &self,
        cert: &VerifiedCertificate,
    ) -> Result<CertificateStored, StoreError> {
        let cert = cert.certificate();
        let height = cert.checkpoint.height;
        let head = self.head().map_or(0, |h| h.height);
        let ours = self
            .ledger_checkpoint(height)?
            .ok_or(StoreError::CertificateBeyondHead { height, head })?;
        if ours != cert.checkpoint {
            return Err(StoreError::CertificateMismatch {
                height,
                ours: Box::new(ours),
                certified: Box::new(cert.checkpoint.clone()),
            });
        }
        if self.ledger_certificate(height)?.is_some() {
            return Ok(CertificateStored::AlreadyCertified);
        }
        self.db
            .put_cf(
                self.cf(schema::CF_LEDGER_CERTS)?,
                schema::u64_key(height),
                to_canonical(cert),
            )
            .map_err(StoreError::db("write ledger certificate"))?;
        Ok(CertificateStored::New)
    }

    /// Every stored certificate's height, in order (for the chain check and the audit).
    pub(super) fn certificate_heights(&self) -> Result<Vec<u64>, StoreError> {
        let Ok(cf) = self.cf(schema::CF_LEDGER_CERTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, _) = item.map_err(StoreError::db("iterate ledger certificates"))?;
            out.push(schema::decode_u64(&k).ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_LEDGER_CERTS,
                key: hex::encode(&k),
                reason: "not an 8-byte height".into(),
            })?);
        }
        Ok(out)
    }
}

fn decode_certificate(height: u64, bytes: &[u8]) -> Result<LedgerCertificate, StoreError> {
    let cert: LedgerCertificate =
        from_canonical("ledger certificate", bytes, MAX_LEDGER_CERTIFICATE_BYTES).map_err(|e| {
            StoreError::Corrupt {
                cf: schema::CF_LEDGER_CERTS,
                key: format!("height {height}"),
                reason: e.to_string(),
            }
        })?;
    if cert.checkpoint.height != height {
        return Err(StoreError::Corrupt {
            cf: schema::CF_LEDGER_CERTS,
            key: format!("height {height}"),
            reason: format!("certificate is for height {}", cert.checkpoint.height),
        });
    }
    Ok(cert)
}
