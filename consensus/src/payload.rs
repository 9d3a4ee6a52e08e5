//! What a block carries. The core never looks inside a payload: it asks for its digest (which
//! becomes the header's `tx_root`) and asks a [`PayloadValidator`] whether a proposed one is valid.

use std::fmt::Debug;

use ledger::{BlockHeader, Hash};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An opaque batch of transactions (or anything else) ordered by consensus.
pub trait Payload: Clone + Debug + Eq + Serialize + DeserializeOwned {
    /// The commitment stored in the block header's `tx_root`.
    fn digest(&self) -> Hash;
    /// The payload of the genesis block.
    fn empty() -> Self;
}

/// Decides whether a proposed payload may be voted for. Called synchronously, once per proposal,
/// after the proposal's signature and certificates have been checked; it should be deterministic
/// (every honest validator must agree) and bounded in cost.
pub trait PayloadValidator<P> {
    /// Why a payload was refused (shown in the core's `Reject::BadPayload`).
    type Error: std::fmt::Display;
    /// The cheap part of [`validate`](Self::validate): fixed limits (count, bytes), no signature.
    /// Called on every proposal whose own signature holds, late ones included, so that a leader
    /// that signed a block over the limits is charged however late its proposal arrives (a late
    /// one is never fully validated: that would let replays of old proposals buy expensive work).
    fn check_limits(&self, _header: &BlockHeader, _payload: &P) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Everything, [`check_limits`](Self::check_limits) included.
    fn validate(&self, header: &BlockHeader, payload: &P) -> Result<(), Self::Error>;
}

/// Accepts every payload whose digest matches the header (the core checks the digest itself).
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptAll;

impl<P> PayloadValidator<P> for AcceptAll {
    type Error = std::convert::Infallible;
    fn validate(&self, _header: &BlockHeader, _payload: &P) -> Result<(), Self::Error> {
        Ok(())
    }
}
