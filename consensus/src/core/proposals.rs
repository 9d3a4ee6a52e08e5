//! Proposals: checking and voting on them, adding blocks to the tree, and leading a round.

use super::*;

impl<P: Payload, V: PayloadValidator<P>> Core<P, V> {
    pub(super) fn on_proposal(&mut self, from: PublicKey, p: Proposal<P>) -> Result<(), Reject> {
        let round = p.round();
        let h = &p.block.header;
        if self.validators.leader(round) != from {
            return Err(Reject::WrongLeader { round });
        }
        if h.chain_id != self.validators.chain_id {
            return Err(Reject::WrongChain { what: "proposal" });
        }
        let data = Proposal::signed_data(
            self.validators.chain,
            self.validators.epoch,
            &p.block,
            &p.tc,
        );
        from.verify(&data, &p.signature)
            .map_err(|_| Reject::BadSignature { what: "proposal" })?;
        // Seen proposing, even too late for its round: not (or no longer) a suspect.
        if let Some(i) = self.validators.index_of(&from) {
            self.suspects.proposed(i);
        }
        self.note_proposal(round, p.block.id())?;
        let qc = self.check_block_shape(&p.block)?;
        self.payload_validator
            .check_limits(&p.block.header, &p.block.payload)
            .map_err(|e| Reject::BadPayload {
                reason: e.to_string(),
            })?;
        if qc.round() >= round {
            return Err(Reject::BadBlock {
                reason: "round not above its QC's".into(),
            });
        }
        self.verify_qc(&qc)?;
        match &p.tc {
            Some(tc) => {
                if tc.round.saturating_add(1) != round {
                    return Err(Reject::BadCertificate {
                        reason: "TC is not of the previous round".into(),
                    });
                }
                self.verify_tc(tc)?;
            }
            None if qc.round().saturating_add(1) != round => {
                return Err(Reject::BadBlock {
                    reason: "round neither follows its QC nor carries a TC".into(),
                });
            }
            None => {}
        }
        self.process_certs(Some(&qc), p.tc.as_ref(), Some(from));
        if round < self.round {
            return Err(Reject::StaleRound {
                round,
                current: self.round,
            });
        }
        self.payload_validator
            .validate(&p.block.header, &p.block.payload)
            .map_err(|e| Reject::BadPayload {
                reason: e.to_string(),
            })?;
        self.on_verified_proposal(from, p, qc)
    }

    /// A proposal's time: not before its parent's (every replica agrees on that), and at most
    /// [`MAX_CLOCK_AHEAD_MS`] ahead of this replica's clock (its own judgement, like the round
    /// timer). The parent is in the tree.
    fn check_time(&self, block: &Block<P>, parent: &Hash) -> Result<(), Reject> {
        let at = block.header.timestamp_ms;
        let parent_at = self.tree.get(parent).map_or(0, |b| b.header.timestamp_ms);
        if at < parent_at {
            return Err(Reject::BadBlock {
                reason: format!("its time {at} ms is before its parent's {parent_at} ms"),
            });
        }
        let latest = self.now.saturating_add(MAX_CLOCK_AHEAD_MS);
        if at > latest {
            return Err(Reject::BadBlock {
                reason: format!(
                    "its time {at} ms is more than {MAX_CLOCK_AHEAD_MS} ms ahead of this clock's {} ms",
                    self.now
                ),
            });
        }
        Ok(())
    }

    /// Remembers the latest round's signed proposal; a second, different one for that round is
    /// the leader's equivocation (both carry its signature). Older rounds are not remembered:
    /// by then the vote rule refuses a second block anyway.
    fn note_proposal(&mut self, round: Round, id: Hash) -> Result<(), Reject> {
        match self.proposed {
            Some((r, first)) if r == round && first != id => Err(Reject::Equivocation {
                what: "proposal",
                round,
            }),
            Some((r, _)) if r >= round => Ok(()),
            _ => {
                self.proposed = Some((round, id));
                Ok(())
            }
        }
    }

    /// Checks that a block's parts fit together; returns its decoded QC (not yet verified).
    pub(super) fn check_block_shape(&self, b: &Block<P>) -> Result<QuorumCert, Reject> {
        let h = &b.header;
        if h.chain_id != self.validators.chain_id {
            return Err(Reject::WrongChain { what: "block" });
        }
        if h.height == 0 || h.round == 0 {
            return Err(Reject::BadBlock {
                reason: "height and round must be above 0".into(),
            });
        }
        if b.payload.digest() != h.tx_root {
            return Err(Reject::BadBlock {
                reason: "tx_root does not match the payload".into(),
            });
        }
        let qc = b.qc().map_err(|e| Reject::BadBlock {
            reason: e.to_string(),
        })?;
        if qc.block_id() != h.parent {
            return Err(Reject::BadBlock {
                reason: "justify QC does not certify the parent".into(),
            });
        }
        Ok(qc)
    }

