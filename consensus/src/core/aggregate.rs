//! Votes and timeouts: checking them and aggregating a quorum into a QC or a TC.

use super::*;

impl<P: Payload, V: PayloadValidator<P>> Core<P, V> {
    pub(super) fn on_vote(&mut self, from: PublicKey, idx: u16, v: Vote) -> Result<(), Reject> {
        let round = v.data.round;
        if v.data.chain != self.validators.chain {
            return Err(Reject::WrongChain { what: "vote" });
        }
        self.validators.check_message_epoch("vote", v.data.epoch)?;
        if round.saturating_add(1) < self.round {
            return Err(Reject::StaleRound {
                round,
                current: self.round,
            });
        }
        if round > self.round.saturating_add(ROUND_WINDOW) {
            return Err(Reject::FutureRound {
                round,
                current: self.round,
            });
        }
        if self.validators.leader(round.saturating_add(1)) != self.me {
            return Err(Reject::WrongLeader {
                round: round.saturating_add(1),
            });
        }
        from.verify(&v.data, &v.signature)
            .map_err(|_| Reject::BadSignature { what: "vote" })?;
        self.add_vote(idx, v);
        Ok(())
    }

    pub(super) fn add_vote(&mut self, idx: u16, v: Vote) {
        let round = v.data.round;
        let power = self.validators.power_of(idx);
        let quorum = self.validators.quorum();
        let entry = self.votes.entry(round).or_default();
        if entry.done {
            return;
        }
        if let Some(prev) = entry.by_author.get(&idx) {
            if *prev != v.data.block_id {
                self.reject(
                    Some(v.author),
                    Reject::Equivocation {
                        what: "vote",
                        round,
                    },
                );
            }
            return;
        }
        entry.by_author.insert(idx, v.data.block_id);
        let slot = entry.by_data.entry(v.data.clone()).or_default();
        slot.0.push((idx, v.signature));
        slot.1 += power;
        if slot.1 < quorum {
            return;
        }
        let mut signatures = slot.0.clone();
        signatures.sort_by_key(|s| s.0);
        entry.done = true;
        let qc = QuorumCert {
            vote_data: v.data,
            signatures,
        };
        self.remember(qc.hash());
        self.process_certs(Some(&qc), None, Some(v.author));
    }

    pub(super) fn on_timeout(
        &mut self,
        from: PublicKey,
        idx: u16,
        t: Timeout,
    ) -> Result<(), Reject> {
        let round = t.round();
        if t.data.chain != self.validators.chain {
            return Err(Reject::WrongChain { what: "timeout" });
        }
        self.validators
            .check_message_epoch("timeout", t.data.epoch)?;
        if t.high_qc.round() != t.data.high_qc_round || t.data.high_qc_round >= round {
            return Err(Reject::BadCertificate {
                reason: "timeout's high QC does not match what it signed".into(),
            });
        }
        if let Some(tc) = &t.last_tc {
            if tc.round.saturating_add(1) != round {
                return Err(Reject::BadCertificate {
                    reason: "timeout's TC is not of the previous round".into(),
                });
            }
        }
        from.verify(&t.data, &t.signature)
            .map_err(|_| Reject::BadSignature { what: "timeout" })?;
        self.verify_qc(&t.high_qc)?;
        if let Some(tc) = &t.last_tc {
            self.verify_tc(tc)?;
        }
        self.process_certs(Some(&t.high_qc), t.last_tc.as_ref(), Some(from));
        if round < self.round {
            if self.my_index.is_none() {
                // Not a validator of this epoch: it sends validators nothing.
                return Ok(());
            }
            // The sender is stuck in an old round: tell it how to catch up.
            let msg = ConsensusMsg::SyncInfo(SyncInfo {
                high_qc: self.high_qc.clone(),
                high_tc: self.high_tc.clone(),
            });
            self.out.push(Action::Send {
                to: from,
                msg,
                after: None,
            });
            return Ok(());
        }
        if round > self.round.saturating_add(ROUND_WINDOW) {
            return Err(Reject::FutureRound {
                round,
                current: self.round,
            });
        }
        self.add_timeout(idx, t);
        Ok(())
    }

    pub(super) fn add_timeout(&mut self, idx: u16, t: Timeout) {
        let round = t.round();
        let power = self.validators.power_of(idx);
        let entry = self.timeouts.entry(round).or_default();
        if entry.done {
            return;
        }
        if let Some(prev) = entry.by_author.get(&idx) {
            if prev.data != t.data {
                self.reject(
                    Some(t.author),
                    Reject::Equivocation {
                        what: "timeout",
                        round,
                    },
                );
            }
            return;
        }
        entry.by_author.insert(idx, t);
        entry.power += power;
        let total = entry.power;
        if total >= self.validators.quorum() {
            entry.done = true;
            let mut high_qc: Option<&QuorumCert> = None;
            let mut entries = Vec::with_capacity(entry.by_author.len());
            for (i, t) in &entry.by_author {
                entries.push((*i, t.data.high_qc_round, t.signature));
                if high_qc.is_none_or(|q| q.round() < t.high_qc.round()) {
                    high_qc = Some(&t.high_qc);
                }
            }
            let tc = TimeoutCert {
                chain: self.validators.chain,
                epoch: self.validators.epoch,
                round,
                entries,
                high_qc: high_qc.expect("a quorum is not empty").clone(),
            };
            self.remember(ledger::encoding::digest(&tc));
            self.process_certs(None, Some(&tc), None);
            return;
        }
        // Join a round's timeout once f+1 validators (at least one honest) have timed out.
        let joined = self.safety.data().highest_timeout_round >= round;
        if round == self.round && total >= self.validators.validity() && !joined {
            self.local_timeout();
        }
    }

    pub(super) fn on_sync(&mut self, from: PublicKey, s: SyncInfo) -> Result<(), Reject> {
        self.verify_qc(&s.high_qc)?;
        if let Some(tc) = &s.high_tc {
            self.verify_tc(tc)?;
        }
        self.process_certs(Some(&s.high_qc), s.high_tc.as_ref(), Some(from));
        Ok(())
    }
}
