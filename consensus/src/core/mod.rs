//! The sans-IO core: `handle(now, input) -> actions`. See the crate docs for the protocol and
//! for what the driver must do with each action.

use std::collections::{BTreeMap, HashMap, HashSet};

use ledger::governance::EpochSet;
use ledger::{BlockHeader, Genesis, Hash, KeyPair, PublicKey, Signature};

use crate::block_tree::BlockTree;
use crate::io::{Action, Input, Recovery};
use crate::pacemaker::Pacemaker;
use crate::payload::{Payload, PayloadValidator};
use crate::reject::Reject;
use crate::safety_rules::{SafetyData, SafetyRules, Signed};
use crate::suspects::Suspects;
use crate::types::{
    Block, ConsensusMsg, Millis, Proposal, QuorumCert, Round, SyncInfo, Timeout, TimeoutCert, Vote,
    VoteData, WriteId,
};
use crate::validators::ValidatorSet;

/// Votes and timeouts are buffered at most this many rounds ahead of the current round.
pub const ROUND_WINDOW: Round = 8;
/// Most proposals buffered while their parent is fetched.
pub const MAX_PENDING_PROPOSALS: usize = 32;
/// Most blocks being fetched at once, and most QCs waiting for their block.
pub const MAX_FETCHES: usize = 64;
/// Most blocks asked for per fetch. A fetch asks only for as many as can lie between the
/// committed root and the block it wants (see [`Fetch`]), usually one or two.
pub const FETCH_COUNT: u32 = 64;
/// Most fetched blocks held while their ancestors are fetched.
pub const MAX_STASH: usize = 2_048;
/// Most certificate hashes remembered as verified (the cache is cleared when full).
pub const MAX_VERIFIED_CACHE: usize = 4_096;
/// Round timer expiries after which an unanswered fetch is dropped.
const MAX_FETCH_ATTEMPTS: u32 = 16;

/// A block being fetched: how many blocks each request asks for, and how many times it was
/// asked again.
///
/// Blocks at or below the committed root are dropped from an answer (`on_fetched`), so asking
/// for more than lie above it only made the peer read, encode and send blocks for nothing: with
/// 64 asked, a peer answered a replica one block behind with up to half a sync response of
/// committed blocks from its store (at 10,000 tx/s, a tenth of that peer's CPU). An answer
/// that falls short, as when a later epoch's rounds make the estimate low, still works: the
/// chain that does not reach the tree is kept and its parent fetched in turn.
#[derive(Clone, Copy, Debug)]
struct Fetch {
    count: u32,
    attempts: u32,
}

impl Fetch {
    /// `above_root`: how many blocks, at most, lie between the committed root and the one
    /// fetched, that one included.
    fn new(above_root: u64) -> Self {
        let count = above_root.clamp(1, u64::from(FETCH_COUNT)) as u32;
        Fetch { count, attempts: 0 }
    }
}

/// The genesis block every node starts from: height 0, round 0, no parent, the empty payload, no
/// justify, proposed by nobody (the all-zero key) at `genesis_time_ms`.
pub fn genesis_block<P: Payload>(genesis: &Genesis) -> Block<P> {
    let payload = P::empty();
    Block {
        header: BlockHeader {
            chain_id: genesis.chain_id.clone(),
            height: 0,
            round: 0,
            parent: Hash::ZERO,
            tx_root: payload.digest(),
            proposer: PublicKey([0; 32]),
            timestamp_ms: genesis.genesis_time_ms,
            justify: vec![],
        },
        payload,
    }
}

/// What a core holds in each of its buffers, each with its bound: `(name, held, most)`. Every
/// buffer a peer can fill is bounded; the fuzz targets assert `held <= most` after every input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occupancy(pub Vec<(&'static str, usize, usize)>);

impl Occupancy {
    /// The first buffer over its bound, if any.
    pub fn over_bound(&self) -> Option<(&'static str, usize, usize)> {
        self.0.iter().copied().find(|(_, held, most)| held > most)
    }
}

#[derive(Default)]
struct RoundVotes {
    by_author: HashMap<u16, Hash>,
    by_data: HashMap<VoteData, (Vec<(u16, Signature)>, u64)>,
    done: bool,
}

#[derive(Default)]
struct RoundTimeouts {
    by_author: BTreeMap<u16, Timeout>,
    power: u64,
    done: bool,
}

