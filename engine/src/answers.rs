//! Answers to the node's own requests: decoded, checked against what was asked, and handed to
//! the part of the node that asked. An answer that does not decode, or is of another kind than
//! asked, is a mark against the peer; a request that failed (a timeout, a closed connection) is
//! not.

use tracing::debug;

use crate::node::{Asked, EngineError, Node, RequestFailed};
use crate::offences::Offence;
use crate::store::NodeStore;
use crate::wire::{self, SyncResponse};
use crate::Peer;

impl<P: Peer, S: NodeStore> Node<P, S> {
    pub(crate) fn on_answer(
        &mut self,
        asked: Asked<P>,
        result: Result<Vec<u8>, RequestFailed>,
    ) -> Result<(), EngineError<S::Error>> {
        let answer = match result {
            Ok(bytes) => match wire::decode_response(&bytes) {
                Ok(a) => Some(a),
                Err(e) => {
                    if let Some(peer) = asked.peer(&self.book) {
                        self.offend(peer, Offence::BadSyncAnswer, &e);
                    }
                    None
                }
            },
            Err(e) => {
                debug!(error = %e, "sync request failed");
                None
            }
        };
        if let (Some(answer), Some(peer)) = (&answer, asked.peer(&self.book)) {
            if !asked.expects(answer) {
                self.offend(
                    peer,
                    Offence::BadSyncAnswer,
                    &format_args!("answered {} to {}", answer.kind(), asked.kind()),
                );
            }
        }
        match (asked, answer) {
            // No blocks: the peer does not hold the block (an honest one may not: a proposal it
            // never got). The core's fetch stays open for another peer; nothing to check.
            (Asked::CoreFetch { .. }, Some(SyncResponse::Blocks(blocks))) if blocks.is_empty() => {
                Ok(())
            }
            (Asked::CoreFetch { from }, Some(SyncResponse::Blocks(blocks))) => {
                self.feed(consensus::Input::BlocksFetched { from, blocks })
            }
            (Asked::CoreFetch { .. }, _) => Ok(()),
            (Asked::Head { peer }, Some(SyncResponse::Head { height, .. })) => {
                self.on_peer_head(peer, height);
                Ok(())
            }
            (Asked::Committed { peer, from_height }, Some(SyncResponse::Committed(records))) => {
                self.apply_catchup(peer, from_height, &records)
            }
            (Asked::Head { .. } | Asked::Committed { .. }, _) => {
                self.catchup_failed();
                Ok(())
            }
            (
                Asked::ProposalBody {
                    peer,
                    from,
                    compact,
                },
                Some(SyncResponse::Blocks(blocks)),
            ) => self.on_proposal_body(peer, from, &compact, blocks),
            (Asked::ProposalBody { .. }, _) => {
                self.proposal_body_failed();
                Ok(())
            }
            (
                Asked::ProposalTxs {
                    peer,
                    from,
                    compact,
                    indices,
                },
                Some(SyncResponse::Transactions(txs)),
            ) => self.on_proposal_txs(peer, from, compact, &indices, txs),
            // An answer, but not the transactions: the whole block, as builds before this
            // request asked for it. A proposer whose build predates the request answers that it
            // is unavailable (it cannot decode it). Bounded: the block is asked for once, and
            // its answer is final.
            (
                Asked::ProposalTxs {
                    peer,
                    from,
                    compact,
                    ..
                },
                Some(_),
            ) => {
                self.proposal_body_failed();
                self.fetch_block(peer, from, compact);
                Ok(())
            }
            // No answer (the proposer crashed or is unreachable): asking it again would fare no
            // better, and a proposer that restarted may have lost the block with its disk's
            // tail, honestly. The round goes on without this vote, as for a failed block fetch.
            (Asked::ProposalTxs { .. }, None) => {
                self.proposal_body_failed();
                Ok(())
            }
            (Asked::Certificates { peer }, Some(SyncResponse::LedgerCertificates(certs))) => {
                self.on_certificates(peer, Some(certs))
            }
            (Asked::Certificates { peer }, _) => self.on_certificates(peer, None),
            (Asked::Follow { peer, from_height }, Some(SyncResponse::Committed(records))) => {
                self.on_followed(peer, from_height, &records)
            }
            (Asked::Follow { .. }, _) => {
                self.follow_failed();
                Ok(())
            }
        }
    }
}

impl<P: Peer> Asked<P> {
    /// The peer the request went to.
    fn peer(&self, book: &crate::peers::PeerBook<P>) -> Option<P> {
        match self {
            Asked::CoreFetch { from } => book.peer_of(from),
            Asked::Head { peer }
            | Asked::Committed { peer, .. }
            | Asked::ProposalBody { peer, .. }
            | Asked::ProposalTxs { peer, .. }
            | Asked::Certificates { peer }
            | Asked::Follow { peer, .. } => Some(*peer),
        }
    }
}

impl<P> Asked<P> {
    /// Whether `answer` is of the kind this request asks for (or says it has none).
    fn expects(&self, answer: &SyncResponse) -> bool {
        matches!(
            (self, answer),
            (_, SyncResponse::Unavailable(_))
                | (
                    Asked::CoreFetch { .. } | Asked::ProposalBody { .. },
                    SyncResponse::Blocks(_)
                )
                | (Asked::ProposalTxs { .. }, SyncResponse::Transactions(_))
                | (Asked::Head { .. }, SyncResponse::Head { .. })
                | (
                    Asked::Committed { .. } | Asked::Follow { .. },
                    SyncResponse::Committed(_)
                )
                | (
                    Asked::Certificates { .. },
                    SyncResponse::LedgerCertificates(_)
                )
        )
    }

    fn kind(&self) -> &'static str {
        match self {
            Asked::CoreFetch { .. } => "a block fetch",
            Asked::Head { .. } => "a head request",
            Asked::Committed { .. } => "a committed-blocks request",
            Asked::ProposalBody { .. } => "a proposal's block fetch",
            Asked::ProposalTxs { .. } => "a proposal's transactions fetch",
            Asked::Certificates { .. } => "a certificate request",
            Asked::Follow { .. } => "a follow request",
        }
    }
}
