//! Governance: changing the consortium (its validators and organizations) by transactions,
//! executed deterministically like the supply-chain actions ([`crate::execute`] sends the two
//! governance payloads here).
//!
//! # Proposals and approvals
//!
//! An admin of an organization (a genesis admin key of it, or an account of it with role
//! `admin`) proposes a [`Change`] for that organization with [`ProposeChange`]; the proposal's id
//! is the proposing transaction's hash, which its signer knows before submitting. Admins of other
//! organizations approve it with [`ApproveChange`]. Each organization counts once. When the
//! approving organizations (among those that exist at that moment) reach the genesis rule,
//! `ceil(organizations * approve_numerator / approve_denominator)` (at least 1; the default is two
//! thirds: 3 of 4, 4 of 5, 2 of 3), the change applies in that very transaction and the proposal
//! is gone. A proposal whose change no longer applies (say, the validator it removes is gone)
//! fails every approval that would complete it, with the change's code.
//!
//! # Validator set and epochs
//!
//! The committed state holds the validator set at [`VALIDATORS_KEY`] as an [`EpochSet`]: genesis
//! writes epoch 0 with the genesis validators. A block in which at least one validator change
//! applies ends its epoch: after it, the record names epoch `e + 1` and the set every later block
//! is certified by, until the next such block. Several changes in one block make one epoch. The
//! block's execution reports the new set ([`crate::execute::BlockExecution::next_epoch`]), which
//! the consensus core of every validator switches to after committing it; the ledger
//! certificate of the epoch's last height, signed by the old set, together with a state proof of
//! this record, is the epoch-change certificate auditors follow ([`crate::epoch`]).
//!
//! Organization changes take effect at once and end no epoch. A removed organization's accounts
//! stay in state but can no longer act (`not_member`), and its admins no longer count.
//!
//! # Failure codes (in the order they are checked)
//!
//! | action | codes |
//! |--------|-------|
//! | `propose_change` | `invalid_payload`; `unknown_organization`, `not_admin` (signer does not administer `organization`); then the change's own codes below, checked against the state now |
//! | `approve_change` | `invalid_payload`; `unknown_organization`, `not_admin`; `unknown_proposal`; `already_approved` (this organization approved already); when this approval completes it, the change's codes |
//! | `add_validator` | `validator_exists` (name, consensus key or peer id in use), `too_many_validators`, `power_overflow` |
//! | `remove_validator` | `unknown_validator`, `last_validator` (the set would be empty) |
//! | `set_validator_power` | `unknown_validator`, `power_overflow` |
//! | `rotate_consensus_key` | `unknown_validator`, `validator_exists` (key in use) |
//! | `rotate_network_key` | `unknown_validator`, `validator_exists` (peer id in use) |
//! | `add_organization` | `organization_exists`, `account_exists` (an admin key already has an account) |
//! | `remove_organization` | `unknown_organization`, `last_organization` |

pub mod exec;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::encoding::Canonical;
use crate::execute::{ExecError, StateReader};
use crate::genesis::{peer_id_public_key, Genesis, GovernanceParams, Validator, MAX_NAME_LEN};
use crate::hash::Hash;
use crate::supply::payload::{check_name, check_text};
use crate::tx::TxError;

/// State key of the validator set ([`EpochSet`]).
pub const VALIDATORS_KEY: &[u8] = b"gov/validators";
/// State key of the organizations that vote and the approval rule ([`GovernanceRecord`]).
pub const GOVERNANCE_KEY: &[u8] = b"gov/config";
/// Prefix of open proposals: `gov/proposal/` + the proposing transaction's hash (32 bytes).
pub const PROPOSAL_PREFIX: &[u8] = b"gov/proposal/";
/// Most admin keys a new organization may list.
pub const MAX_NEW_ADMINS: usize = 16;

pub fn proposal_key(id: &Hash) -> Vec<u8> {
    let mut k = PROPOSAL_PREFIX.to_vec();
    k.extend_from_slice(&id.0);
    k
}

/// The validator set of one epoch: what the state records at [`VALIDATORS_KEY`] and what the
/// epoch-change certificate proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochSet {
    /// 0 at genesis, one more after each block that changes the set.
    pub epoch: u64,
    /// In the order leaders rotate over and certificates index signers.
    pub validators: Vec<Validator>,
}

impl Canonical for EpochSet {
    const DOMAIN: &'static str = "waybill/epoch-set/v1";
}

