//! Checking a genesis file's ceremony record: for every validator, its bundle (possession proofs,
//! and that the genesis says what the bundle says) and its signature over the genesis hash.

use std::fmt;

use super::{GenesisApproval, GenesisFile, MemberBundle};
use crate::genesis::{Genesis, Validator};
use crate::hash::Hash;
use crate::supply::roles;

/// The state of one part of one member's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Missing,
    Invalid(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ok => f.write_str("ok"),
            Verdict::Missing => f.write_str("MISSING"),
            Verdict::Invalid(why) => write!(f, "INVALID: {why}"),
        }
    }
}

/// One validator's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberCheck {
    pub name: String,
    /// Its bundle: possession proofs verify and the genesis matches it.
    pub bundle: Verdict,
    /// Its signature over the genesis hash.
    pub signature: Verdict,
}

/// The whole ceremony record's check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyCheck {
    pub genesis_hash: Hash,
    /// One per genesis validator, in genesis order.
    pub members: Vec<MemberCheck>,
    /// Entries that belong to no validator, or appear twice.
    pub problems: Vec<String>,
}

impl CeremonyCheck {
    /// Every validator has a valid bundle and a valid signature, and nothing else is wrong.
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
            && self
                .members
                .iter()
                .all(|m| m.bundle == Verdict::Ok && m.signature == Verdict::Ok)
    }

    /// Validators whose signature is missing or not valid for this genesis.
    pub fn unsigned(&self) -> Vec<&str> {
        self.members
            .iter()
            .filter(|m| m.signature != Verdict::Ok)
            .map(|m| m.name.as_str())
            .collect()
    }

    /// Everything that keeps the record from being complete, one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in &self.members {
            if m.bundle != Verdict::Ok {
                out.push(format!("{}: bundle {}", m.name, m.bundle));
            }
            if m.signature != Verdict::Ok {
                out.push(format!("{}: signature {}", m.name, m.signature));
            }
        }
        out.extend(self.problems.iter().cloned());
        out
    }
}

/// Checks the ceremony record of `file`; `None` when the file has none. Does not validate the
/// genesis itself ([`Genesis::validate`]).
pub fn check(file: &GenesisFile) -> Option<CeremonyCheck> {
    let ceremony = file.ceremony.as_ref()?;
    let g = &file.genesis;
    let genesis_hash = g.hash();
    let mut problems = Vec::new();
    for (i, b) in ceremony.members.iter().enumerate() {
        if !g.validators.iter().any(|v| v.name == b.name) {
            problems.push(format!(
                "bundle of {:?} names no validator of the genesis",
                b.name
            ));
        }
        if ceremony.members[..i].iter().any(|o| o.name == b.name) {
            problems.push(format!("two bundles of {:?}", b.name));
        }
    }
    for s in &ceremony.signatures {
        if !g.validators.iter().any(|v| v.name == s.member) {
            problems.push(format!(
                "signature of {:?}, which is no validator of the genesis",
                s.member
            ));
        }
    }
    let members = g
        .validators
        .iter()
        .map(|v| MemberCheck {
            name: v.name.clone(),
            bundle: match ceremony.members.iter().find(|b| b.name == v.name) {
                None => Verdict::Missing,
                Some(b) => bundle_verdict(g, v, b),
            },
            signature: signature_verdict(file, v, genesis_hash),
        })
        .collect();
    Some(CeremonyCheck {
        genesis_hash,
        members,
        problems,
    })
}