/// How far ahead of a voter's clock a proposal's time may be. Clocks of validators run by
/// different members drift; a minute is far more than NTP-synced clocks ever disagree by, and
/// small enough that a leader cannot date the chain into the future unnoticed.
pub const MAX_CLOCK_AHEAD_MS: u64 = 60_000;

pub struct Core<P, V> {
    validators: ValidatorSet,
    me: PublicKey,
    my_index: Option<u16>,
    safety: SafetyRules,
    pacemaker: Pacemaker,
    /// Leaders this node saw fail a round: their rounds are timed out sooner.
    suspects: Suspects,
    payload_validator: V,
    /// The epoch's root block: the genesis block, or the block that ended the previous epoch.
    root_id: Hash,
    tree: BlockTree<P>,
    high_qc: QuorumCert,
    high_tc: Option<TimeoutCert>,
    round: Round,
    payload_requested: Option<Round>,
    votes: BTreeMap<Round, RoundVotes>,
    timeouts: BTreeMap<Round, RoundTimeouts>,
    pending_proposals: BTreeMap<Hash, Vec<(Proposal<P>, QuorumCert)>>,
    /// The latest round a leader's signed proposal was seen for, and its block: a second,
    /// different one for that round is the leader's equivocation.
    proposed: Option<(Round, Hash)>,
    waiting_qcs: BTreeMap<Hash, QuorumCert>,
    fetching: BTreeMap<Hash, Fetch>,
    stash: HashMap<Hash, Vec<Block<P>>>,
    stash_len: usize,
    verified: HashSet<Hash>,
    next_write: u64,
    last_safety_write: Option<WriteId>,
    durable: Option<WriteId>,
    now: Millis,
    out: Vec<Action<P>>,
}

impl<P: Payload, V: PayloadValidator<P>> Core<P, V> {
    /// A fresh node at genesis.
    pub fn new(
        genesis: &Genesis,
        key: KeyPair,
        validator: V,
        now: Millis,
    ) -> (Self, Vec<Action<P>>) {
        Self::recover(genesis, key, validator, Recovery::default(), now)
    }

