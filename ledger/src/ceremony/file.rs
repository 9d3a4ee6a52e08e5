//! The genesis file on disk: the genesis itself, then an optional `[ceremony]` section with the
//! members' bundles and signatures. The ceremony section is not part of the genesis hash: it is
//! a record of how the genesis came about, checked by [`super::check`].

use serde::{Deserialize, Serialize};

use super::{MemberBundle, MemberSignature};
use crate::genesis::{
    Account, ConsensusParams, Genesis, GenesisError, GovernanceParams, Observer, Organization,
    Validator,
};

/// The bundles the genesis was assembled from and the members' signatures over its hash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ceremony {
    #[serde(default)]
    pub members: Vec<MemberBundle>,
    #[serde(default)]
    pub signatures: Vec<MemberSignature>,
}

/// A parsed genesis file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisFile {
    pub genesis: Genesis,
    /// `None` for a genesis written without a ceremony (by hand, or by older tools).
    pub ceremony: Option<Ceremony>,
}

/// The file's text as parsed: [`Genesis`]'s fields plus `ceremony`. Spelled out rather than
/// flattened so unknown fields stay errors and parse errors keep their line numbers; the
/// conversion below names every field of [`Genesis`], so a new one cannot be forgotten here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    chain_id: String,
    #[serde(default)]
    genesis_time_ms: u64,
    consensus: ConsensusParams,
    validators: Vec<Validator>,
    #[serde(default)]
    organizations: Vec<Organization>,
    #[serde(default)]
    accounts: Vec<Account>,
    #[serde(default)]
    governance: Option<GovernanceParams>,
    #[serde(default)]
    observers: Vec<Observer>,
    #[serde(default)]
    ceremony: Option<Ceremony>,
}

#[derive(Serialize)]
struct CeremonySection<'a> {
    ceremony: &'a Ceremony,
}

impl GenesisFile {
    /// Parses the text without checking the genesis: a genesis being assembled may have no
    /// validators yet. [`Genesis::validate`] and [`super::check`] are the checks.
    pub fn parse(text: &str) -> Result<GenesisFile, GenesisError> {
        let t: FileText = toml::from_str(text).map_err(|e| GenesisError::Parse {
            reason: e.to_string(),
        })?;
        let genesis = Genesis {
            chain_id: t.chain_id,
            genesis_time_ms: t.genesis_time_ms,
            consensus: t.consensus,
            validators: t.validators,
            organizations: t.organizations,
            accounts: t.accounts,
            governance: t.governance,
            observers: t.observers,
        };
        Ok(GenesisFile {
            genesis,
            ceremony: t.ceremony,
        })
    }

    /// Reads and parses a genesis file (size-limited), without checking it.
    pub fn read(path: &std::path::Path) -> Result<GenesisFile, GenesisError> {
        GenesisFile::parse(&crate::genesis::read_limited(path)?)
    }

    /// Drops the signatures over another hash than the genesis's current one (it changed since
    /// they were made) and returns them.
    pub fn drop_stale_signatures(&mut self) -> Vec<MemberSignature> {
        let hash = self.genesis.hash();
        let Some(c) = self.ceremony.as_mut() else {
            return Vec::new();
        };
        let (kept, stale) = std::mem::take(&mut c.signatures)
            .into_iter()
            .partition(|s| s.genesis_hash == hash);
        c.signatures = kept;
        stale
    }

    /// The file's text: a header naming the chain and its hash, the genesis, then the ceremony
    /// record.
    pub fn to_toml(&self) -> String {
        let g = &self.genesis;
        let mut out = format!(
            "# Genesis of chain {:?}. Its hash, which identifies the chain and which every member\n\
             # signs, covers everything above the [ceremony] section:\n# {}\n\n{}",
            g.chain_id,
            g.hash(),
            g.to_toml()
        );
        if let Some(c) = &self.ceremony {
            out.push_str(
                "\n# The ceremony record, NOT part of the genesis hash: the member bundles this genesis\n\
                 # was assembled from (each signed by the keys it names) and the members' signatures\n\
                 # over the hash above. `waybill genesis validate` checks them.\n",
            );
            out.push_str(
                &toml::to_string_pretty(&CeremonySection { ceremony: c })
                    .expect("a ceremony record serialises to TOML"),
            );
        }
        out
    }
}