fn bundle_verdict(g: &Genesis, v: &Validator, b: &MemberBundle) -> Verdict {
    if let Err(e) = b.verify() {
        return Verdict::Invalid(e.to_string());
    }
    let differs = |what: &str, genesis: &dyn fmt::Display, bundle: &dyn fmt::Display| {
        Verdict::Invalid(format!(
            "the genesis lists {what} {genesis}, the bundle {bundle}"
        ))
    };
    if v.consensus_key != b.consensus_key {
        return differs("consensus key", &v.consensus_key, &b.consensus_key);
    }
    if v.peer_id != b.peer_id {
        return differs("peer_id", &v.peer_id, &b.peer_id);
    }
    let Some(org) = g.organizations.iter().find(|o| o.id == b.organization) else {
        return Verdict::Invalid(format!(
            "the genesis has no organization {:?}",
            b.organization
        ));
    };
    if org.name != b.organization_name {
        return differs(
            "organization name",
            &format!("{:?}", org.name),
            &format!("{:?}", b.organization_name),
        );
    }
    if !org.admins.contains(&b.admin_key) {
        return Verdict::Invalid(format!(
            "organization {:?} does not list admin key {}",
            org.id, b.admin_key
        ));
    }
    for (key, role) in [
        (b.admin_key, roles::ADMIN),
        (b.operator_key, roles::OPERATOR),
    ] {
        let listed = g
            .accounts
            .iter()
            .any(|a| a.key == key && a.organization == org.id && a.roles.iter().any(|r| r == role));
        if !listed {
            return Verdict::Invalid(format!(
                "the genesis has no {role} account {key} in organization {:?}",
                org.id
            ));
        }
    }
    Verdict::Ok
}

