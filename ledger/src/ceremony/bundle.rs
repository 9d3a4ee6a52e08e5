//! A member bundle: one consortium member's public identity, signed by each of its keys.

use serde::{Deserialize, Serialize};

use super::{MAX_ADDRESSES, MAX_ADDRESS_LEN, MAX_ORG_NAME_LEN};
use crate::crypto::{KeyPair, PublicKey, Signature};
use crate::encoding::Canonical;
use crate::genesis::{is_identifier, peer_id_of, peer_id_public_key, MAX_NAME_LEN};

/// What a member's keys sign: everything the genesis will say about the member, and where its
/// validator can be reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The validator's name in the genesis (and in logs and status).
    pub name: String,
    /// The organization's id in the genesis.
    pub organization: String,
    /// The organization's display name.
    pub organization_name: String,
    pub consensus_key: PublicKey,
    /// PeerId of the validator's network key.
    pub peer_id: String,
    /// Where other validators dial this one: multiaddrs without the `/p2p/<PeerId>` suffix.
    pub addresses: Vec<String>,
    /// The organization's admin account (may add and remove its accounts).
    pub admin_key: PublicKey,
    /// The organization's first operator account (records events).
    pub operator_key: PublicKey,
}

impl Canonical for Member {
    const DOMAIN: &'static str = "waybill/member-bundle/v1";
}

/// One signature over the [`Member`] by each key it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PossessionProofs {
    pub consensus: Signature,
    /// By the ed25519 key inside `peer_id`.
    pub network: Signature,
    pub admin: Signature,
    pub operator: Signature,
}

/// A member bundle as written to a file (`member.toml`) and kept in the genesis file's ceremony
/// record: the member's fields with their possession proofs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBundle {
    pub name: String,
    pub organization: String,
    pub organization_name: String,
    pub consensus_key: PublicKey,
    pub peer_id: String,
    #[serde(default)]
    pub addresses: Vec<String>,
    pub admin_key: PublicKey,
    pub operator_key: PublicKey,
    pub proofs: PossessionProofs,
}

/// A member's four key pairs. Only ever held by the member itself.
pub struct MemberKeys {
    pub consensus: KeyPair,
    pub network: KeyPair,
    pub admin: KeyPair,
    pub operator: KeyPair,
}

/// What is wrong with a bundle, naming the member and the field or key.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("member {member:?}: {field} {value:?}: {reason}")]
    BadField {
        member: String,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("member {member:?}: the {key} key's possession proof does not verify (a mistyped key, or a key the member does not hold)")]
    BadProof { member: String, key: &'static str },
    #[error("member {member:?}: the {first} key and the {second} key are the same key; each role needs its own")]
    SharedKey {
        member: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("bundle is not valid TOML: {reason}")]
    Parse { reason: String },
}

impl Member {
    /// Checks every field's shape (not the signatures).
    pub fn check_fields(&self) -> Result<(), BundleError> {
        let bad = |field: &'static str, value: &str, reason: String| BundleError::BadField {
            member: self.name.clone(),
            field,
            value: value.chars().take(300).collect(),
            reason,
        };
        let identifier = format!("must be 1..={MAX_NAME_LEN} characters of [A-Za-z0-9._-]");
        if !is_identifier(&self.name, MAX_NAME_LEN) {
            return Err(bad("name", &self.name, identifier));
        }
        if !is_identifier(&self.organization, MAX_NAME_LEN) {
            return Err(bad("organization", &self.organization, identifier));
        }
        if self.organization_name.is_empty()
            || self.organization_name.len() > MAX_ORG_NAME_LEN
            || self.organization_name.chars().any(char::is_control)
        {
            return Err(bad(
                "organization_name",
                &self.organization_name,
                format!("must be 1..={MAX_ORG_NAME_LEN} bytes with no control characters"),
            ));
        }
        peer_id_public_key(&self.peer_id).map_err(|e| bad("peer_id", &self.peer_id, e))?;
        if self.addresses.len() > MAX_ADDRESSES {
            return Err(bad(
                "addresses",
                &self.addresses.join(" "),
                format!("at most {MAX_ADDRESSES} addresses"),
            ));
        }
        for a in &self.addresses {
            check_address(a).map_err(|reason| bad("addresses", a, reason))?;
        }
        let keys = [
            ("consensus", self.consensus_key),
            ("network", PublicKey(self.network_key_bytes())),
            ("admin", self.admin_key),
            ("operator", self.operator_key),
        ];
        for (role, key) in keys {
            key.check_point()
                .map_err(|e| bad(role_field(role), &key.to_hex(), e.to_string()))?;
        }
        for (i, (first, a)) in keys.iter().enumerate() {
            if let Some((second, _)) = keys[i + 1..].iter().find(|(_, b)| b == a) {
                return Err(BundleError::SharedKey {
                    member: self.name.clone(),
                    first,
                    second,
                });
            }
        }
        Ok(())
    }

    /// The network public key inside `peer_id` (zeros if `peer_id` is not an ed25519 PeerId;
    /// [`Member::check_fields`] refuses that first).
    fn network_key_bytes(&self) -> [u8; 32] {
        peer_id_public_key(&self.peer_id).unwrap_or([0; 32])
    }
}

