//! Governance: proposals, approvals under the genesis rule, each refusal's code with nothing
//! changed but the sequence number, and one epoch per block however many changes it applies.

use std::collections::BTreeMap;

use super::*;
use crate::crypto::KeyPair;
use crate::execute::{execute_block, next_sequence, BlockExecution, ExecError, StateReader};
use crate::genesis::{peer_id_of, Account, ConsensusParams, Organization};
use crate::receipt::ExecStatus;
use crate::supply::{self, genesis_state};
use crate::tx::{Payload, SignedTransaction, Transaction};

const CHAIN: &str = "gov-test";
/// Admin keys of the four organizations, by seed; 50 is an operator of `a`, 99 nobody.
const ADMINS: [(u8, &str); 4] = [(10, "a"), (20, "b"), (30, "c"), (40, "d")];
const OPERATOR_A: u8 = 50;
const NOBODY: u8 = 99;

fn kp(seed: u8) -> KeyPair {
    KeyPair::from_secret([seed; 32])
}

fn validator(i: u8) -> Validator {
    Validator {
        name: format!("v{i}"),
        consensus_key: kp(100 + i).public(),
        peer_id: peer_id_of(&kp(150 + i).public().0),
        power: 1,
    }
}

fn genesis(rule: Option<GovernanceParams>) -> Genesis {
    let g = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        consensus: ConsensusParams::default(),
        validators: (0..4).map(validator).collect(),
        organizations: ADMINS
            .iter()
            .map(|(seed, id)| Organization {
                id: (*id).into(),
                name: format!("Org {id}"),
                admins: vec![kp(*seed).public()],
            })
            .collect(),
        accounts: vec![Account {
            key: kp(OPERATOR_A).public(),
            organization: "a".into(),
            roles: vec!["operator".into()],
        }],
        governance: rule,
        observers: vec![],
    };
    g.validate().unwrap();
    g
}

struct World(BTreeMap<Vec<u8>, Vec<u8>>);

impl StateReader for World {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        Ok(self.0.get(key).cloned())
    }
}

impl World {
    fn new(g: &Genesis) -> World {
        World(
            genesis_state(g)
                .into_iter()
                .map(|(k, v)| (k, v.unwrap()))
                .collect(),
        )
    }

    fn tx_at(&self, signer: u8, sequence: u64, payload: Payload) -> SignedTransaction {
        Transaction {
            chain_id: CHAIN.into(),
            signer: kp(signer).public(),
            sequence,
            payload,
        }
        .sign(&kp(signer))
    }

    fn tx(&self, signer: u8, payload: Payload) -> SignedTransaction {
        let seq = next_sequence(self, &kp(signer).public()).unwrap();
        self.tx_at(signer, seq, payload)
    }

    fn block(&mut self, txs: &[SignedTransaction]) -> BlockExecution {
        let ex = execute_block(CHAIN, txs, self).unwrap();
        for (k, v) in &ex.delta {
            match v {
                Some(v) => self.0.insert(k.clone(), v.clone()),
                None => self.0.remove(k),
            };
        }
        ex
    }

    #[track_caller]
    fn ok(&mut self, signer: u8, payload: Payload) -> (Hash, BlockExecution) {
        let tx = self.tx(signer, payload);
        let ex = self.block(std::slice::from_ref(&tx));
        assert_eq!(ex.statuses, vec![ExecStatus::Success]);
        (tx.hash(), ex)
    }

    /// The action fails with `code`, and changes nothing but the signer's sequence number.
    #[track_caller]
    fn fails(&mut self, signer: u8, payload: Payload, code: &str) {
        let before = self.0.clone();
        let tx = self.tx(signer, payload);
        let ex = self.block(&[tx]);
        match &ex.statuses[..] {
            [ExecStatus::Failed { code: c, message }] => {
                assert_eq!(c, code, "{message}")
            }
            other => panic!("expected {code}, got {other:?}"),
        }
        assert!(
            codes::ALL.contains(&code) || supply::codes::ALL.contains(&code),
            "{code} is not documented"
        );
        assert_eq!(ex.delta.len(), 1, "only the sequence number changes");
        assert_eq!(ex.next_epoch, None);
        let mut after = self.0.clone();
        after.remove(&crate::execute::sequence_key(&kp(signer).public()));
        let mut before = before;
        before.remove(&crate::execute::sequence_key(&kp(signer).public()));
        assert_eq!(after, before);
    }