    /// A node restarting from what it persisted. Replays the persisted blocks above the last
    /// committed block (emitting `Commit` for any it can now prove committed), enters the highest
    /// round it can prove and sets its timer. Its safety data guarantees it never signs a vote or
    /// timeout that conflicts with one it may have sent before the crash.
    pub fn recover(
        genesis: &Genesis,
        key: KeyPair,
        validator: V,
        recovery: Recovery<P>,
        now: Millis,
    ) -> (Self, Vec<Action<P>>) {
        let set = recovery
            .epoch
            .clone()
            .unwrap_or_else(|| EpochSet::genesis(genesis));
        let gblock = genesis_block::<P>(genesis);
        let root = recovery.committed.unwrap_or_else(|| gblock.clone());
        // The epoch's root block: the genesis block for epoch 0; the one the safety data of this
        // epoch remember; or, entering the epoch now (the safety data are of the epoch before),
        // the committed head, which is the block that ended that epoch.
        let back_in = recovery
            .safety
            .previous
            .as_ref()
            .filter(|p| p.epoch == set.epoch && recovery.safety.epoch == set.epoch + 1);
        let later_root = recovery
            .safety
            .later
            .as_ref()
            .filter(|l| l.epoch == set.epoch);
        let (root_id, root_round) = if set.epoch == 0 {
            (gblock.id(), 0)
        } else if recovery.safety.epoch == set.epoch {
            (recovery.safety.epoch_root, recovery.safety.epoch_root_round)
        } else if let Some(p) = back_in {
            (p.epoch_root, p.epoch_root_round)
        } else if let Some(l) = later_root {
            (l.epoch_root, l.epoch_root_round)
        } else {
            (root.id(), root.round())
        };
        let validators = ValidatorSet::for_epoch(genesis, &set, root_round);
        let root_qc = validators.root_qc(root_id);
        let fresh = SafetyData::for_epoch(set.epoch, root_id, root_round);
        let me = key.public();
        let durable = recovery.safety.clone();
        let safety = SafetyRules::new(key, validators.chain, set.epoch, recovery.safety, fresh);
        let entering = *safety.data() != durable;
        let mut high_qc = if root.id() == root_id {
            root_qc.clone()
        } else {
            match root.qc() {
                Ok(qc) if qc.epoch() == set.epoch => qc,
                _ => root_qc.clone(),
            }
        };
        let own_timeout = safety
            .data()
            .last_timeout
            .as_ref()
            .filter(|t| t.data.epoch == set.epoch);
        if let Some(t) = own_timeout {
            if t.high_qc.round() > high_qc.round() {
                high_qc = t.high_qc.clone();
            }
        }
        let mut high_tc = own_timeout.and_then(|t| t.last_tc.clone());
        // The certificates that took it into the round it last voted in (its store may have
        // lost them): without them it would restart below that round and could sign nothing.
        let vote_entry = safety
            .data()
            .last_vote_entry
            .as_ref()
            .filter(|e| e.qc.epoch() == set.epoch);
        if let Some(entry) = vote_entry {
            if entry.qc.round() > high_qc.round() {
                high_qc = entry.qc.clone();
            }
            if let Some(tc) = entry.tc.as_ref().filter(|t| t.epoch == set.epoch) {
                if high_tc.as_ref().is_none_or(|h| tc.round > h.round) {
                    high_tc = Some(tc.clone());
                }
            }
        }
        let mut core = Core {
            my_index: validators.index_of(&me),
            safety,
            pacemaker: Pacemaker::new(&genesis.consensus),
            suspects: Suspects::new(validators.len()),
            payload_validator: validator,
            root_id,
            tree: BlockTree::new(root),
            high_qc,
            high_tc,
            round: 0,
            payload_requested: None,
            votes: BTreeMap::new(),
            timeouts: BTreeMap::new(),
            pending_proposals: BTreeMap::new(),
            proposed: None,
            waiting_qcs: BTreeMap::new(),
            fetching: BTreeMap::new(),
            stash: HashMap::new(),
            stash_len: 0,
            verified: HashSet::new(),
            next_write: 1,
            last_safety_write: None,
            durable: None,
            now,
            out: vec![],
            validators,
            me,
        };
        let root_height = core.tree.root().height();
        // Blocks of another epoch (the old epoch's blocks above the one that ended it) are
        // never part of this epoch's chain.
        let epoch = set.epoch;
        let mut blocks: Vec<Block<P>> = recovery
            .blocks
            .into_iter()
            .filter(|b| b.height() > root_height && b.qc().is_ok_and(|q| q.epoch() == epoch))
            .collect();
        blocks.sort_by_key(|b| b.height());
        for b in blocks {
            if core.tree.contains(&b.header.parent) {
                core.insert_block(b, false);
            }
        }
        // Replaying may have entered rounds on the way; only the commits it found matter.
        core.out.retain(|a| matches!(a, Action::Commit { .. }));
        if entering {
            // The new epoch's data are durable before anything is signed with them.
            core.persist_safety();
        }
        // The highest round this node can prove to others (a QC or TC of the round before, or
        // its own timeout there, which carries one). Not its last voted round: a proposal with
        // a TC may have taken it there, and the TC is not among its records; its timeouts in
        // that round would carry no certificate for it, and nobody behind could follow. Safety
        // data still forbids a second vote in any round up to it.
        let data = core.safety.data();
        let start = (core.high_qc.round().saturating_add(1))
            .max(data.highest_timeout_round)
            .max(
                core.high_tc
                    .as_ref()
                    .map_or(0, |t| t.round.saturating_add(1)),
            )
            .max(core.round);
        core.round = start;
        core.payload_requested = None;
        let deadline = now.saturating_add(core.round_timeout(start));
        core.out.push(Action::SetTimer {
            round: start,
            deadline,
        });
        core.maybe_request_payload();
        let out = std::mem::take(&mut core.out);
        (core, out)
    }