fn role_field(role: &'static str) -> &'static str {
    match role {
        "consensus" => "consensus_key",
        "network" => "peer_id",
        "admin" => "admin_key",
        _ => "operator_key",
    }
}

/// A network address as a member advertises it: a multiaddr in text form. Only its shape is
/// checked here (the ledger does not parse multiaddrs); the node parses it.
fn check_address(a: &str) -> Result<(), String> {
    if a.is_empty() || a.len() > MAX_ADDRESS_LEN {
        return Err(format!("must be 1..={MAX_ADDRESS_LEN} bytes"));
    }
    if !a.starts_with('/') || !a.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be a multiaddr such as /ip4/192.0.2.10/tcp/26600 or /dns/node.example.org/tcp/26600".into());
    }
    if a.contains("/p2p/") {
        return Err("must not name a PeerId (/p2p/...): the bundle's peer_id is added".into());
    }
    Ok(())
}

impl MemberBundle {
    /// Signs `member` with each of `keys`, which must be the keys it names.
    pub fn sign(member: Member, keys: &MemberKeys) -> Result<MemberBundle, BundleError> {
        let mismatch = |key: &'static str| BundleError::BadProof {
            member: member.name.clone(),
            key,
        };
        if keys.consensus.public() != member.consensus_key {
            return Err(mismatch("consensus"));
        }
        if peer_id_of(&keys.network.public().0) != member.peer_id {
            return Err(mismatch("network"));
        }
        if keys.admin.public() != member.admin_key {
            return Err(mismatch("admin"));
        }
        if keys.operator.public() != member.operator_key {
            return Err(mismatch("operator"));
        }
        member.check_fields()?;
        let proofs = PossessionProofs {
            consensus: keys.consensus.sign(&member),
            network: keys.network.sign(&member),
            admin: keys.admin.sign(&member),
            operator: keys.operator.sign(&member),
        };
        Ok(MemberBundle::from_parts(member, proofs))
    }

    pub fn from_parts(member: Member, proofs: PossessionProofs) -> MemberBundle {
        let Member {
            name,
            organization,
            organization_name,
            consensus_key,
            peer_id,
            addresses,
            admin_key,
            operator_key,
        } = member;
        MemberBundle {
            name,
            organization,
            organization_name,
            consensus_key,
            peer_id,
            addresses,
            admin_key,
            operator_key,
            proofs,
        }
    }

    /// The signed part.
    pub fn member(&self) -> Member {
        Member {
            name: self.name.clone(),
            organization: self.organization.clone(),
            organization_name: self.organization_name.clone(),
            consensus_key: self.consensus_key,
            peer_id: self.peer_id.clone(),
            addresses: self.addresses.clone(),
            admin_key: self.admin_key,
            operator_key: self.operator_key,
        }
    }

    /// Checks the fields and all four possession proofs.
    pub fn verify(&self) -> Result<(), BundleError> {
        let member = self.member();
        member.check_fields()?;
        let network = PublicKey(member.network_key_bytes());
        let proofs = [
            ("consensus", &self.consensus_key, &self.proofs.consensus),
            ("network", &network, &self.proofs.network),
            ("admin", &self.admin_key, &self.proofs.admin),
            ("operator", &self.operator_key, &self.proofs.operator),
        ];
        for (key, public, signature) in proofs {
            public
                .verify(&member, signature)
                .map_err(|_| BundleError::BadProof {
                    member: self.name.clone(),
                    key,
                })?;
        }
        Ok(())
    }

    /// Parses a bundle file's text and verifies it.
    pub fn from_toml(text: &str) -> Result<MemberBundle, BundleError> {
        let bundle: MemberBundle = toml::from_str(text).map_err(|e| BundleError::Parse {
            reason: e.to_string(),
        })?;
        bundle.verify()?;
        Ok(bundle)
    }

    /// The bundle file's text, with a comment saying what it is.
    pub fn to_toml(&self) -> String {
        format!(
            "# Waybill member bundle of {:?} ({}). Public: send it to the genesis coordinator.\n\
             # Every key it names signed it (`proofs`), proving the member holds them.\n{}",
            self.name,
            self.organization_name,
            toml::to_string_pretty(self).expect("a bundle serialises to TOML")
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn keys(seed: u8) -> MemberKeys {
        MemberKeys {
            consensus: KeyPair::from_secret([seed; 32]),
            network: KeyPair::from_secret([seed.wrapping_add(60); 32]),
            admin: KeyPair::from_secret([seed.wrapping_add(120); 32]),
            operator: KeyPair::from_secret([seed.wrapping_add(180); 32]),
        }
    }

    pub(crate) fn member(name: &str, keys: &MemberKeys) -> Member {
        Member {
            name: name.into(),
            organization: format!("{name}-org"),
            organization_name: format!("{name} Ltd."),
            consensus_key: keys.consensus.public(),
            peer_id: peer_id_of(&keys.network.public().0),
            addresses: vec!["/ip4/127.0.0.1/tcp/26600".into()],
            admin_key: keys.admin.public(),
            operator_key: keys.operator.public(),
        }
    }

    pub(crate) fn bundle(name: &str, seed: u8) -> MemberBundle {
        let k = keys(seed);
        MemberBundle::sign(member(name, &k), &k).unwrap()
    }

    #[test]
    fn a_signed_bundle_round_trips_and_verifies() {
        let b = bundle("farm", 1);
        b.verify().unwrap();
        let back = MemberBundle::from_toml(&b.to_toml()).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn a_changed_field_breaks_the_proofs() {
        // A typo in any key, or somebody else's key, fails: each of them signed the original.
        let b = bundle("farm", 1);
        let other = keys(2);
        let mut typo = b.clone();
        typo.peer_id = peer_id_of(&other.network.public().0);
        assert_eq!(
            typo.verify(),
            Err(BundleError::BadProof {
                member: "farm".into(),
                key: "consensus"
            })
        );
        let mut swapped = b.clone();
        swapped.operator_key = other.operator.public();
        assert!(matches!(
            swapped.verify(),
            Err(BundleError::BadProof { .. })
        ));
        let mut moved = b.clone();
        moved.addresses = vec!["/ip4/10.0.0.1/tcp/1".into()];
        assert!(matches!(moved.verify(), Err(BundleError::BadProof { .. })));
        // Re-signed by the claimed keys but one proof taken from another bundle.
        let mut forged = b.clone();
        forged.proofs.network = bundle("farm", 2).proofs.network;
        assert_eq!(
            forged.verify(),
            Err(BundleError::BadProof {
                member: "farm".into(),
                key: "network"
            })
        );
    }

    #[test]
    fn signing_with_keys_the_member_does_not_name_is_refused() {
        let k = keys(1);
        let m = member("farm", &keys(2));
        assert!(matches!(
            MemberBundle::sign(m, &k),
            Err(BundleError::BadProof {
                key: "consensus",
                ..
            })
        ));
    }

    #[test]
    fn bad_fields_are_named() {
        let k = keys(1);
        type Change = Box<dyn Fn(&mut Member)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|m| m.name = "has space".into()), "name"),
            (Box::new(|m| m.organization = String::new()), "organization"),
            (
                Box::new(|m| m.organization_name = "a\nb".into()),
                "organization_name",
            ),
            (
                Box::new(|m| m.addresses = vec!["10.0.0.1:26600".into()]),
                "addresses",
            ),
            (
                Box::new(|m| m.addresses = vec!["/ip4/1.2.3.4/tcp/1/p2p/12D3KooW".into()]),
                "addresses",
            ),
            (
                Box::new(|m| m.addresses = vec!["/ip4/1.2.3.4/tcp/1".into(); 9]),
                "addresses",
            ),
        ];
        for (change, field) in cases {
            let mut m = member("farm", &k);
            change(&mut m);
            match MemberBundle::sign(m, &k) {
                Err(BundleError::BadField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let same = MemberKeys {
            operator: KeyPair::from_secret([1; 32]),
            ..keys(1)
        };
        assert!(matches!(
            MemberBundle::sign(member("farm", &same), &same),
            Err(BundleError::SharedKey {
                first: "consensus",
                second: "operator",
                ..
            })
        ));
    }

    #[test]
    fn unknown_fields_and_garbage_are_parse_errors() {
        let text = bundle("farm", 1).to_toml();
        assert!(matches!(
            MemberBundle::from_toml(&format!("bogus = 1\n{text}")),
            Err(BundleError::Parse { .. })
        ));
        assert!(matches!(
            MemberBundle::from_toml("\u{0}\u{1}"),
            Err(BundleError::Parse { .. })
        ));
    }
}
