//! Network identity: the libp2p ed25519 keypair built from the 32-byte secret.

use libp2p::identity::Keypair;
use libp2p::PeerId;

use super::NetworkError;

/// The libp2p keypair for a 32-byte ed25519 secret.
pub fn keypair_from_secret(secret: [u8; 32]) -> Result<Keypair, NetworkError> {
    let mut bytes = secret;
    Keypair::ed25519_from_bytes(&mut bytes).map_err(|e| NetworkError::InvalidKey {
        reason: e.to_string(),
    })
}

/// The PeerId of the node whose network secret is `secret` (what genesis lists).
pub fn peer_id_from_secret(secret: [u8; 32]) -> Result<PeerId, NetworkError> {
    Ok(keypair_from_secret(secret)?.public().to_peer_id())
}
