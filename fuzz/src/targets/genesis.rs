//! Genesis files: `Genesis::from_toml` (what `Genesis::load` runs on a file's text), the one
//! document every node and auditor trusts.
//!
//! - errors are typed `GenesisError`s;
//! - what is accepted is valid (`validate`), writes back to TOML that parses to the same genesis
//!   with the same hash (formatting never changes a chain's identity);
//! - the consensus layer can be built on it: validator set, quorum, leaders, genesis block.

use consensus::ValidatorSet;
use ledger::Genesis;

use super::text;
use crate::payload::Txs;

pub fn run(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let genesis = match Genesis::from_toml(text) {
        Ok(g) => g,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    genesis.validate().expect("from_toml validated it");
    let again = Genesis::from_toml(&genesis.to_toml()).expect("its own TOML parses");
    assert_eq!(again, genesis);
    assert_eq!(again.hash(), genesis.hash());
    let set = ValidatorSet::from_genesis(&genesis);
    assert_eq!(set.len(), genesis.validators.len());
    assert!(set.quorum() <= genesis.total_power());
    assert!(set.validity() >= 1);
    for round in [0, 1, 7, u64::MAX] {
        assert!(genesis.validator_index(&set.leader(round)).is_some());
    }
    let block = consensus::genesis_block::<Txs>(&genesis);
    assert_eq!(block.header.chain_id, genesis.chain_id);
}