    fn set(&self) -> EpochSet {
        read_validators(self).unwrap().unwrap()
    }
}

fn propose(org: &str, change: Change) -> Payload {
    Payload::ProposeChange(ProposeChange {
        organization: org.into(),
        change,
    })
}

fn approve(org: &str, proposal: Hash) -> Payload {
    Payload::ApproveChange(ApproveChange {
        organization: org.into(),
        proposal,
    })
}

#[test]
fn genesis_names_epoch_zero_and_the_default_rule_is_two_thirds() {
    let w = World::new(&genesis(None));
    assert_eq!(w.set(), EpochSet::genesis(&genesis(None)));
    let gov = read_governance(&w).unwrap().unwrap();
    assert_eq!(gov.organizations, vec!["a", "b", "c", "d"]);
    assert_eq!(gov.required(), 3);
    let rule = |n, d, orgs: usize| {
        GovernanceRecord {
            organizations: (0..orgs).map(|i| i.to_string()).collect(),
            removed: vec![],
            rule: GovernanceParams {
                approve_numerator: n,
                approve_denominator: d,
            },
        }
        .required()
    };
    assert_eq!(
        (rule(2, 3, 1), rule(2, 3, 2), rule(2, 3, 3), rule(2, 3, 5)),
        (1, 2, 2, 4)
    );
    assert_eq!((rule(1, 2, 4), rule(1, 1, 4), rule(1, 3, 1)), (2, 4, 1));
}

/// A genesis without a governance section keeps the hash it had before the field existed: the
/// field is left out of the canonical bytes.
#[test]
fn a_genesis_without_governance_hashes_as_before() {
    let g = genesis(None);
    let mut with = g.clone();
    with.governance = Some(GovernanceParams::default());
    assert_ne!(g.hash(), with.hash());
    let text = g.to_toml();
    assert!(!text.contains("governance"), "{text}");
    let back = Genesis::from_toml(&with.to_toml()).unwrap();
    assert_eq!(back, with);
}

#[test]
fn a_validator_joins_when_two_thirds_of_the_organizations_approve() {
    let mut w = World::new(&genesis(None));
    let change = Change::AddValidator(validator(4));
    let (id, ex) = w.ok(10, propose("a", change.clone()));
    assert_eq!(ex.next_epoch, None);
    assert_eq!(
        read_proposal(&w, &id).unwrap().unwrap().approvals,
        vec!["a"]
    );
    w.fails(20, approve("a", id), supply::codes::NOT_ADMIN);
    w.fails(NOBODY, approve("b", id), supply::codes::NOT_ADMIN);
    w.fails(OPERATOR_A, approve("a", id), supply::codes::NOT_ADMIN);
    w.fails(20, approve("zz", id), supply::codes::UNKNOWN_ORGANIZATION);
    w.fails(20, approve("b", Hash([7; 32])), codes::UNKNOWN_PROPOSAL);
    w.fails(10, approve("a", id), codes::ALREADY_APPROVED);
    let (_, ex) = w.ok(20, approve("b", id));
    assert_eq!(ex.next_epoch, None, "two of four is not enough");
    let (_, ex) = w.ok(30, approve("c", id));
    let next = ex.next_epoch.expect("the third approval applies it");
    assert_eq!(next.epoch, 1);
    assert_eq!(next.validators.len(), 5);
    assert_eq!(next.validators[4], validator(4));
    assert_eq!(w.set(), next);
    assert_eq!(read_proposal(&w, &id).unwrap(), None, "applied, gone");
    w.fails(40, approve("d", id), codes::UNKNOWN_PROPOSAL);
    // The same validator again: refused when proposed.
    w.fails(10, propose("a", change), codes::VALIDATOR_EXISTS);
}

