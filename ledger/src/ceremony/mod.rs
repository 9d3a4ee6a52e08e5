//! The key ceremony: how consortium members assemble a genesis without any private key leaving
//! its owner.
//!
//! 1. Each member makes its keys and exports a [`MemberBundle`]: its public identity (validator
//!    name, organization, consensus key, PeerId, network addresses, admin and operator account
//!    keys), signed by every one of those keys. The signatures prove possession, so a typo or
//!    somebody else's key fails before it reaches a genesis.
//! 2. A coordinator assembles the genesis from the bundles ([`add_member`]).
//! 3. Every member signs the genesis hash with its consensus key ([`MemberSignature`]).
//! 4. [`check`] verifies the possession proofs, that the genesis says what the bundles say, and
//!    the signatures, and names what is missing or wrong.
//!
//! The bundles and signatures travel in the genesis file itself, in a `[ceremony]` section that
//! is not part of the genesis hash ([`GenesisFile`]): signing the hash cannot change it, and the
//! bundles' network addresses reach every node with the genesis, signed by each member's network
//! key, so a node's config holds only local settings.

mod assemble;
mod bundle;
mod check;
mod file;
mod signature;

pub use assemble::{add_member, Added, AssembleError};
pub use bundle::{BundleError, Member, MemberBundle, MemberKeys, PossessionProofs};
pub use check::{check, CeremonyCheck, MemberCheck, Verdict};
pub use file::{Ceremony, GenesisFile};
pub use signature::{GenesisApproval, MemberSignature};

/// Most network addresses a member may advertise.
pub const MAX_ADDRESSES: usize = 8;
/// Longest network address (a multiaddr in text form).
pub const MAX_ADDRESS_LEN: usize = 256;
/// Longest organization display name, in bytes (as in the genesis).
pub const MAX_ORG_NAME_LEN: usize = 256;
