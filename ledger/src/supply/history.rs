//! Query shapes built from execution's [`EventRecord`]s and the item records: an item's history
//! and events by organization (one [`HistoryEntry`] per event, in ledger order) and provenance
//! (what an item was made of or packed in, recursively, and what it became). Pure, so that the
//! RPC layer and clients share the types; the store builds and reads the indexes.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::events::{EventKind, EventRecord, ItemRole};
use super::state::{read_item, ItemRecord, ItemStatus};
use crate::execute::{ExecError, StateReader};
use crate::hash::Hash;

/// One event in an item's or an organization's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The transaction's leaf index in the accumulator (its position in the whole ledger).
    pub ledger_index: u64,
    pub height: u64,
    pub tx_hash: Hash,
    pub kind: EventKind,
    /// The acting organization.
    pub organization: String,
    /// How the item took part (for an organization's history: the roles of every item, in the
    /// event's order).
    pub roles: Vec<ItemRole>,
    /// The items of the event, in the event's order.
    pub items: Vec<String>,
}

impl HistoryEntry {
    /// The entry of `event` (the transaction at `ledger_index`, in block `height`) as seen from
    /// `item`, or from the whole event when `item` is `None`.
    pub fn of(
        event: &EventRecord,
        height: u64,
        ledger_index: u64,
        tx_hash: Hash,
        item: Option<&str>,
    ) -> HistoryEntry {
        let roles = event
            .items
            .iter()
            .filter(|r| item.is_none_or(|id| r.item_id == id))
            .map(|r| r.role)
            .collect();
        HistoryEntry {
            ledger_index,
            height,
            tx_hash,
            kind: event.kind,
            organization: event.organization.clone(),
            roles,
            items: event.items.iter().map(|r| r.item_id.clone()).collect(),
        }
    }
}

/// How a provenance node relates to the item asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The item asked about.
    Root,
    /// An input of a transform that made an item already in the trace.
    MadeFrom,
    /// The container an item already in the trace is packed in.
    PackedIn,
    /// An output of a transform that consumed an item already in the trace.
    BecameOutput,
    /// An item packed in an item already in the trace.
    Contains,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceNode {
    pub item_id: String,
    pub item_type: String,
    pub status: ItemStatus,
    pub owner: String,
    pub custodian: String,
    pub relation: Relation,
    /// The item already in the trace this one was reached from (`None` for the root).
    pub via: Option<String>,
    /// Steps from the root.
    pub depth: u32,
}

/// An item's provenance: every item reachable from it through transform and packing links,
/// upstream (made from, packed in) and downstream (became, contains), breadth first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub nodes: Vec<ProvenanceNode>,
    /// True when the trace stopped at `max_nodes` before reaching everything.
    pub truncated: bool,
}

/// Upstream (made of, packed in) links are followed only upstream and downstream ones only
/// downstream, so the trace of a product is its ancestry plus its descendants, not every item
/// that ever shared a pallet with one of its ancestors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// The provenance of `item_id` (`None` if no such item), at most `max_nodes` items.
pub fn provenance(
    state: &dyn StateReader,
    item_id: &str,
    max_nodes: usize,
) -> Result<Option<Provenance>, ExecError> {
    let Some(root) = read_item(state, item_id)? else {
        return Ok(None);
    };
    let mut nodes = vec![node(&root, Relation::Root, None, 0)];
    let mut seen: BTreeSet<String> = BTreeSet::from([root.id.clone()]);
    let mut queue: VecDeque<(ItemRecord, u32, Option<Direction>)> =
        VecDeque::from([(root, 0, None)]);
    let mut truncated = false;
    while let Some((item, depth, dir)) = queue.pop_front() {
        let mut links: Vec<(&String, Relation, Direction)> = Vec::new();
        if dir != Some(Direction::Down) {
            links.extend(
                item.derived_from
                    .iter()
                    .map(|i| (i, Relation::MadeFrom, Direction::Up)),
            );
            links.extend(
                item.parent
                    .iter()
                    .map(|i| (i, Relation::PackedIn, Direction::Up)),
            );
        }
        if dir != Some(Direction::Up) {
            links.extend(
                item.transformed_into
                    .iter()
                    .map(|i| (i, Relation::BecameOutput, Direction::Down)),
            );
            links.extend(
                item.children
                    .iter()
                    .map(|i| (i, Relation::Contains, Direction::Down)),
            );
        }
        for (id, relation, next_dir) in links {
            if seen.contains(id) {
                continue;
            }
            if nodes.len() >= max_nodes {
                truncated = true;
                break;
            }
            let Some(next) = read_item(state, id)? else {
                return Err(ExecError::Corrupt {
                    key: id.clone(),
                    reason: format!("item {} links to {id}, which does not exist", item.id),
                });
            };
            seen.insert(id.clone());
            nodes.push(node(&next, relation, Some(&item.id), depth + 1));
            queue.push_back((next, depth + 1, Some(next_dir)));
        }
    }
    Ok(Some(Provenance { nodes, truncated }))
}

fn node(item: &ItemRecord, relation: Relation, via: Option<&str>, depth: u32) -> ProvenanceNode {
    ProvenanceNode {
        item_id: item.id.clone(),
        item_type: item.item_type.clone(),
        status: item.status,
        owner: item.owner.clone(),
        custodian: item.custodian.clone(),
        relation,
        via: via.map(str::to_string),
        depth,
    }
}