    /// A proposal whose signature and certificates are valid, for the current round.
    pub(super) fn on_verified_proposal(
        &mut self,
        from: PublicKey,
        p: Proposal<P>,
        qc: QuorumCert,
    ) -> Result<(), Reject> {
        let parent = p.block.header.parent;
        if !self.tree.contains(&parent) {
            if qc.round() <= self.tree.root().round() {
                return Err(Reject::ConflictsWithCommitted { id: p.block.id() });
            }
            let total: usize = self.pending_proposals.values().map(Vec::len).sum();
            if total >= MAX_PENDING_PROPOSALS {
                return Err(Reject::BufferFull {
                    what: "proposals waiting for their parent",
                });
            }
            let parent_height = p.block.height().saturating_sub(1);
            let above_root = parent_height.saturating_sub(self.tree.root().height());
            self.pending_proposals
                .entry(parent)
                .or_default()
                .push((p, qc));
            self.fetch(parent, from, above_root);
            return Ok(());
        }
        self.check_time(&p.block, &parent)?;
        let block = p.block.clone();
        self.insert_block(block, true);
        if !self.tree.contains(&p.block.id()) {
            return Ok(()); // insert rejected it (reason already reported)
        }
        if self.my_index.is_none() {
            // Not a validator of this epoch (one that joins later, or was removed): it follows
            // the chain and signs nothing.
            return Ok(());
        }
        match self.safety.vote(&p.block, &qc, p.tc.as_ref()) {
            Ok(signed) => {
                let (vote, after) = match signed {
                    Signed::New(v) => (v, Some(self.persist_safety())),
                    Signed::Again(v) => (v, self.last_safety_write),
                };
                let next = self.validators.leader(p.round().saturating_add(1));
                if next == self.me {
                    if let Some(i) = self.my_index {
                        self.add_vote(i, vote);
                    }
                } else {
                    self.out.push(Action::Send {
                        to: next,
                        msg: ConsensusMsg::Vote(vote),
                        after,
                    });
                }
                Ok(())
            }
            Err(reason) => Err(reason),
        }
    }

    /// Adds a block whose parent is in the tree, persists it if asked, applies its QC and wakes
    /// whatever waited for it (its children, its QC, this leader's proposal).
    pub(super) fn insert_block(&mut self, block: Block<P>, persist: bool) {
        let mut queue = vec![block];
        while let Some(block) = queue.pop() {
            let id = block.id();
            let qc = match block.qc() {
                Ok(qc) => qc,
                Err(e) => {
                    self.reject(
                        None,
                        Reject::BadBlock {
                            reason: e.to_string(),
                        },
                    );
                    continue;
                }
            };
            match self.tree.insert(block.clone()) {
                Ok(true) => {
                    if persist {
                        let write = self.write_id();
                        self.out.push(Action::PersistBlock { block, write });
                    }
                }
                Ok(false) => continue,
                Err(reason) => {
                    self.reject(None, reason);
                    continue;
                }
            }
            self.fetching.remove(&id);
            self.process_certs(Some(&qc), None, None);
            if let Some(waiting) = self.waiting_qcs.remove(&id) {
                self.try_commit(&waiting);
            }
            if let Some(children) = self.stash.remove(&id) {
                self.stash_len -= children.len();
                queue.extend(children);
            }
            if let Some(ps) = self.pending_proposals.remove(&id) {
                for (p, qc) in ps {
                    if p.round() == self.round {
                        let author = p.author();
                        if let Err(reason) = self.on_verified_proposal(author, p, qc) {
                            self.reject(Some(author), reason);
                        }
                    }
                }
            }
        }
        self.maybe_request_payload();
    }

    // ---- leader --------------------------------------------------------------------------

    pub(super) fn on_payload(&mut self, round: Round, payload: P) {
        if round != self.round
            || self.validators.leader(round) != self.me
            || self.safety.data().last_proposed_round >= round
        {
            return self.reject(
                None,
                Reject::StaleRound {
                    round,
                    current: self.round,
                },
            );
        }
        let hqc = self.high_qc.clone();
        let Some(parent) = self.tree.get(&hqc.block_id()) else {
            return self.reject(
                None,
                Reject::BadBlock {
                    reason: "high QC block missing".into(),
                },
            );
        };
        let tc = if hqc.round().saturating_add(1) == round {
            None
        } else {
            match &self.high_tc {
                Some(tc) if tc.round.saturating_add(1) == round => Some(tc.clone()),
                _ => {
                    return self.reject(
                        None,
                        Reject::Unsafe {
                            reason: "no certificate for this round".into(),
                        },
                    )
                }
            }
        };
        let block = Block {
            header: BlockHeader {
                chain_id: self.validators.chain_id.clone(),
                height: parent.height().saturating_add(1),
                round,
                parent: hqc.block_id(),
                tx_root: payload.digest(),
                proposer: self.me,
                // Never before the parent's time, which a replica would refuse.
                timestamp_ms: self.now.max(parent.header.timestamp_ms),
                justify: hqc.to_bytes(),
            },
            payload,
        };
        let proposal = match self.safety.propose(block, tc) {
            Ok(p) => p,
            Err(reason) => return self.reject(None, reason),
        };
        let w = self.persist_safety();
        self.out.push(Action::Broadcast {
            msg: ConsensusMsg::Proposal(proposal.clone()),
            after: Some(w),
        });
        let me = self.me;
        if let Err(reason) = self.on_verified_proposal(me, proposal, hqc) {
            self.reject(None, reason);
        }
    }
}