fn signature_verdict(file: &GenesisFile, v: &Validator, hash: Hash) -> Verdict {
    let Some(ceremony) = &file.ceremony else {
        return Verdict::Missing;
    };
    let mine: Vec<_> = ceremony
        .signatures
        .iter()
        .filter(|s| s.member == v.name)
        .collect();
    if mine.is_empty() {
        return Verdict::Missing;
    }
    let current: Vec<_> = mine.iter().filter(|s| s.genesis_hash == hash).collect();
    if current.is_empty() {
        return Verdict::Invalid(format!(
            "signed genesis hash {}, not this one: the genesis changed since; sign again",
            mine[0].genesis_hash
        ));
    }
    let approval = GenesisApproval { genesis_hash: hash };
    if current
        .iter()
        .any(|s| v.consensus_key.verify(&approval, &s.signature).is_ok())
    {
        Verdict::Ok
    } else {
        Verdict::Invalid(format!(
            "does not verify against consensus key {}",
            v.consensus_key
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::bundle::tests::{bundle, keys};
    use super::super::{add_member, Added, AssembleError, GenesisFile, MemberSignature};
    use super::*;
    use crate::genesis::ConsensusParams;

    fn draft() -> GenesisFile {
        GenesisFile {
            genesis: Genesis {
                chain_id: "ceremony-test".into(),
                genesis_time_ms: 1,
                consensus: ConsensusParams::default(),
                validators: vec![],
                organizations: vec![],
                accounts: vec![],
                governance: None,
                observers: vec![],
            },
            ceremony: None,
        }
    }

    const NAMES: [&str; 4] = ["farm", "processor", "shipper", "retailer"];

    fn assembled() -> GenesisFile {
        let mut f = draft();
        for (i, name) in NAMES.iter().enumerate() {
            let (added, stale) = add_member(&mut f, bundle(name, i as u8 + 1)).unwrap();
            assert_eq!((added, stale), (Added::New, vec![]));
        }
        f
    }

    fn sign_all(f: &mut GenesisFile, who: &[usize]) {
        let hash = f.genesis.hash();
        for &i in who {
            let s = MemberSignature::sign(NAMES[i], hash, &keys(i as u8 + 1).consensus);
            f.ceremony.as_mut().unwrap().signatures.push(s);
        }
    }

    #[test]
    fn a_full_ceremony_is_complete_and_survives_the_file() {
        let mut f = assembled();
        f.genesis.validate().unwrap();
        assert_eq!(f.genesis.validators.len(), 4);
        assert_eq!(f.genesis.accounts.len(), 8);
        sign_all(&mut f, &[0, 1, 2, 3]);
        let c = check(&f).unwrap();
        assert!(c.is_complete(), "{:?}", c.failures());
        // Through the file's text: same genesis, same hash, same record.
        let text = f.to_toml();
        let back = GenesisFile::parse(&text).unwrap();
        assert_eq!(back, f);
        assert!(check(&back).unwrap().is_complete());
        // The plain loader reads the same genesis and ignores the record.
        assert_eq!(Genesis::from_toml(&text).unwrap().hash(), f.genesis.hash());
    }

    #[test]
    fn missing_and_stale_signatures_are_named() {
        let mut f = assembled();
        sign_all(&mut f, &[0, 2]);
        let c = check(&f).unwrap();
        assert!(!c.is_complete());
        assert_eq!(c.unsigned(), ["processor", "retailer"]);
        // A change of parameters makes every signature stale.
        f.genesis.consensus.round_timeout_ms += 1;
        let c = check(&f).unwrap();
        assert_eq!(c.unsigned(), NAMES);
        assert!(matches!(&c.members[0].signature, Verdict::Invalid(w) if w.contains("sign again")));
    }

    #[test]
    fn a_signature_by_the_wrong_key_is_invalid() {
        let mut f = assembled();
        let hash = f.genesis.hash();
        let wrong = MemberSignature::sign("farm", hash, &keys(2).consensus);
        f.ceremony.as_mut().unwrap().signatures.push(wrong);
        let c = check(&f).unwrap();
        assert!(
            matches!(&c.members[0].signature, Verdict::Invalid(w) if w.contains("does not verify"))
        );
    }

    #[test]
    fn a_genesis_edited_after_assembly_no_longer_matches_its_bundles() {
        let mut f = assembled();
        // Someone edits a PeerId in the genesis by hand (a typo, or an attack).
        f.genesis.validators[1].peer_id = f.genesis.validators[2].peer_id.clone();
        let c = check(&f).unwrap();
        assert!(matches!(&c.members[1].bundle, Verdict::Invalid(w) if w.contains("peer_id")));
        let mut f = assembled();
        f.genesis
            .accounts
            .retain(|a| !a.roles.contains(&"operator".to_string()));
        let c = check(&f).unwrap();
        assert!(c.members.iter().all(|m| m.bundle != Verdict::Ok));
        let mut f = assembled();
        f.ceremony.as_mut().unwrap().members[3].proofs.admin =
            f.ceremony.as_ref().unwrap().members[0].proofs.admin;
        let c = check(&f).unwrap();
        assert!(matches!(&c.members[3].bundle, Verdict::Invalid(w) if w.contains("admin key")));
    }

    #[test]
    fn adding_refuses_overlaps_and_drops_stale_signatures() {
        let mut f = assembled();
        sign_all(&mut f, &[0, 1, 2, 3]);
        // The same keys under another name.
        let mut again = bundle("farm", 1);
        again.name = "farm2".into();
        assert!(matches!(
            add_member(&mut f, again),
            Err(AssembleError::Bundle(_))
        ));
        let other = bundle("farm", 9);
        assert!(matches!(
            add_member(&mut f, other),
            Err(AssembleError::Conflict { what: "name", .. })
        ));
        // A new address of the same member: the genesis is unchanged and so are its signatures.
        let k = keys(1);
        let mut m = bundle("farm", 1).member();
        m.addresses = vec!["/dns/farm.example.org/tcp/26600".into()];
        let moved = super::super::MemberBundle::sign(m, &k).unwrap();
        let before = f.genesis.hash();
        assert_eq!(add_member(&mut f, moved).unwrap(), (Added::Updated, vec![]));
        assert_eq!(f.genesis.hash(), before);
        assert!(check(&f).unwrap().is_complete());
        // A fifth member changes the hash: the four signatures go.
        let (added, stale) = add_member(&mut f, bundle("auditor", 5)).unwrap();
        assert_eq!(added, Added::New);
        assert_eq!(stale.len(), 4);
        assert_eq!(check(&f).unwrap().unsigned().len(), 5);
    }

    #[test]
    fn records_of_strangers_are_problems() {
        let mut f = assembled();
        sign_all(&mut f, &[0, 1, 2, 3]);
        let c = f.ceremony.as_mut().unwrap();
        c.signatures.push(MemberSignature::sign(
            "mallory",
            f.genesis.hash(),
            &keys(7).consensus,
        ));
        c.members.push(bundle("mallory", 7));
        let c = check(&f).unwrap();
        assert!(!c.is_complete());
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert!(check(&draft()).is_none());
    }

    #[test]
    fn a_draft_without_validators_round_trips() {
        let f = draft();
        let text = f.to_toml();
        assert_eq!(GenesisFile::parse(&text).unwrap(), f);
    }
}
