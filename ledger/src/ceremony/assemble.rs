//! Turning member bundles into a genesis: each bundle becomes a validator, an organization with
//! its admin key, and the organization's admin and operator accounts.

use super::{BundleError, GenesisFile, MemberBundle, MemberSignature};
use crate::genesis::{Account, Organization, Validator, MAX_VALIDATORS};
use crate::supply::roles;

/// Why a bundle could not be added.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssembleError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("member {member:?}: its {what} {value} is already in the genesis{owner}")]
    Conflict {
        member: String,
        what: &'static str,
        value: String,
        /// ` (member "x")` when another member owns it.
        owner: String,
    },
    #[error("the genesis already has {max} validators, the limit")]
    Full { max: usize },
}

/// What [`add_member`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    /// A new member: the genesis (and so its hash) changed.
    New,
    /// A newer bundle of a member already in the genesis with the same keys (new addresses):
    /// the genesis did not change, only the ceremony record.
    Updated,
}

/// Adds a verified bundle to the genesis and its ceremony record. A member already present with
/// exactly the same keys has its bundle replaced (a change of address keeps the genesis hash);
/// any other overlap with what the genesis holds is refused. Signatures over an older genesis
/// hash are dropped and returned: the members must sign again.
pub fn add_member(
    file: &mut GenesisFile,
    bundle: MemberBundle,
) -> Result<(Added, Vec<MemberSignature>), AssembleError> {
    bundle.verify()?;
    let ceremony = file.ceremony.get_or_insert_with(Default::default);
    if let Some(old) = ceremony.members.iter_mut().find(|b| b.name == bundle.name) {
        let same_keys = old.consensus_key == bundle.consensus_key
            && old.peer_id == bundle.peer_id
            && old.admin_key == bundle.admin_key
            && old.operator_key == bundle.operator_key
            && old.organization == bundle.organization
            && old.organization_name == bundle.organization_name;
        if same_keys {
            *old = bundle;
            return Ok((Added::Updated, Vec::new()));
        }
    }
    let g = &file.genesis;
    if g.validators.len() >= MAX_VALIDATORS {
        return Err(AssembleError::Full {
            max: MAX_VALIDATORS,
        });
    }
    let conflict = |what: &'static str, value: String, owner: Option<&str>| {
        Err(AssembleError::Conflict {
            member: bundle.name.clone(),
            what,
            value,
            owner: owner.map_or(String::new(), |o| format!(" (member {o:?})")),
        })
    };
    for v in &g.validators {
        if v.name == bundle.name {
            return conflict("name", format!("{:?}", v.name), Some(&v.name));
        }
        if v.consensus_key == bundle.consensus_key {
            return conflict("consensus key", v.consensus_key.to_hex(), Some(&v.name));
        }
        if v.peer_id == bundle.peer_id {
            return conflict("peer_id", v.peer_id.clone(), Some(&v.name));
        }
    }
    if g.organizations.iter().any(|o| o.id == bundle.organization) {
        return conflict("organization", format!("{:?}", bundle.organization), None);
    }
    for key in [bundle.admin_key, bundle.operator_key] {
        let used = g.accounts.iter().any(|a| a.key == key)
            || g.organizations.iter().any(|o| o.admins.contains(&key));
        if used {
            return conflict("account key", key.to_hex(), None);
        }
    }
    let g = &mut file.genesis;
    g.validators.push(Validator {
        name: bundle.name.clone(),
        consensus_key: bundle.consensus_key,
        peer_id: bundle.peer_id.clone(),
        power: 1,
    });
    g.organizations.push(Organization {
        id: bundle.organization.clone(),
        name: bundle.organization_name.clone(),
        admins: vec![bundle.admin_key],
    });
    g.accounts.push(Account {
        key: bundle.admin_key,
        organization: bundle.organization.clone(),
        roles: vec![roles::ADMIN.into()],
    });
    g.accounts.push(Account {
        key: bundle.operator_key,
        organization: bundle.organization.clone(),
        roles: vec![roles::OPERATOR.into()],
    });
    ceremony.members.push(bundle);
    Ok((Added::New, file.drop_stale_signatures()))
}
