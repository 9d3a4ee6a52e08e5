//! A member's signature over the genesis hash: "I checked this genesis and my validator will run
//! it".

use serde::{Deserialize, Serialize};

use crate::crypto::{KeyPair, Signature};
use crate::encoding::Canonical;
use crate::hash::Hash;

/// What a member's consensus key signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GenesisApproval {
    pub genesis_hash: Hash,
}

impl Canonical for GenesisApproval {
    const DOMAIN: &'static str = "waybill/genesis-approval/v1";
}

/// A signature as kept in the genesis file's ceremony record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSignature {
    /// The validator's name in the genesis; its consensus key there verifies the signature.
    pub member: String,
    /// The hash signed: a signature over another hash is a stale one (the genesis changed since).
    pub genesis_hash: Hash,
    pub signature: Signature,
}

impl MemberSignature {
    pub fn sign(member: &str, genesis_hash: Hash, consensus: &KeyPair) -> MemberSignature {
        MemberSignature {
            member: member.to_string(),
            genesis_hash,
            signature: consensus.sign(&GenesisApproval { genesis_hash }),
        }
    }
}
