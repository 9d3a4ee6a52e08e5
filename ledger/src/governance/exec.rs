//! Applying one governance action (see the module docs of [`super`] for the rules and codes).

use crate::crypto::PublicKey;
use crate::encoding::to_canonical;
use crate::execute::{ExecError, StateDelta, StateReader};
use crate::genesis::{Validator, MAX_VALIDATORS};
use crate::hash::Hash;
use crate::supply::state::{
    account_key, org_key, read_account, read_org, AccountRecord, OrgRecord,
};
use crate::supply::{codes as supply_codes, roles, Failure};
use crate::tx::Payload;

use super::*;

/// A governance action that applied: its writes, and whether it changed the validator set.
#[derive(Debug)]
pub struct Applied {
    pub writes: StateDelta,
    pub validators_changed: bool,
}

/// Why the action did not apply: a rule (failed receipt) or unreadable state (execution stops).
enum Fail {
    Rule(Failure),
    Internal(ExecError),
}

impl From<ExecError> for Fail {
    fn from(e: ExecError) -> Self {
        Fail::Internal(e)
    }
}

fn fail(code: &'static str, message: String) -> Fail {
    Fail::Rule(Failure { code, message })
}

type R<T> = Result<T, Fail>;

/// Whether `payload` is a governance action (executed here, not by the supply-chain rules).
pub fn is_governance(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::ProposeChange(_) | Payload::ApproveChange(_)
    )
}

/// Applies a governance `payload` signed by `signer` in transaction `tx_hash`. `block_epoch` is
/// the epoch the state named when the block began: the first validator change of a block moves
/// the set to the next epoch, later ones in the same block stay in it.
pub fn apply(
    state: &dyn StateReader,
    signer: &PublicKey,
    tx_hash: Hash,
    block_epoch: u64,
    payload: &Payload,
) -> Result<Result<Applied, Failure>, ExecError> {
    let mut cx = Gov {
        state,
        writes: StateDelta::new(),
        signer: *signer,
        block_epoch,
        validators_changed: false,
    };
    let result = match payload {
        Payload::ProposeChange(p) => cx.propose(p, tx_hash),
        Payload::ApproveChange(a) => cx.approve(a),
        other => Err(fail(
            supply_codes::INVALID_PAYLOAD,
            format!("{} is not a governance action", other.kind()),
        )),
    };
    match result {
        Ok(()) => Ok(Ok(Applied {
            writes: cx.writes,
            validators_changed: cx.validators_changed,
        })),
        Err(Fail::Rule(f)) => Ok(Err(f)),
        Err(Fail::Internal(e)) => Err(e),
    }
}

struct Gov<'a> {
    state: &'a dyn StateReader,
    writes: StateDelta,
    signer: PublicKey,
    block_epoch: u64,
    validators_changed: bool,
}

impl StateReader for Gov<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.state.get(key),
        }
    }
}

fn missing(what: &str, key: &[u8]) -> Fail {
    Fail::Internal(ExecError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: format!("no {what} record: the store predates governance"),
    })
}