#[test]
fn a_rule_of_one_organization_applies_at_once_and_each_change_has_its_codes() {
    let one = GovernanceParams {
        approve_numerator: 1,
        approve_denominator: 4,
    };
    let mut w = World::new(&genesis(Some(one)));
    let name = |s: &str| s.to_string();
    w.fails(
        10,
        propose("a", Change::RemoveValidator { name: name("v9") }),
        codes::UNKNOWN_VALIDATOR,
    );
    let mut clash = validator(5);
    clash.peer_id = validator(1).peer_id;
    w.fails(
        10,
        propose("a", Change::AddValidator(clash)),
        codes::VALIDATOR_EXISTS,
    );
    w.fails(
        10,
        propose(
            "a",
            Change::RotateConsensusKey {
                name: name("v0"),
                consensus_key: validator(2).consensus_key,
            },
        ),
        codes::VALIDATOR_EXISTS,
    );
    w.fails(
        10,
        propose(
            "a",
            Change::SetValidatorPower {
                name: name("v0"),
                power: 0,
            },
        ),
        supply::codes::INVALID_PAYLOAD,
    );
    let (_, ex) = w.ok(
        10,
        propose(
            "a",
            Change::RotateConsensusKey {
                name: name("v0"),
                consensus_key: kp(200).public(),
            },
        ),
    );
    let set = ex.next_epoch.unwrap();
    assert_eq!(
        (set.epoch, set.validators[0].consensus_key),
        (1, kp(200).public())
    );
    let (_, ex) = w.ok(
        10,
        propose(
            "a",
            Change::RotateNetworkKey {
                name: name("v1"),
                peer_id: peer_id_of(&kp(201).public().0),
            },
        ),
    );
    assert_eq!(ex.next_epoch.unwrap().epoch, 2);
    for v in ["v0", "v1", "v2"] {
        w.ok(10, propose("a", Change::RemoveValidator { name: name(v) }));
    }
    assert_eq!(w.set().epoch, 5);
    assert_eq!(w.set().validators, vec![validator(3)]);
    w.fails(
        10,
        propose("a", Change::RemoveValidator { name: name("v3") }),
        codes::LAST_VALIDATOR,
    );
    let (_, ex) = w.ok(
        10,
        propose(
            "a",
            Change::SetValidatorPower {
                name: name("v3"),
                power: 7,
            },
        ),
    );
    assert_eq!(ex.next_epoch.unwrap().total_power(), 7);
}

/// Several validator changes in one block end one epoch, not one each.
#[test]
fn one_block_one_epoch() {
    let one = GovernanceParams {
        approve_numerator: 1,
        approve_denominator: 4,
    };
    let mut w = World::new(&genesis(Some(one)));
    let txs = [
        w.tx_at(10, 0, propose("a", Change::AddValidator(validator(4)))),
        w.tx_at(
            20,
            0,
            propose("b", Change::RemoveValidator { name: "v0".into() }),
        ),
        w.tx_at(
            30,
            0,
            propose(
                "c",
                Change::AddOrganization {
                    id: "e".into(),
                    name: "Org e".into(),
                    admins: vec![kp(60).public()],
                },
            ),
        ),
    ];
    let ex = w.block(&txs);
    assert_eq!(ex.statuses, vec![ExecStatus::Success; 3]);
    let set = ex.next_epoch.unwrap();
    assert_eq!(set.epoch, 1);
    let names: Vec<_> = set.validators.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["v1", "v2", "v3", "v4"]);
    // An organization change alone ends no epoch.
    let ex = w.block(&[w.tx_at(
        40,
        0,
        propose("d", Change::RemoveOrganization { id: "e".into() }),
    )]);
    assert_eq!(ex.statuses, vec![ExecStatus::Success]);
    assert_eq!(ex.next_epoch, None);
    assert_eq!(w.set().epoch, 1);
}

