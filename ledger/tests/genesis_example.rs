//! `genesis/example.toml` is documentation that must stay true: it loads and validates through
//! the real loader, has the validators and organizations its comments describe, and shows every
//! field the schema has (so a new field cannot go undocumented there).

use std::collections::BTreeSet;
use std::path::PathBuf;

use waybill_ledger::genesis::{peer_id_public_key, Genesis};

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.toml")
}

fn example() -> Genesis {
    let path = example_path();
    Genesis::load(&path).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

#[test]
fn example_genesis_validates() {
    let g = example();
    g.validate().unwrap();
    assert_eq!(g.chain_id, "waybill-example");
    assert_eq!(g.genesis_time_ms, 1_767_225_600_000, "2026-01-01T00:00:00Z");
    // The text round-trips through the schema: what the file says is what the chain hashes.
    let again = Genesis::from_toml(&g.to_toml()).unwrap();
    assert_eq!(again.hash(), g.hash());
}

#[test]
fn example_has_the_documented_validators() {
    let g = example();
    let names: Vec<&str> = g.validators.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "farm-validator",
            "processor-validator",
            "shipper-validator",
            "retailer-validator"
        ]
    );
    assert!(g.validators.iter().all(|v| v.power == 1));
    assert_eq!((g.total_power(), g.quorum_power()), (4, 3));
    for v in &g.validators {
        assert!(
            v.peer_id.starts_with("12D3KooW"),
            "{}: {}",
            v.name,
            v.peer_id
        );
        let network_key = peer_id_public_key(&v.peer_id).unwrap();
        assert_ne!(
            network_key, v.consensus_key.0,
            "{}: network and consensus keys should differ",
            v.name
        );
    }
}

#[test]
fn example_has_the_documented_organizations_and_accounts() {
    let g = example();
    let orgs: Vec<(&str, &str, usize)> = g
        .organizations
        .iter()
        .map(|o| (o.id.as_str(), o.name.as_str(), o.admins.len()))
        .collect();
    assert_eq!(
        orgs,
        [
            ("farm", "Green Valley Farm", 1),
            ("processor", "Fresh Foods Processing", 2),
            ("shipper", "Coastal Logistics", 1),
            ("retailer", "City Grocers", 1),
        ]
    );
    assert_eq!(g.accounts.len(), 8);
    for o in &g.organizations {
        let members: Vec<_> = g
            .accounts
            .iter()
            .filter(|a| a.organization == o.id)
            .collect();
        assert_eq!(members.len(), 2, "two accounts for {}", o.id);
        // Every admin key is also one of the organization's accounts, with the admin role.
        for admin in &o.admins {
            assert!(
                members
                    .iter()
                    .any(|a| &a.key == admin && a.roles.iter().any(|r| r == "admin")),
                "admin {admin} of {} has no admin account",
                o.id
            );
        }
    }
}

/// Every key path (`consensus.round_timeout_ms`, `validators.peer_id`, ...) of a TOML document.
fn key_paths(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                key_paths(v, &path, out);
            }
        }
        toml::Value::Array(items) => {
            for item in items {
                key_paths(item, prefix, out);
            }
        }
        _ => {}
    }
}

#[test]
fn example_shows_every_field_of_the_schema() {
    let g = example();
    let text = std::fs::read_to_string(example_path()).unwrap();
    let mut in_file = BTreeSet::new();
    key_paths(&toml::from_str(&text).unwrap(), "", &mut in_file);
    let mut in_schema = BTreeSet::new();
    key_paths(&toml::from_str(&g.to_toml()).unwrap(), "", &mut in_schema);
    let missing: Vec<_> = in_schema.difference(&in_file).collect();
    assert!(
        missing.is_empty(),
        "genesis/example.toml does not show (and document) these fields: {missing:?}"
    );
}