impl Gov<'_> {
    fn put<T: serde::Serialize>(&mut self, key: Vec<u8>, value: &T) -> R<()> {
        let bytes = to_canonical(value);
        if bytes.len() > crate::execute::MAX_STATE_VALUE_BYTES {
            return Err(fail(
                supply_codes::RECORD_TOO_LARGE,
                format!("record of {} bytes", bytes.len()),
            ));
        }
        self.writes.insert(key, Some(bytes));
        Ok(())
    }

    fn governance(&self) -> R<GovernanceRecord> {
        read_governance(self)?.ok_or_else(|| missing("governance", GOVERNANCE_KEY))
    }

    fn validators(&self) -> R<EpochSet> {
        read_validators(self)?.ok_or_else(|| missing("validator set", VALIDATORS_KEY))
    }

    /// The signer must administer `org`, a voting organization.
    fn require_admin(&self, org: &str) -> R<()> {
        let gov = self.governance()?;
        let rec = read_org(self, org)?;
        let Some(rec) = rec.filter(|_| gov.organizations.iter().any(|o| o == org)) else {
            return Err(fail(
                supply_codes::UNKNOWN_ORGANIZATION,
                format!("no organization {org:?}"),
            ));
        };
        let role_admin = || -> R<bool> {
            Ok(read_account(self, &self.signer)?
                .is_some_and(|a| a.organization == org && a.has_role(roles::ADMIN)))
        };
        if rec.admins.contains(&self.signer) || role_admin()? {
            return Ok(());
        }
        Err(fail(
            supply_codes::NOT_ADMIN,
            format!("{} is not an admin of {org:?}", self.signer),
        ))
    }

    fn propose(&mut self, p: &ProposeChange, id: Hash) -> R<()> {
        check_limits(p.check())?;
        self.require_admin(&p.organization)?;
        // The change must apply now; it is checked again when the last approval arrives.
        self.check_change(&p.change)?;
        let record = ProposalRecord {
            change: p.change.clone(),
            approvals: vec![p.organization.clone()],
        };
        self.decide(id, record)
    }

    fn approve(&mut self, a: &ApproveChange) -> R<()> {
        check_limits(a.check())?;
        self.require_admin(&a.organization)?;
        let Some(mut record) = read_proposal(self, &a.proposal)? else {
            return Err(fail(
                codes::UNKNOWN_PROPOSAL,
                format!("no open proposal {}", a.proposal),
            ));
        };
        if record.approvals.contains(&a.organization) {
            return Err(fail(
                codes::ALREADY_APPROVED,
                format!(
                    "{:?} approved proposal {} already",
                    a.organization, a.proposal
                ),
            ));
        }
        record.approvals.push(a.organization.clone());
        record.approvals.sort();
        self.decide(a.proposal, record)
    }

    /// Applies the change if its approvals reach the rule (and deletes the proposal), or stores
    /// the proposal with its approvals.
    fn decide(&mut self, id: Hash, record: ProposalRecord) -> R<()> {
        let gov = self.governance()?;
        let counted = record
            .approvals
            .iter()
            .filter(|o| gov.organizations.contains(o))
            .count() as u64;
        if counted >= gov.required() {
            self.apply_change(&record.change)?;
            self.writes.insert(proposal_key(&id), None);
            Ok(())
        } else {
            self.put(proposal_key(&id), &record)
        }
    }

    /// The change's own rules against the state now, without writing.
    fn check_change(&self, change: &Change) -> R<()> {
        match change {
            Change::AddOrganization { .. } | Change::RemoveOrganization { .. } => {
                self.next_organizations(change).map(|_| ())
            }
            _ => self.next_validators(change).map(|_| ()),
        }
    }

    fn apply_change(&mut self, change: &Change) -> R<()> {
        if change.touches_validators() {
            let mut set = self.next_validators(change)?;
            set.epoch = self.block_epoch.checked_add(1).ok_or_else(|| {
                Fail::Internal(ExecError::Corrupt {
                    key: String::from_utf8_lossy(VALIDATORS_KEY).into_owned(),
                    reason: "epoch number overflows".into(),
                })
            })?;
            self.put(VALIDATORS_KEY.to_vec(), &set)?;
            self.validators_changed = true;
            return Ok(());
        }
        let (gov, org) = self.next_organizations(change)?;
        match (change, org) {
            (Change::AddOrganization { id, admins, .. }, Some(rec)) => {
                self.put(org_key(id), &rec)?;
                for admin in admins {
                    let acct = AccountRecord {
                        key: *admin,
                        organization: id.clone(),
                        roles: vec![roles::ADMIN.to_string()],
                    };
                    self.put(account_key(admin), &acct)?;
                }
            }
            (Change::RemoveOrganization { id }, _) => {
                self.writes.insert(org_key(id), None);
            }
            _ => {}
        }
        self.put(GOVERNANCE_KEY.to_vec(), &gov)
    }

    /// The validator set after `change` (epoch not yet advanced).
    fn next_validators(&self, change: &Change) -> R<EpochSet> {
        let mut set = self.validators()?;
        let position = |set: &EpochSet, name: &str| {
            set.validators
                .iter()
                .position(|v| v.name == name)
                .ok_or_else(|| {
                    fail(
                        codes::UNKNOWN_VALIDATOR,
                        format!("no validator {name:?} in epoch {}", set.epoch),
                    )
                })
        };
        match change {
            Change::AddValidator(v) => {
                if let Some(other) = set.validators.iter().find(|o| clashes(o, v)) {
                    return Err(fail(
                        codes::VALIDATOR_EXISTS,
                        format!(
                            "validator {:?} has the name, consensus key or peer id of {:?}",
                            v.name, other.name
                        ),
                    ));
                }
                if set.validators.len() >= MAX_VALIDATORS {
                    return Err(fail(
                        codes::TOO_MANY_VALIDATORS,
                        format!("the set has {MAX_VALIDATORS} validators already"),
                    ));
                }
                set.validators.push(v.clone());
            }
            Change::RemoveValidator { name } => {
                let i = position(&set, name)?;
                if set.validators.len() == 1 {
                    return Err(fail(
                        codes::LAST_VALIDATOR,
                        format!("{name:?} is the only validator"),
                    ));
                }
                set.validators.remove(i);
            }
            Change::SetValidatorPower { name, power } => {
                let i = position(&set, name)?;
                set.validators[i].power = *power;
            }
            Change::RotateConsensusKey {
                name,
                consensus_key,
            } => {
                let i = position(&set, name)?;
                if set
                    .validators
                    .iter()
                    .any(|v| v.consensus_key == *consensus_key)
                {
                    return Err(fail(
                        codes::VALIDATOR_EXISTS,
                        format!("consensus key {consensus_key} is in use"),
                    ));
                }
                set.validators[i].consensus_key = *consensus_key;
            }
            Change::RotateNetworkKey { name, peer_id } => {
                let i = position(&set, name)?;
                if set.validators.iter().any(|v| v.peer_id == *peer_id) {
                    return Err(fail(
                        codes::VALIDATOR_EXISTS,
                        format!("peer id {peer_id} is in use"),
                    ));
                }
                set.validators[i].peer_id = peer_id.clone();
            }
            Change::AddOrganization { .. } | Change::RemoveOrganization { .. } => {}
        }
        let total = set
            .validators
            .iter()
            .try_fold(0u64, |t, v| t.checked_add(v.power))
            .filter(|t| *t <= u64::MAX / 4);
        if total.is_none() {
            return Err(fail(
                codes::POWER_OVERFLOW,
                "the set's total voting power would overflow".into(),
            ));
        }
        Ok(set)
    }

    /// The governance record after an organization change, and the new organization's record.
    fn next_organizations(&self, change: &Change) -> R<(GovernanceRecord, Option<OrgRecord>)> {
        let mut gov = self.governance()?;
        match change {
            Change::AddOrganization { id, name, admins } => {
                if gov.organizations.contains(id)
                    || gov.removed.contains(id)
                    || read_org(self, id)?.is_some()
                {
                    return Err(fail(
                        codes::ORGANIZATION_EXISTS,
                        format!("organization {id:?} exists or existed"),
                    ));
                }
                for admin in admins {
                    if let Some(a) = read_account(self, admin)? {
                        return Err(fail(
                            supply_codes::ACCOUNT_EXISTS,
                            format!("{admin} is already an account of {:?}", a.organization),
                        ));
                    }
                }
                gov.organizations.push(id.clone());
                gov.organizations.sort();
                let rec = OrgRecord {
                    id: id.clone(),
                    name: name.clone(),
                    admins: admins.clone(),
                };
                Ok((gov, Some(rec)))
            }
            Change::RemoveOrganization { id } => {
                let Some(i) = gov.organizations.iter().position(|o| o == id) else {
                    return Err(fail(
                        supply_codes::UNKNOWN_ORGANIZATION,
                        format!("no organization {id:?}"),
                    ));
                };
                if gov.organizations.len() == 1 {
                    return Err(fail(
                        codes::LAST_ORGANIZATION,
                        format!("{id:?} is the only organization"),
                    ));
                }
                gov.organizations.remove(i);
                gov.removed.push(id.clone());
                gov.removed.sort();
                Ok((gov, None))
            }
            _ => Ok((gov, None)),
        }
    }
}

/// Two validators that could not both be in one set.
fn clashes(a: &Validator, b: &Validator) -> bool {
    a.name == b.name || a.consensus_key == b.consensus_key || a.peer_id == b.peer_id
}

fn check_limits(r: Result<(), crate::tx::TxError>) -> R<()> {
    r.map_err(|e| fail(supply_codes::INVALID_PAYLOAD, e.to_string()))
}
