//! A consortium member's directory: its four key files (mode 0600, never leaving it), its public
//! member bundle, and later its node config. `waybill keys init` makes it, `waybill genesis sign`
//! and `waybill config init` read it.

use std::path::{Path, PathBuf};

use ledger::ceremony::{Member, MemberBundle, MemberKeys};
use ledger::genesis::peer_id_of;
use ledger::keyfile::{read_key_file, write_key_file, KeyFileError};
use ledger::KeyPair;

pub const CONSENSUS_KEY: &str = "consensus.key";
pub const NETWORK_KEY: &str = "network.key";
pub const ADMIN_KEY: &str = "admin.key";
pub const OPERATOR_KEY: &str = "operator.key";
/// The public bundle, for the genesis coordinator.
pub const BUNDLE: &str = "member.toml";
pub const CONFIG: &str = "config.toml";

/// The key files, with the `kind` each is written with.
const KEYS: [(&str, &str); 4] = [
    (CONSENSUS_KEY, "consensus"),
    (NETWORK_KEY, "network"),
    (ADMIN_KEY, "account"),
    (OPERATOR_KEY, "account"),
];

#[derive(Debug, thiserror::Error)]
pub enum MemberDirError {
    #[error(transparent)]
    Key(#[from] KeyFileError),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error(transparent)]
    Bundle(#[from] ledger::ceremony::BundleError),
    #[error("address {address:?}: {reason}")]
    Address { address: String, reason: String },
}

/// What happened to one key file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    pub path: PathBuf,
    /// Made now (else it was there and is kept).
    pub created: bool,
}

/// The member's keys, making each one that `dir` does not hold yet (and `dir` itself).
pub fn ensure_keys(dir: &Path) -> Result<(MemberKeys, Vec<KeyFile>), MemberDirError> {
    std::fs::create_dir_all(dir).map_err(|e| MemberDirError::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    restrict_dir(dir)?;
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    for (name, kind) in KEYS {
        let path = dir.join(name);
        let created = !path.exists();
        if created {
            write_key_file(&path, kind, &KeyPair::generate())?;
        }
        pairs.push(read_key_file(&path)?);
        files.push(KeyFile { path, created });
    }
    let mut pairs = pairs.into_iter();
    let mut next = || pairs.next().expect("four keys");
    let keys = MemberKeys {
        consensus: next(),
        network: next(),
        admin: next(),
        operator: next(),
    };
    Ok((keys, files))
}

/// The member directory holds secrets: nobody else may list or enter it.
fn restrict_dir(dir: &Path) -> Result<(), MemberDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o700);
        std::fs::set_permissions(dir, perms).map_err(|e| MemberDirError::Io {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

/// The consensus key of the member in `dir`.
pub fn consensus_key(dir: &Path) -> Result<KeyPair, MemberDirError> {
    Ok(read_key_file(&dir.join(CONSENSUS_KEY))?)
}

/// The network key of the member in `dir`.
pub fn network_key(dir: &Path) -> Result<KeyPair, MemberDirError> {
    Ok(read_key_file(&dir.join(NETWORK_KEY))?)
}

/// What a member says about itself, besides its keys.
pub struct Identity {
    pub name: String,
    pub organization: String,
    pub organization_name: String,
    pub addresses: Vec<String>,
}

/// Signs the member's bundle with all four keys and writes it to `dir/member.toml` (replacing an
/// older one: it is public and made from the keys). Every address must parse as a multiaddr.
pub fn write_bundle(
    dir: &Path,
    keys: &MemberKeys,
    id: Identity,
) -> Result<(MemberBundle, PathBuf), MemberDirError> {
    for a in &id.addresses {
        check_address(a)?;
    }
    let member = Member {
        name: id.name,
        organization: id.organization,
        organization_name: id.organization_name,
        consensus_key: keys.consensus.public(),
        peer_id: peer_id_of(&keys.network.public().0),
        addresses: id.addresses,
        admin_key: keys.admin.public(),
        operator_key: keys.operator.public(),
    };
    let bundle = MemberBundle::sign(member, keys)?;
    let path = dir.join(BUNDLE);
    std::fs::write(&path, bundle.to_toml()).map_err(|e| MemberDirError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok((bundle, path))
}

/// An address other validators can dial: a multiaddr with a transport, without a PeerId.
pub fn check_address(address: &str) -> Result<libp2p::Multiaddr, MemberDirError> {
    use libp2p::multiaddr::Protocol;
    let bad = |reason: String| MemberDirError::Address {
        address: address.to_string(),
        reason,
    };
    let ma: libp2p::Multiaddr = address.parse().map_err(|e| bad(format!("{e}")))?;
    let mut host = false;
    let mut port = false;
    for p in ma.iter() {
        match p {
            Protocol::Ip4(ip) if ip.is_unspecified() => {
                return Err(bad(
                    "0.0.0.0 cannot be dialled; give the address others reach this node at".into(),
                ))
            }
            Protocol::Ip6(ip) if ip.is_unspecified() => {
                return Err(bad(
                    ":: cannot be dialled; give the address others reach this node at".into(),
                ))
            }
            Protocol::Ip4(_)
            | Protocol::Ip6(_)
            | Protocol::Dns(_)
            | Protocol::Dns4(_)
            | Protocol::Dns6(_) => host = true,
            Protocol::Tcp(p) if p != 0 => port = true,
            Protocol::P2p(_) => return Err(bad("must not end in /p2p/<PeerId>".into())),
            _ => {}
        }
    }
    if !(host && port) {
        return Err(bad(
            "needs a host and a TCP port, e.g. /ip4/192.0.2.10/tcp/26600 or /dns/node.example.org/tcp/26600".into(),
        ));
    }
    Ok(ma)
}