    pub fn round(&self) -> Round {
        self.round
    }
    pub fn high_qc(&self) -> &QuorumCert {
        &self.high_qc
    }
    pub fn committed_root(&self) -> &Block<P> {
        self.tree.root()
    }
    pub fn safety_data(&self) -> &SafetyData {
        self.safety.data()
    }
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }
    /// The epoch this core is in.
    pub fn epoch(&self) -> u64 {
        self.validators.epoch
    }
    /// The epoch's root block (the genesis block, or the block that ended the epoch before).
    pub fn epoch_root(&self) -> Hash {
        self.root_id
    }
    pub fn author(&self) -> PublicKey {
        self.me
    }
    /// The last write the driver reported durable.
    pub fn durable(&self) -> Option<WriteId> {
        self.durable
    }
    /// Rebuilds the core from durable state (after catch-up moved the store ahead of it). The
    /// consensus key moves from this core's SafetyRules to the new one's.
    pub fn rebuild(
        self,
        genesis: &Genesis,
        recovery: Recovery<P>,
        now: Millis,
    ) -> (Self, Vec<Action<P>>) {
        let key = self.safety.into_key();
        Self::recover(genesis, key, self.payload_validator, recovery, now)
    }

    /// This node's signature on a ledger checkpoint (see [`SafetyRules::sign_checkpoint`]).
    /// The caller decides whether this node is a validator of the height's epoch: around an
    /// epoch boundary that is not this core's epoch.
    pub fn sign_checkpoint(
        &self,
        checkpoint: &ledger::proof::LedgerCheckpoint,
    ) -> ledger::proof::CheckpointVote {
        self.safety.sign_checkpoint(checkpoint)
    }

    /// Uncommitted blocks that the chain may still grow on: the highest QC's block and its
    /// uncommitted ancestors, and blocks of later rounds (they may have gathered a QC this node
    /// has not seen yet). Others are left behind by a higher QC. A driver that lets an idle
    /// network rest asks whether any of these carries work (see the engine's `idle`).
    pub fn open_blocks(&self) -> impl Iterator<Item = &Block<P>> + '_ {
        let chain: Vec<Hash> = self
            .tree
            .uncommitted_path(&self.high_qc.block_id())
            .unwrap_or_default();
        let qc_round = self.high_qc.round();
        self.tree
            .uncommitted()
            .filter(move |(id, b)| b.round() > qc_round || chain.contains(id))
            .map(|(_, b)| b)
    }

    /// The payload validator the core asks.
    pub fn payload_validator(&self) -> &V {
        &self.payload_validator
    }

    /// A block held in the tree (the committed root or above).
    pub fn block(&self, id: &Hash) -> Option<&Block<P>> {
        self.tree.get(id)
    }

    /// How full each buffer is, against its bound. Votes are kept from the round before the
    /// current one to [`ROUND_WINDOW`] rounds ahead, timeouts from the current round on; each
    /// round holds at most one vote and one timeout per validator.
    pub fn occupancy(&self) -> Occupancy {
        let n = self.validators.len();
        let window = ROUND_WINDOW as usize;
        let votes: usize = self.votes.values().map(|v| v.by_author.len()).sum();
        let vote_sigs: usize = self
            .votes
            .values()
            .flat_map(|v| v.by_data.values())
            .map(|(sigs, _)| sigs.len())
            .sum();
        let timeouts: usize = self.timeouts.values().map(|t| t.by_author.len()).sum();
        let pending: usize = self.pending_proposals.values().map(Vec::len).sum();
        let stashed: usize = self.stash.values().map(Vec::len).sum();
        Occupancy(vec![
            (
                "block tree",
                self.tree.len(),
                crate::block_tree::MAX_TREE_BLOCKS,
            ),
            ("vote rounds", self.votes.len(), window + 2),
            ("votes", votes, (window + 2) * n),
            ("vote signatures", vote_sigs, (window + 2) * n),
            ("timeout rounds", self.timeouts.len(), window + 1),
            ("timeouts", timeouts, (window + 1) * n),
            ("pending proposals", pending, MAX_PENDING_PROPOSALS),
            (
                "QCs waiting for their block",
                self.waiting_qcs.len(),
                MAX_FETCHES,
            ),
            ("block fetches", self.fetching.len(), MAX_FETCHES),
            ("stashed blocks", stashed, MAX_STASH),
            ("stash count", self.stash_len, MAX_STASH),
            (
                "verified certificates",
                self.verified.len(),
                MAX_VERIFIED_CACHE,
            ),
        ])
    }

    pub fn handle(&mut self, now: Millis, input: Input<P>) -> Vec<Action<P>> {
        self.now = self.now.max(now);
        match input {
            Input::Message { from, msg } => self.on_message(from, msg),
            Input::TimerFired { round } => self.on_timer(round),
            Input::Persisted(w) => self.durable = self.durable.max(Some(w)),
            Input::PayloadReady { round, payload } => self.on_payload(round, payload),
            Input::BlocksFetched { from, blocks } => self.on_fetched(from, blocks),
        }
        std::mem::take(&mut self.out)
    }

    // ---- helpers -------------------------------------------------------------------------

    fn reject(&mut self, from: Option<PublicKey>, reason: Reject) {
        self.out.push(Action::Rejected { from, reason });
    }

    fn write_id(&mut self) -> WriteId {
        let w = WriteId(self.next_write);
        self.next_write += 1;
        w
    }

    fn persist_safety(&mut self) -> WriteId {
        let write = self.write_id();
        self.out.push(Action::PersistSafety {
            data: self.safety.data().clone(),
            write,
        });
        self.last_safety_write = Some(write);
        write
    }

    fn verify_qc(&mut self, qc: &QuorumCert) -> Result<(), Reject> {
        let h = qc.hash();
        if self.verified.contains(&h) {
            return Ok(());
        }
        self.validators.verify_qc(qc, self.root_id)?;
        self.remember(h);
        Ok(())
    }

    fn verify_tc(&mut self, tc: &TimeoutCert) -> Result<(), Reject> {
        let h = ledger::encoding::digest(tc);
        if self.verified.contains(&h) {
            return Ok(());
        }
        self.validators.verify_tc(tc, self.root_id)?;
        self.remember(h);
        Ok(())
    }

    fn remember(&mut self, h: Hash) {
        if self.verified.len() >= MAX_VERIFIED_CACHE {
            self.verified.clear();
        }
        self.verified.insert(h);
    }

    // ---- rounds --------------------------------------------------------------------------

    /// Applies verified certificates: raises the high QC / TC, commits by the two-chain rule,
    /// fetches a certified block this node lacks, and enters the round they justify.
    fn process_certs(
        &mut self,
        qc: Option<&QuorumCert>,
        tc: Option<&TimeoutCert>,
        from: Option<PublicKey>,
    ) {
        self.note_own_signatures(qc, tc);
        let mut target = self.round;
        let qcs = qc.into_iter().chain(tc.map(|t| &t.high_qc));
        for qc in qcs {
            if qc.round() > self.high_qc.round() {
                self.high_qc = qc.clone();
            }
            target = target.max(qc.round().saturating_add(1));
            let id = qc.block_id();
            if self.tree.contains(&id) {
                self.try_commit(qc);
            } else if qc.round() > self.tree.root().round() {
                if self.waiting_qcs.len() < MAX_FETCHES || self.waiting_qcs.contains_key(&id) {
                    self.waiting_qcs.insert(id, qc.clone());
                }
                if let Some(from) = from {
                    // Its height is unknown; along a chain each block's round is above its
                    // parent's, so the rounds bound how many blocks lie above the root.
                    let above_root = qc.round().saturating_sub(self.tree.root().round());
                    self.fetch(id, from, above_root);
                }
            }
        }
        if let Some(tc) = tc {
            self.note_failed_round(tc);
            if self.high_tc.as_ref().is_none_or(|t| t.round < tc.round) {
                self.high_tc = Some(tc.clone());
            }
            target = target.max(tc.round.saturating_add(1));
        }
        self.advance_round(target);
    }

    /// Verified certificates that carry this node's own signature for a round its safety data
    /// does not remember prove that data went back in time: raise it to what they prove (see
    /// [`SafetyRules::observe_own_signature`]), persist it, and say so.
    fn note_own_signatures(&mut self, qc: Option<&QuorumCert>, tc: Option<&TimeoutCert>) {
        let Some(me) = self.my_index else { return };
        let remembered = self.safety.data().last_voted_round;
        let mut proven: Option<Round> = None;
        for qc in qc.into_iter().chain(tc.map(|t| &t.high_qc)) {
            if qc.round() > remembered && qc.signatures.iter().any(|(i, _)| *i == me) {
                self.safety
                    .observe_own_signature(qc.round(), qc.vote_data.parent_round, false);
                proven = proven.max(Some(qc.round()));
            }
        }
        if let Some(tc) = tc {
            if tc.round > remembered {
                if let Some((_, hqc_round, _)) = tc.entries.iter().find(|(i, _, _)| *i == me) {
                    self.safety
                        .observe_own_signature(tc.round, *hqc_round, true);
                    proven = proven.max(Some(tc.round));
                }
            }
        }
        if let Some(round) = proven {
            self.persist_safety();
            self.reject(None, Reject::ForgottenSignature { round, remembered });
        }
    }

    fn try_commit(&mut self, qc: &QuorumCert) {
        let Some(id) = qc.commits() else { return };
        let Some(b) = self.tree.get(&id) else { return };
        if b.height() <= self.tree.root().height() {
            return;
        }
        match self.tree.commit(&id) {
            Ok(blocks) if !blocks.is_empty() => {
                let root_round = self.tree.root().round();
                let root_height = self.tree.root().height();
                self.waiting_qcs.retain(|_, q| q.round() > root_round);
                self.pending_proposals
                    .retain(|_, ps| ps.iter().any(|p| p.0.round() > root_round));
                self.stash
                    .retain(|_, bs| bs.iter().any(|b| b.height() > root_height));
                self.stash_len = self.stash.values().map(Vec::len).sum();
                self.out.push(Action::Commit {
                    blocks,
                    certificate: qc.clone(),
                });
            }
            Ok(_) => {}
            Err(reason) => self.reject(None, reason),
        }
    }

    /// How long this node waits in `round` before timing it out: the pacemaker's timeout, cut
    /// short when a leader the round needs is a suspect ([`crate::suspects`]) other than this
    /// node: its own, which proposes, or the next round's, which the votes go to and which forms
    /// the round's QC.
    fn round_timeout(&self, round: Round) -> Millis {
        let timeout = self.pacemaker.timeout(round, self.high_qc.round());
        let suspect = |r: Round| {
            self.leader_index(r)
                .is_some_and(|i| Some(i) != self.my_index && self.suspects.is_suspect(i))
        };
        if suspect(round) || suspect(round.saturating_add(1)) {
            crate::suspects::shortened(timeout)
        } else {
            timeout
        }
    }

    fn leader_index(&self, round: Round) -> Option<u16> {
        self.validators.index_of(&self.validators.leader(round))
    }

    /// A verified TC ends this node's current round: if no proposal of the round was seen, its
    /// leader becomes a suspect.
    fn note_failed_round(&mut self, tc: &TimeoutCert) {
        if tc.round != self.round || self.proposed.is_some_and(|(r, _)| r == tc.round) {
            return;
        }
        if let Some(i) = self.leader_index(tc.round) {
            if Some(i) != self.my_index {
                self.suspects.failed(i);
            }
        }
    }

    /// Leaders this node suspects to be down (see [`crate::suspects`]).
    pub fn suspect_leaders(&self) -> usize {
        self.suspects.count()
    }

    /// A proposal for a round this node has left, known by its header alone (the shell drops a
    /// late compact proposal before rebuilding its block). If its author is a suspect and the
    /// signature is its own, it is no longer one: a leader whose proposals arrive after the
    /// shortened wait is up, and its next rounds get the full timeout again. Only suspects'
    /// signatures are checked, so late proposals cost at most one check per failed round.
    pub fn late_proposal_seen(
        &mut self,
        from: PublicKey,
        header: &BlockHeader,
        tc_round: Option<Round>,
        signature: &Signature,
    ) -> Result<(), Reject> {
        let Some(i) = self.validators.index_of(&from) else {
            return Ok(());
        };
        if !self.suspects.is_suspect(i) || self.validators.leader(header.round) != from {
            return Ok(());
        }
        let data = crate::types::ProposalData {
            chain: self.validators.chain,
            epoch: self.validators.epoch,
            block_id: header.hash(),
            round: header.round,
            tc_round,
        };
        from.verify(&data, signature)
            .map_err(|_| Reject::BadSignature { what: "proposal" })?;
        self.suspects.proposed(i);
        Ok(())
    }

    fn advance_round(&mut self, round: Round) {
        if round <= self.round {
            return;
        }
        self.round = round;
        let keep_from = round.saturating_sub(1);
        self.votes = self.votes.split_off(&keep_from);
        self.timeouts = self.timeouts.split_off(&round);
        self.pending_proposals.retain(|_, ps| {
            ps.retain(|p| p.0.round() >= round);
            !ps.is_empty()
        });
        let deadline = self.now.saturating_add(self.round_timeout(round));
        self.out.push(Action::SetTimer { round, deadline });
        self.maybe_request_payload();
    }

    fn maybe_request_payload(&mut self) {
        let round = self.round;
        if self.validators.leader(round) != self.me
            || self.safety.data().last_proposed_round >= round
            || self.payload_requested == Some(round)
        {
            return;
        }
        let parent = self.high_qc.block_id();
        let Some(uncommitted) = self.tree.uncommitted_path(&parent) else {
            return; // the high QC's block is being fetched; asked again when it arrives
        };
        self.payload_requested = Some(round);
        self.out.push(Action::RequestPayload {
            round,
            parent,
            uncommitted,
        });
    }

    fn on_timer(&mut self, round: Round) {
        if round != self.round {
            return;
        }
        self.local_timeout();
        // Re-ask for blocks whose fetch may have been lost, from another validator each time.
        let n = self.validators.len() as u32;
        let ids: Vec<(Hash, Fetch)> = self.fetching.iter().map(|(h, f)| (*h, *f)).collect();
        for (id, fetch) in ids {
            let attempt = fetch.attempts + 1;
            if attempt > MAX_FETCH_ATTEMPTS {
                // Nobody has it (or it was pruned below the committed root): give up.
                self.fetching.remove(&id);
                self.waiting_qcs.remove(&id);
                continue;
            }
            self.fetching.insert(
                id,
                Fetch {
                    attempts: attempt,
                    ..fetch
                },
            );
            let from = self.validators.keys()[((attempt + id.0[0] as u32) % n) as usize];
            if from != self.me {
                self.out.push(Action::FetchBlocks {
                    id,
                    count: fetch.count,
                    from,
                });
            }
        }
        if self.round != round {
            // Our timeout completed the round's TC: the new round has its timer already.
            return;
        }
        let deadline = self.now.saturating_add(self.round_timeout(round));
        self.out.push(Action::SetTimer { round, deadline });
    }

    /// Signs (or re-sends) this round's timeout.
    fn local_timeout(&mut self) {
        if self.my_index.is_none() {
            return; // not a validator of this epoch: it signs nothing
        }
        let hqc = self.high_qc.clone();
        let tc = self.high_tc.clone();
        match self.safety.timeout(self.round, &hqc, tc.as_ref()) {
            Ok(Signed::New(t)) => {
                let w = self.persist_safety();
                self.out.push(Action::Broadcast {
                    msg: ConsensusMsg::Timeout(t.clone()),
                    after: Some(w),
                });
                if let Some(i) = self.my_index {
                    self.add_timeout(i, t);
                }
            }
            Ok(Signed::Again(t)) => {
                let after = self.last_safety_write;
                self.out.push(Action::Broadcast {
                    msg: ConsensusMsg::Timeout(t.clone()),
                    after,
                });
                // After a restart the round's tally is gone: count our timeout again (a no-op
                // when it is already there), or a round every honest validator restarted in
                // never gets its TC.
                if let Some(i) = self.my_index {
                    self.add_timeout(i, t);
                }
            }
            Err(reason) => self.reject(None, reason),
        }
    }

    // ---- messages ------------------------------------------------------------------------

    fn on_message(&mut self, from: PublicKey, msg: ConsensusMsg<P>) {
        // Another epoch's message is refused as such, whoever sent it: a validator removed in
        // this epoch still sends the last one's, a node that has not yet caught up too, and
        // one that rotated its key signed the last epoch's with its old key.
        if let Err(reason) = self.validators.check_message_epoch("message", msg.epoch()) {
            return self.reject(Some(from), reason);
        }
        // Within the epoch, a message the sender did not sign is its fault however stale it
        // is, so this comes before the checks that charge no one.
        if msg.signer().is_some_and(|signer| signer != from) {
            return self.reject(Some(from), Reject::AuthorMismatch);
        }
        let Some(idx) = self.validators.index_of(&from) else {
            return self.reject(Some(from), Reject::NotAValidator);
        };
        let r = match msg {
            ConsensusMsg::Proposal(p) => self.on_proposal(from, p),
            ConsensusMsg::Vote(v) => self.on_vote(from, idx, v),
            ConsensusMsg::Timeout(t) => self.on_timeout(from, idx, t),
            ConsensusMsg::SyncInfo(s) => self.on_sync(from, s),
        };
        if let Err(reason) = r {
            self.reject(Some(from), reason);
        }
    }
}

mod aggregate;
mod proposals;
mod sync;
