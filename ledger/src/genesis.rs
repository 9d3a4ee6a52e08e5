//! The genesis file: the one document an auditor trusts. It names the chain, its validators
//! (consensus key, libp2p PeerId, voting power), the consortium's organizations with their admin
//! keys, the initial accounts with roles, and the consensus parameters. Its canonical hash
//! identifies the chain. `genesis/example.toml` documents every field.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::encoding::{digest, Canonical};
use crate::hash::Hash;
use crate::tx::MAX_CHAIN_ID_LEN;

pub const MAX_VALIDATORS: usize = 256;
pub const MAX_OBSERVERS: usize = 256;
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_GENESIS_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Names the chain; every transaction carries it.
    pub chain_id: String,
    /// When the chain starts, milliseconds since the Unix epoch (the genesis block's timestamp).
    #[serde(default)]
    pub genesis_time_ms: u64,
    pub consensus: ConsensusParams,
    pub validators: Vec<Validator>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// The rule that approves governance changes ([`crate::governance`]); absent means the
    /// default (two thirds of the organizations). Left out of the canonical encoding when absent,
    /// so a genesis without it keeps the hash it had before governance existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<GovernanceParams>,
    /// Nodes that are no validators but that every validator lets connect: observers, which
    /// follow the chain, serve it and never vote. Left out of the canonical encoding when empty,
    /// so a genesis without observers keeps the hash it had before they existed. With
    /// `governance` before it, both optional, the encoding stays unambiguous for valid values:
    /// a governance rule's numerator is at most 1000, so its third and fourth bytes are zero,
    /// where an observer list's are a name's length and characters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observers: Vec<Observer>,
}

/// How many organizations must approve a governance change: at least
/// `ceil(organizations * approve_numerator / approve_denominator)`, and at least one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceParams {
    pub approve_numerator: u32,
    pub approve_denominator: u32,
}

impl Default for GovernanceParams {
    /// Two thirds of the organizations.
    fn default() -> Self {
        GovernanceParams {
            approve_numerator: 2,
            approve_denominator: 3,
        }
    }
}