#[test]
fn organizations_join_and_leave() {
    let mut w = World::new(&genesis(None));
    let add = Change::AddOrganization {
        id: "e".into(),
        name: "Org e".into(),
        admins: vec![kp(60).public()],
    };
    let (id, _) = w.ok(10, propose("a", add));
    w.ok(20, approve("b", id));
    let (_, ex) = w.ok(30, approve("c", id));
    assert_eq!(ex.next_epoch, None);
    let gov = read_governance(&w).unwrap().unwrap();
    assert_eq!(gov.organizations, vec!["a", "b", "c", "d", "e"]);
    assert_eq!(gov.required(), 4);
    // The new organization's admin is an admin at once: it proposes, and acts on items.
    let (rm, _) = w.ok(
        60,
        propose("e", Change::RemoveOrganization { id: "d".into() }),
    );
    for (seed, org) in [(10, "a"), (20, "b")] {
        w.ok(seed, approve(org, rm));
    }
    let (_, _) = w.ok(30, approve("c", rm));
    let gov = read_governance(&w).unwrap().unwrap();
    assert_eq!(gov.organizations, vec!["a", "b", "c", "e"]);
    assert_eq!(gov.removed, vec!["d"]);
    // The removed organization's admin can no longer act or govern, and its id is not reused.
    let commission = Payload::Commission(supply::Commission {
        item_id: "i1".into(),
        item_type: "pallet".into(),
        properties: Default::default(),
        location: None,
    });
    w.fails(40, commission.clone(), supply::codes::NOT_MEMBER);
    w.ok(60, commission);
    w.fails(
        40,
        propose("d", Change::RemoveValidator { name: "v0".into() }),
        supply::codes::UNKNOWN_ORGANIZATION,
    );
    let readd = Change::AddOrganization {
        id: "d".into(),
        name: "Org d again".into(),
        admins: vec![kp(61).public()],
    };
    w.fails(10, propose("a", readd), codes::ORGANIZATION_EXISTS);
    let taken = Change::AddOrganization {
        id: "f".into(),
        name: "Org f".into(),
        admins: vec![kp(OPERATOR_A).public()],
    };
    w.fails(10, propose("a", taken), supply::codes::ACCOUNT_EXISTS);
}

/// Approvals of an organization removed after it approved no longer count.
#[test]
fn approvals_count_only_organizations_that_still_vote() {
    let mut w = World::new(&genesis(None));
    let (id, _) = w.ok(40, propose("d", Change::AddValidator(validator(4))));
    let (rm, _) = w.ok(
        10,
        propose("a", Change::RemoveOrganization { id: "d".into() }),
    );
    w.ok(20, approve("b", rm));
    w.ok(30, approve("c", rm));
    // Three organizations left, two needed; `d`'s approval is gone, so `a` alone is not enough.
    let (_, ex) = w.ok(10, approve("a", id));
    assert_eq!(ex.next_epoch, None);
    let (_, ex) = w.ok(20, approve("b", id));
    assert_eq!(ex.next_epoch.map(|s| s.epoch), Some(1));
}

/// A proposal that no longer applies fails the approval that would complete it, with the
/// change's code, and stays open.
#[test]
fn a_stale_proposal_fails_its_last_approval() {
    let mut w = World::new(&genesis(None));
    let rm = Change::RemoveValidator { name: "v3".into() };
    let (first, _) = w.ok(10, propose("a", rm.clone()));
    let (second, _) = w.ok(20, propose("b", rm));
    for (seed, org) in [(20, "b"), (30, "c")] {
        w.ok(seed, approve(org, first));
    }
    assert_eq!(w.set().validators.len(), 3);
    w.ok(10, approve("a", second));
    w.fails(30, approve("c", second), codes::UNKNOWN_VALIDATOR);
    assert!(read_proposal(&w, &second).unwrap().is_some());
}

#[test]
fn governance_payloads_round_trip_as_bytes_and_json() {
    let w = World::new(&genesis(None));
    for payload in [
        propose("a", Change::AddValidator(validator(4))),
        approve("b", Hash([3; 32])),
        propose(
            "a",
            Change::AddOrganization {
                id: "e".into(),
                name: "E".into(),
                admins: vec![kp(1).public()],
            },
        ),
    ] {
        let tx = w.tx(10, payload.clone());
        assert_eq!(SignedTransaction::from_bytes(&tx.to_bytes()).unwrap(), tx);
        let json = serde_json::to_string(&payload).unwrap();
        let back: Payload = serde_json::from_str(&json).unwrap();
        assert_eq!(back, payload, "{json}");
    }
}
