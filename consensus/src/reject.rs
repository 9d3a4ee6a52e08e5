//! Why an input was dropped. Returned in `Action::Rejected`; never a panic.

use ledger::Hash;

use crate::types::Round;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    #[error("sender is not a validator of this chain")]
    NotAValidator,
    #[error("message author differs from the authenticated sender")]
    AuthorMismatch,
    #[error("{what}: bad signature")]
    BadSignature { what: &'static str },
    #[error("{what}: names another chain")]
    WrongChain { what: &'static str },
    /// A message or certificate of another epoch: it counts only with its own epoch's set.
    #[error("{what} is of epoch {epoch}, this node is in epoch {current}")]
    WrongEpoch {
        what: &'static str,
        epoch: u64,
        current: u64,
    },
    #[error("malformed certificate: {reason}")]
    BadCertificate { reason: String },
    #[error("malformed block: {reason}")]
    BadBlock { reason: String },
    #[error("payload rejected: {reason}")]
    BadPayload { reason: String },
    #[error("proposal for round {round} is not from that round's leader")]
    WrongLeader { round: Round },
    #[error("round {round} is stale (current round {current})")]
    StaleRound { round: Round, current: Round },
    #[error("round {round} is too far ahead (current round {current})")]
    FutureRound { round: Round, current: Round },
    #[error("second, different {what} from one validator in round {round}")]
    Equivocation { what: &'static str, round: Round },
    #[error("safety rules refuse: {reason}")]
    Unsafe { reason: String },
    #[error("buffer full: {what}")]
    BufferFull { what: &'static str },
    #[error("fetched blocks do not form the requested chain: {reason}")]
    BadFetch { reason: String },
    /// Fetched blocks that no fetch in progress wants: unsolicited, or a late or second answer
    /// to a fetch another peer already satisfied. The shell matches answers to its own requests,
    /// so there this is a late answer, not a fault.
    #[error("fetched block {id} is not being fetched")]
    NotFetching { id: Hash },
    #[error("block {id} conflicts with the committed chain")]
    ConflictsWithCommitted { id: Hash },
    /// Not a fault of the sender: a verified certificate proves this node signed in `round`,
    /// above the last round its safety data remembers. Its safety data went back in time (a
    /// restored backup, a damaged store); it has raised them and refuses every round up to it.
    #[error("a verified certificate carries this node's signature for round {round}, above its last voted round {remembered}: its safety data went back in time; raised to it")]
    ForgottenSignature { round: Round, remembered: Round },
}