impl Canonical for Genesis {
    const DOMAIN: &'static str = "waybill/genesis/v1";
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusParams {
    /// First round timeout; doubles-ish (by `timeout_backoff_percent`) per consecutive failed round.
    pub round_timeout_ms: u64,
    /// Cap on the round timeout.
    pub max_round_timeout_ms: u64,
    /// Growth of the timeout per consecutive failed round, in percent (150 = x1.5).
    pub timeout_backoff_percent: u32,
    /// Most transactions in one block: a leader proposes at most this many, and validators
    /// refuse to vote for a proposal with more.
    pub max_block_txs: u32,
}

impl Default for ConsensusParams {
    fn default() -> Self {
        ConsensusParams {
            round_timeout_ms: 1_000,
            max_round_timeout_ms: 30_000,
            timeout_backoff_percent: 150,
            max_block_txs: 4_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    pub name: String,
    /// ed25519 key that signs votes, timeouts, proposals and ledger certificates.
    pub consensus_key: PublicKey,
    /// libp2p PeerId (base58) of the node's network key; only these peers may connect.
    pub peer_id: String,
    #[serde(default = "one")]
    pub power: u64,
}

fn one() -> u64 {
    1
}

/// A node admitted to the network that does not vote (see [`Genesis::observers`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observer {
    pub name: String,
    /// libp2p PeerId (base58) of the observer's network key.
    pub peer_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Short stable identifier, e.g. `acme-farms`.
    pub id: String,
    pub name: String,
    /// Keys that may add and remove the organization's accounts.
    pub admins: Vec<PublicKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub key: PublicKey,
    /// The organization this account acts for.
    pub organization: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Everything that can be wrong with a genesis file, with the values that are wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenesisError {
    #[error("cannot read genesis file {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("genesis file {path} is {len} bytes, the limit is {max}")]
    TooLarge { path: String, len: u64, max: usize },
    #[error("genesis is not valid TOML: {reason}")]
    Parse { reason: String },
    #[error("chain_id {chain_id:?} must be 1..={max} characters of [A-Za-z0-9._-]")]
    BadChainId { chain_id: String, max: usize },
    #[error("genesis lists no validators")]
    NoValidators,
    #[error("genesis lists {count} validators, the limit is {max}")]
    TooManyValidators { count: usize, max: usize },
    #[error("validator {name:?}: {reason}")]
    BadValidator { name: String, reason: String },
    #[error("observer {name:?}: {reason}")]
    BadObserver { name: String, reason: String },
    #[error("duplicate {what} {value:?} in genesis")]
    Duplicate { what: &'static str, value: String },
    #[error("organization {id:?}: {reason}")]
    BadOrganization { id: String, reason: String },
    #[error("account {key}: {reason}")]
    BadAccount { key: String, reason: String },
    #[error("consensus parameter {name} = {value}: {reason}")]
    BadParam {
        name: &'static str,
        value: u64,
        reason: &'static str,
    },
}

impl Genesis {
    /// Reads and validates a genesis TOML file. A `[ceremony]` section (see [`crate::ceremony`])
    /// is parsed but is not part of the genesis.
    pub fn load(path: &Path) -> Result<Genesis, GenesisError> {
        Genesis::from_toml(&read_limited(path)?)
    }

    /// Parses and validates genesis TOML text.
    pub fn from_toml(text: &str) -> Result<Genesis, GenesisError> {
        let g = crate::ceremony::GenesisFile::parse(text)?.genesis;
        g.validate()?;
        Ok(g)
    }

    /// A chain of only these validators, each of power 1 (named `v0`, `v1`, ...), with the
    /// default consensus parameters and no organizations, accounts, governance or observers:
    /// what checks of votes and certificates need, and no more. Each validator is given as its
    /// consensus key and its network key.
    pub fn of_validators(chain_id: &str, keys: &[(PublicKey, PublicKey)]) -> Genesis {
        Genesis {
            chain_id: chain_id.into(),
            genesis_time_ms: 0,
            consensus: ConsensusParams::default(),
            validators: keys
                .iter()
                .enumerate()
                .map(|(i, (consensus, network))| Validator {
                    name: format!("v{i}"),
                    consensus_key: *consensus,
                    peer_id: peer_id_of(&network.0),
                    power: 1,
                })
                .collect(),
            organizations: vec![],
            accounts: vec![],
            governance: None,
            observers: vec![],
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("genesis always serialises to TOML")
    }

    /// The chain's identity: blake3 over the canonical encoding of the parsed genesis, so
    /// formatting and comments in the file do not change it.
    pub fn hash(&self) -> Hash {
        digest(self)
    }

    /// Total voting power.
    pub fn total_power(&self) -> u64 {
        self.validators.iter().map(|v| v.power).sum()
    }

    /// Voting power needed for a certificate: more than two thirds of the total,
    /// i.e. floor(2 * total / 3) + 1 (3 of 4, 5 of 7, 1 of 1).
    pub fn quorum_power(&self) -> u64 {
        quorum_of(self.total_power())
    }

    pub fn validator_index(&self, key: &PublicKey) -> Option<usize> {
        self.validators.iter().position(|v| &v.consensus_key == key)
    }

    pub fn validate(&self) -> Result<(), GenesisError> {
        let id_ok = is_identifier;
        if !id_ok(&self.chain_id, MAX_CHAIN_ID_LEN) {
            return Err(GenesisError::BadChainId {
                chain_id: self.chain_id.clone(),
                max: MAX_CHAIN_ID_LEN,
            });
        }
        self.validate_params()?;
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        if self.validators.len() > MAX_VALIDATORS {
            return Err(GenesisError::TooManyValidators {
                count: self.validators.len(),
                max: MAX_VALIDATORS,
            });
        }
        let mut names = BTreeSet::new();
        let mut keys = BTreeSet::new();
        let mut peers = BTreeSet::new();
        let mut total: u64 = 0;
        for v in &self.validators {
            let bad = |reason: String| GenesisError::BadValidator {
                name: v.name.clone(),
                reason,
            };
            if !id_ok(&v.name, MAX_NAME_LEN) {
                return Err(bad(format!(
                    "name must be 1..={MAX_NAME_LEN} characters of [A-Za-z0-9._-]"
                )));
            }
            v.consensus_key
                .check_point()
                .map_err(|e| bad(format!("consensus_key: {e}")))?;
            peer_id_public_key(&v.peer_id).map_err(|e| bad(format!("peer_id: {e}")))?;
            if v.power == 0 {
                return Err(bad("power must be at least 1".into()));
            }
            total = total
                .checked_add(v.power)
                .filter(|t| *t <= u64::MAX / 4)
                .ok_or_else(|| bad("total voting power overflows".into()))?;
            dup(&mut names, "validator name", v.name.clone())?;
            dup(&mut keys, "consensus_key", v.consensus_key.to_hex())?;
            dup(&mut peers, "peer_id", v.peer_id.clone())?;
        }
        self.validate_observers(&mut peers)?;
        let mut org_ids = BTreeSet::new();
        for o in &self.organizations {
            let bad = |reason: &str| GenesisError::BadOrganization {
                id: o.id.clone(),
                reason: reason.into(),
            };
            if !id_ok(&o.id, MAX_NAME_LEN) {
                return Err(bad("id must be 1..=64 characters of [A-Za-z0-9._-]"));
            }
            if o.name.is_empty() || o.name.len() > 256 {
                return Err(bad("name must be 1..=256 bytes"));
            }
            if o.admins.is_empty() {
                return Err(bad("an organization needs at least one admin key"));
            }
            let mut admins = BTreeSet::new();
            for a in &o.admins {
                a.check_point().map_err(|e| GenesisError::BadOrganization {
                    id: o.id.clone(),
                    reason: format!("admin key: {e}"),
                })?;
                dup(&mut admins, "admin key", a.to_hex())?;
            }
            dup(&mut org_ids, "organization id", o.id.clone())?;
        }
        if let Some(g) = &self.governance {
            if g.approve_denominator == 0
                || g.approve_denominator > 1000
                || g.approve_numerator == 0
                || g.approve_numerator > g.approve_denominator
            {
                return Err(GenesisError::BadParam {
                    name: "governance.approve_numerator",
                    value: g.approve_numerator.into(),
                    reason: "must be 1..=approve_denominator, and approve_denominator 1..=1000",
                });
            }
        }
        let mut account_keys = BTreeSet::new();
        for a in &self.accounts {
            if !org_ids.contains(&a.organization) {
                return Err(GenesisError::BadAccount {
                    key: a.key.to_hex(),
                    reason: format!("unknown organization {:?}", a.organization),
                });
            }
            a.key.check_point().map_err(|e| GenesisError::BadAccount {
                key: a.key.to_hex(),
                reason: e.to_string(),
            })?;
            if a.roles.len() > 16 || a.roles.iter().any(|r| !id_ok(r, MAX_NAME_LEN)) {
                return Err(GenesisError::BadAccount {
                    key: a.key.to_hex(),
                    reason: "at most 16 roles, each 1..=64 characters of [A-Za-z0-9._-]".into(),
                });
            }
            dup(&mut account_keys, "account key", a.key.to_hex())?;
        }
        Ok(())
    }

    /// Observers: well-formed names and PeerIds, none twice, none a validator's PeerId
    /// (`peers` holds the validators').
    fn validate_observers(&self, peers: &mut BTreeSet<String>) -> Result<(), GenesisError> {
        if self.observers.len() > MAX_OBSERVERS {
            return Err(GenesisError::BadObserver {
                name: format!("({} observers)", self.observers.len()),
                reason: format!("at most {MAX_OBSERVERS} observers"),
            });
        }
        let mut names = BTreeSet::new();
        for o in &self.observers {
            let bad = |reason: String| GenesisError::BadObserver {
                name: o.name.clone(),
                reason,
            };
            if !is_identifier(&o.name, MAX_NAME_LEN) {
                return Err(bad(format!(
                    "name must be 1..={MAX_NAME_LEN} characters of [A-Za-z0-9._-]"
                )));
            }
            peer_id_public_key(&o.peer_id).map_err(|e| bad(format!("peer_id: {e}")))?;
            dup(&mut names, "observer name", o.name.clone())?;
            dup(peers, "peer_id", o.peer_id.clone())?;
        }
        Ok(())
    }

    fn validate_params(&self) -> Result<(), GenesisError> {
        let p = &self.consensus;
        let bad = |name, value: u64, reason| GenesisError::BadParam {
            name,
            value,
            reason,
        };
        if !(10..=600_000).contains(&p.round_timeout_ms) {
            return Err(bad(
                "round_timeout_ms",
                p.round_timeout_ms,
                "must be 10..=600000",
            ));
        }
        if p.max_round_timeout_ms < p.round_timeout_ms || p.max_round_timeout_ms > 3_600_000 {
            return Err(bad(
                "max_round_timeout_ms",
                p.max_round_timeout_ms,
                "must be >= round_timeout_ms and <= 3600000",
            ));
        }
        if !(100..=1000).contains(&p.timeout_backoff_percent) {
            return Err(bad(
                "timeout_backoff_percent",
                p.timeout_backoff_percent.into(),
                "must be 100..=1000",
            ));
        }
        if p.max_block_txs == 0 || p.max_block_txs as usize > crate::block::MAX_BLOCK_TXS {
            return Err(bad(
                "max_block_txs",
                p.max_block_txs.into(),
                "must be 1..=10000",
            ));
        }
        Ok(())
    }
}

/// A chain id, validator name, organization id or role: 1..=`max` characters of
/// `[A-Za-z0-9._-]`.
pub fn is_identifier(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A genesis file's text, refusing files over [`MAX_GENESIS_BYTES`].
pub(crate) fn read_limited(path: &Path) -> Result<String, GenesisError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |e: std::io::Error| GenesisError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Read at most one byte past the limit, so a file that grows while it is read is still
    // refused rather than read whole.
    let mut text = String::new();
    file.take(MAX_GENESIS_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() > MAX_GENESIS_BYTES {
        let len = std::fs::metadata(path).map_or(text.len() as u64, |m| m.len());
        return Err(GenesisError::TooLarge {
            path: shown,
            len,
            max: MAX_GENESIS_BYTES,
        });
    }
    Ok(text)
}

/// floor(2 * total / 3) + 1.
pub fn quorum_of(total: u64) -> u64 {
    total * 2 / 3 + 1
}

fn dup(seen: &mut BTreeSet<String>, what: &'static str, value: String) -> Result<(), GenesisError> {
    if seen.insert(value.clone()) {
        Ok(())
    } else {
        Err(GenesisError::Duplicate { what, value })
    }
}

/// The ed25519 public key inside a libp2p PeerId of an ed25519 key: base58btc of the identity
/// multihash (0x00, length 0x24) of the protobuf PublicKey {KeyType=Ed25519 (0x08 0x01),
/// Data (0x12 0x20) || 32 bytes}.
pub fn peer_id_public_key(peer_id: &str) -> Result<[u8; 32], String> {
    let bytes = bs58::decode(peer_id)
        .into_vec()
        .map_err(|e| format!("{peer_id:?} is not base58: {e}"))?;
    const PREFIX: [u8; 6] = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    if bytes.len() != 38 || bytes[..6] != PREFIX {
        return Err(format!("{peer_id:?} is not the PeerId of an ed25519 key"));
    }
    Ok(bytes[6..].try_into().expect("length checked"))
}

/// The libp2p PeerId (base58) of an ed25519 network public key.
pub fn peer_id_of(network_key: &[u8; 32]) -> String {
    let mut bytes = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    bytes.extend_from_slice(network_key);
    bs58::encode(bytes).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;

    pub(crate) fn sample(n: u8) -> Genesis {
        Genesis {
            chain_id: "waybill-test".into(),
            genesis_time_ms: 0,
            consensus: ConsensusParams::default(),
            validators: (0..n)
                .map(|i| Validator {
                    name: format!("v{i}"),
                    consensus_key: KeyPair::from_secret([i + 1; 32]).public(),
                    peer_id: peer_id_of(&KeyPair::from_secret([i + 100; 32]).public().0),
                    power: 1,
                })
                .collect(),
            organizations: vec![Organization {
                id: "acme".into(),
                name: "Acme".into(),
                admins: vec![KeyPair::from_secret([200; 32]).public()],
            }],
            accounts: vec![Account {
                key: KeyPair::from_secret([201; 32]).public(),
                organization: "acme".into(),
                roles: vec!["operator".into()],
            }],
            governance: None,
            observers: vec![],
        }
    }

    #[test]
    fn round_trips_through_toml_with_stable_hash() {
        let g = sample(4);
        g.validate().unwrap();
        let back = Genesis::from_toml(&g.to_toml()).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.hash(), g.hash());
        assert_eq!(g.quorum_power(), 3);
        assert_eq!(quorum_of(7), 5);
        assert_eq!(quorum_of(1), 1);
    }

    #[test]
    fn rejects_bad_genesis_with_reasons() {
        let mut g = sample(4);
        g.validators[2].consensus_key = g.validators[0].consensus_key;
        assert!(matches!(
            g.validate(),
            Err(GenesisError::Duplicate {
                what: "consensus_key",
                ..
            })
        ));

        let mut g = sample(4);
        g.validators.clear();
        assert_eq!(g.validate(), Err(GenesisError::NoValidators));

        let mut g = sample(4);
        g.validators[1].peer_id = "not-a-peer".into();
        assert!(matches!(
            g.validate(),
            Err(GenesisError::BadValidator { .. })
        ));

        let mut g = sample(4);
        g.accounts[0].organization = "nobody".into();
        assert!(matches!(g.validate(), Err(GenesisError::BadAccount { .. })));

        let mut g = sample(4);
        g.consensus.round_timeout_ms = 0;
        assert!(matches!(g.validate(), Err(GenesisError::BadParam { .. })));

        assert!(matches!(
            Genesis::from_toml("chain_id = 5"),
            Err(GenesisError::Parse { .. })
        ));
        let text = sample(1)
            .to_toml()
            .replace("consensus_key = \"", "consensus_key = \"zz");
        assert!(matches!(
            Genesis::from_toml(&text),
            Err(GenesisError::Parse { .. })
        ));
    }

    #[test]
    fn keys_that_are_not_curve_points_are_refused() {
        // About half of all 32-byte strings decode to no point; the first such [b; 32] will do.
        let not_a_point = (0..=u8::MAX)
            .map(|b| PublicKey([b; 32]))
            .find(|k| k.check_point().is_err())
            .expect("some [b; 32] is not a curve point");

        let mut g = sample(4);
        g.validators[1].consensus_key = not_a_point;
        assert!(
            matches!(g.validate(), Err(GenesisError::BadValidator { reason, .. })
            if reason.contains("not a valid ed25519 point"))
        );

        let mut g = sample(4);
        g.organizations[0].admins.push(not_a_point);
        assert!(
            matches!(g.validate(), Err(GenesisError::BadOrganization { reason, .. })
            if reason.contains("not a valid ed25519 point"))
        );

        let mut g = sample(4);
        g.accounts[0].key = not_a_point;
        assert!(
            matches!(g.validate(), Err(GenesisError::BadAccount { reason, .. })
            if reason.contains("not a valid ed25519 point"))
        );
    }

    /// The genesis as it was before observers: its canonical encoding, field by field.
    #[derive(Serialize)]
    struct BeforeObservers<'a> {
        chain_id: &'a str,
        genesis_time_ms: u64,
        consensus: &'a ConsensusParams,
        validators: &'a [Validator],
        organizations: &'a [Organization],
        accounts: &'a [Account],
    }

    impl Canonical for BeforeObservers<'_> {
        const DOMAIN: &'static str = "waybill/genesis/v1";
    }

    #[test]
    fn observers_change_the_hash_only_when_there_are_some() {
        let g = sample(4);
        let before = BeforeObservers {
            chain_id: &g.chain_id,
            genesis_time_ms: g.genesis_time_ms,
            consensus: &g.consensus,
            validators: &g.validators,
            organizations: &g.organizations,
            accounts: &g.accounts,
        };
        assert_eq!(
            g.hash(),
            digest(&before),
            "a chain without observers keeps its hash"
        );
        assert!(!g.to_toml().contains("observers"));

        let mut with = g.clone();
        with.observers.push(Observer {
            name: "regulator".into(),
            peer_id: peer_id_of(&KeyPair::from_secret([150; 32]).public().0),
        });
        with.validate().unwrap();
        assert_ne!(with.hash(), g.hash(), "the members sign who may observe");
        let back = Genesis::from_toml(&with.to_toml()).unwrap();
        assert_eq!(back, with);
        assert_eq!(back.hash(), with.hash());
    }

    #[test]
    fn rejects_bad_observers_with_reasons() {
        let observer = |name: &str, peer_id: String| Observer {
            name: name.into(),
            peer_id,
        };
        let mut g = sample(4);
        g.observers
            .push(observer("auditor", g.validators[2].peer_id.clone()));
        assert!(matches!(
            g.validate(),
            Err(GenesisError::Duplicate {
                what: "peer_id",
                ..
            })
        ));

        let mut g = sample(4);
        g.observers.push(observer("auditor", "12D3KooWnope".into()));
        assert!(matches!(
            g.validate(),
            Err(GenesisError::BadObserver { reason, .. }) if reason.starts_with("peer_id")
        ));

        let mut g = sample(4);
        let p = peer_id_of(&KeyPair::from_secret([150; 32]).public().0);
        let q = peer_id_of(&KeyPair::from_secret([151; 32]).public().0);
        g.observers.push(observer("auditor", p));
        g.observers.push(observer("auditor", q));
        assert!(matches!(
            g.validate(),
            Err(GenesisError::Duplicate {
                what: "observer name",
                ..
            })
        ));

        let mut g = sample(4);
        g.observers.push(observer("not ok", peer_id_of(&[9; 32])));
        assert!(matches!(
            g.validate(),
            Err(GenesisError::BadObserver { .. })
        ));
    }

    #[test]
    fn peer_id_round_trip() {
        let k = KeyPair::from_secret([7; 32]).public();
        let p = peer_id_of(&k.0);
        assert!(p.starts_with("12D3KooW"), "{p}");
        assert_eq!(peer_id_public_key(&p).unwrap(), k.0);
    }
}