impl EpochSet {
    /// Epoch 0: the genesis validators.
    pub fn genesis(genesis: &Genesis) -> EpochSet {
        EpochSet {
            epoch: 0,
            validators: genesis.validators.clone(),
        }
    }

    pub fn total_power(&self) -> u64 {
        self.validators.iter().map(|v| v.power).sum()
    }

    /// floor(2 * total / 3) + 1, as for genesis.
    pub fn quorum_power(&self) -> u64 {
        crate::genesis::quorum_of(self.total_power())
    }

    pub fn index_of(&self, key: &PublicKey) -> Option<usize> {
        self.validators.iter().position(|v| &v.consensus_key == key)
    }
}

/// Which organizations vote on changes, and how many must approve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceRecord {
    /// Sorted, no repeats.
    pub organizations: Vec<String>,
    /// Organizations removed by governance, sorted: their ids are never given out again (their
    /// accounts are still in state, and would otherwise come back to life).
    pub removed: Vec<String>,
    pub rule: GovernanceParams,
}

impl Canonical for GovernanceRecord {
    const DOMAIN: &'static str = "waybill/governance/v1";
}

impl GovernanceRecord {
    /// Approving organizations needed: ceil(n * numerator / denominator), at least 1.
    pub fn required(&self) -> u64 {
        let n = self.organizations.len() as u64;
        let num = u64::from(self.rule.approve_numerator);
        let den = u64::from(self.rule.approve_denominator).max(1);
        (n * num).div_ceil(den).max(1)
    }
}

/// An open proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalRecord {
    pub change: Change,
    /// Organizations that approved (the proposer's first), sorted, no repeats.
    pub approvals: Vec<String>,
}

impl Canonical for ProposalRecord {
    const DOMAIN: &'static str = "waybill/proposal/v1";
}

/// A change to the consortium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A new validator (the fields of a member bundle's validator).
    AddValidator(Validator),
    RemoveValidator {
        name: String,
    },
    SetValidatorPower {
        name: String,
        power: u64,
    },
    RotateConsensusKey {
        name: String,
        consensus_key: PublicKey,
    },
    RotateNetworkKey {
        name: String,
        peer_id: String,
    },
    AddOrganization {
        id: String,
        name: String,
        admins: Vec<PublicKey>,
    },
    RemoveOrganization {
        id: String,
    },
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self {
            Change::AddValidator(_) => "add_validator",
            Change::RemoveValidator { .. } => "remove_validator",
            Change::SetValidatorPower { .. } => "set_validator_power",
            Change::RotateConsensusKey { .. } => "rotate_consensus_key",
            Change::RotateNetworkKey { .. } => "rotate_network_key",
            Change::AddOrganization { .. } => "add_organization",
            Change::RemoveOrganization { .. } => "remove_organization",
        }
    }

    /// Whether applying it changes the validator set (and so ends the epoch).
    pub fn touches_validators(&self) -> bool {
        !matches!(
            self,
            Change::AddOrganization { .. } | Change::RemoveOrganization { .. }
        )
    }

    /// Structural limits, as for every payload.
    pub fn check(&self) -> Result<(), TxError> {
        let bad_key = |field: &'static str, e: crate::crypto::CryptoError| TxError::BadText {
            field,
            reason: e.to_string(),
        };
        let power = |p: u64| {
            if p == 0 || p > MAX_POWER {
                Err(TxError::BadText {
                    field: "power",
                    reason: format!("{p} is not in 1..={MAX_POWER}"),
                })
            } else {
                Ok(())
            }
        };
        let peer = |p: &str| {
            peer_id_public_key(p)
                .map(|_| ())
                .map_err(|reason| TxError::BadText {
                    field: "peer_id",
                    reason,
                })
        };
        match self {
            Change::AddValidator(v) => {
                check_name("name", &v.name, MAX_NAME_LEN)?;
                v.consensus_key
                    .check_point()
                    .map_err(|e| bad_key("consensus_key", e))?;
                peer(&v.peer_id)?;
                power(v.power)
            }
            Change::RemoveValidator { name } => check_name("name", name, MAX_NAME_LEN),
            Change::SetValidatorPower { name, power: p } => {
                check_name("name", name, MAX_NAME_LEN)?;
                power(*p)
            }
            Change::RotateConsensusKey {
                name,
                consensus_key,
            } => {
                check_name("name", name, MAX_NAME_LEN)?;
                consensus_key
                    .check_point()
                    .map_err(|e| bad_key("consensus_key", e))
            }
            Change::RotateNetworkKey { name, peer_id } => {
                check_name("name", name, MAX_NAME_LEN)?;
                peer(peer_id)
            }
            Change::AddOrganization { id, name, admins } => {
                check_name("organization", id, MAX_NAME_LEN)?;
                check_text("name", name, 256)?;
                if name.is_empty() || admins.is_empty() || admins.len() > MAX_NEW_ADMINS {
                    return Err(TxError::BadCount {
                        field: "admins",
                        count: admins.len(),
                        min: 1,
                        max: MAX_NEW_ADMINS,
                    });
                }
                let mut seen = std::collections::BTreeSet::new();
                for a in admins {
                    a.check_point().map_err(|e| bad_key("admins", e))?;
                    if !seen.insert(a) {
                        return Err(TxError::Duplicate {
                            field: "admins",
                            value: a.to_hex(),
                        });
                    }
                }
                Ok(())
            }
            Change::RemoveOrganization { id } => check_name("organization", id, MAX_NAME_LEN),
        }
    }
}

/// Largest voting power one change may give a validator (so that no sum of at most
/// [`crate::genesis::MAX_VALIDATORS`] powers comes near overflow).
pub const MAX_POWER: u64 = 1 << 40;

/// Proposes a change on behalf of `organization`, whose admin signs. Its id is the
/// transaction's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeChange {
    pub organization: String,
    pub change: Change,
}

impl ProposeChange {
    pub fn check(&self) -> Result<(), TxError> {
        check_name("organization", &self.organization, MAX_NAME_LEN)?;
        self.change.check()
    }
}

/// Approves proposal `proposal` (the proposing transaction's hash) on behalf of `organization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveChange {
    pub organization: String,
    pub proposal: Hash,
}

impl ApproveChange {
    pub fn check(&self) -> Result<(), TxError> {
        check_name("organization", &self.organization, MAX_NAME_LEN)
    }
}

/// Stable failure codes of governance actions (see the table above); the admin checks share
/// `unknown_organization`, `not_admin` and `account_exists` with [`crate::supply::codes`].
pub mod codes {
    pub const UNKNOWN_PROPOSAL: &str = "unknown_proposal";
    pub const ALREADY_APPROVED: &str = "already_approved";
    pub const VALIDATOR_EXISTS: &str = "validator_exists";
    pub const UNKNOWN_VALIDATOR: &str = "unknown_validator";
    pub const LAST_VALIDATOR: &str = "last_validator";
    pub const TOO_MANY_VALIDATORS: &str = "too_many_validators";
    pub const POWER_OVERFLOW: &str = "power_overflow";
    pub const ORGANIZATION_EXISTS: &str = "organization_exists";
    pub const LAST_ORGANIZATION: &str = "last_organization";

    pub const ALL: &[&str] = &[
        UNKNOWN_PROPOSAL,
        ALREADY_APPROVED,
        VALIDATOR_EXISTS,
        UNKNOWN_VALIDATOR,
        LAST_VALIDATOR,
        TOO_MANY_VALIDATORS,
        POWER_OVERFLOW,
        ORGANIZATION_EXISTS,
        LAST_ORGANIZATION,
    ];
}

/// The validator set the committed state names (after the block it was read at).
pub fn read_validators(state: &dyn StateReader) -> Result<Option<EpochSet>, ExecError> {
    crate::supply::state::read(state, "validator set", VALIDATORS_KEY)
}

pub fn read_governance(state: &dyn StateReader) -> Result<Option<GovernanceRecord>, ExecError> {
    crate::supply::state::read(state, "governance", GOVERNANCE_KEY)
}

pub fn read_proposal(
    state: &dyn StateReader,
    id: &Hash,
) -> Result<Option<ProposalRecord>, ExecError> {
    crate::supply::state::read(state, "proposal", &proposal_key(id))
}

/// What genesis writes for governance: epoch 0's set and the voting organizations with the rule.
pub fn genesis_writes(genesis: &Genesis) -> crate::execute::StateDelta {
    let mut orgs: Vec<String> = genesis.organizations.iter().map(|o| o.id.clone()).collect();
    orgs.sort();
    let record = GovernanceRecord {
        organizations: orgs,
        removed: vec![],
        rule: genesis.governance.clone().unwrap_or_default(),
    };
    let mut delta = crate::execute::StateDelta::new();
    delta.insert(
        VALIDATORS_KEY.to_vec(),
        Some(crate::encoding::to_canonical(&EpochSet::genesis(genesis))),
    );
    delta.insert(
        GOVERNANCE_KEY.to_vec(),
        Some(crate::encoding::to_canonical(&record)),
    );
    delta
}
