//! What execution records for history: one [`EventRecord`] per successful supply-chain
//! transaction (memos have none), returned in [`crate::execute::BlockExecution::events`]. The
//! store turns them into its history, provenance and by-organization indexes; they are derived
//! data (not hashed into receipts) and can be rebuilt by re-executing the ledger.

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;

/// What kind of event a transaction was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    AccountAdded,
    AccountRemoved,
    AccountRolesSet,
    Commission,
    Observe,
    CustodyProposed,
    CustodyAccepted,
    CustodyRejected,
    CustodyCancelled,
    OwnershipProposed,
    OwnershipAccepted,
    OwnershipRejected,
    OwnershipCancelled,
    Aggregate,
    Disaggregate,
    Transform,
    DocumentAttached,
    Decommission,
    /// An EPCIS event with sensor data about items (observations by the custodian).
    SensorReport,
    /// An EPCIS AssociationEvent: items associated with a parent (a sensor with a pallet).
    Associate,
    /// An EPCIS TransactionEvent that moved nothing: items linked to a business transaction.
    BusinessTransaction,
    /// An EPCIS error declaration: an earlier event, named by its hash ID, declared erroneous.
    ErrorDeclaration,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AccountAdded => "account_added",
            EventKind::AccountRemoved => "account_removed",
            EventKind::AccountRolesSet => "account_roles_set",
            EventKind::Commission => "commission",
            EventKind::Observe => "observe",
            EventKind::CustodyProposed => "custody_proposed",
            EventKind::CustodyAccepted => "custody_accepted",
            EventKind::CustodyRejected => "custody_rejected",
            EventKind::CustodyCancelled => "custody_cancelled",
            EventKind::OwnershipProposed => "ownership_proposed",
            EventKind::OwnershipAccepted => "ownership_accepted",
            EventKind::OwnershipRejected => "ownership_rejected",
            EventKind::OwnershipCancelled => "ownership_cancelled",
            EventKind::Aggregate => "aggregate",
            EventKind::Disaggregate => "disaggregate",
            EventKind::Transform => "transform",
            EventKind::DocumentAttached => "document_attached",
            EventKind::Decommission => "decommission",
            EventKind::SensorReport => "sensor_report",
            EventKind::Associate => "associate",
            EventKind::BusinessTransaction => "business_transaction",
            EventKind::ErrorDeclaration => "error_declaration",
        }
    }
}

/// How an event touched an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRole {
    /// The item the action is about (commission, observe, transfers, attach, decommission).
    Subject,
    /// The container of an aggregate or disaggregate.
    Container,
    /// An item packed into (aggregate) or taken out of (disaggregate) the container.
    Child,
    /// An item inside a container whose custody or ownership moved with it (accepted transfers).
    Contents,
    /// An item consumed by a transform.
    Input,
    /// An item created by a transform.
    Output,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemRef {
    pub item_id: String,
    pub role: ItemRole,
}

/// What one successful transaction did, for the indexes.
///
/// - history: every `items` entry is one line of that item's history (ordered by ledger index,
///   the transaction's hash found through `tx_index`);
/// - provenance: a `transform` event links every `input` to every `output`; an `aggregate`
///   links every `child` into the `container` (and `disaggregate` out of it). The same links are
///   in the item records (`derived_from`, `transformed_into`, `parent`, `children`), so a
///   recursive trace can be computed from state alone for the present and from events for the
///   past (containers an item was once packed in);
/// - by organization: `organizations` lists every organization the event concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position of the transaction in its block.
    pub tx_index: u32,
    pub kind: EventKind,
    /// The signer.
    pub signer: PublicKey,
    /// The organization the signer acted for (for account management: the administered one).
    pub organization: String,
    /// Every organization concerned, sorted, no repeats: the acting one, plus the other party
    /// of a transfer (recipient of a proposal, proposer of an accept, reject or cancel).
    pub organizations: Vec<String>,
    /// Items touched, in a fixed order: subject or container first, then children, contents,
    /// inputs and outputs in the order the transaction or the container lists them.
    pub items: Vec<ItemRef>,
    /// The account added, removed or changed (account events only).
    pub account: Option<PublicKey>,
    /// The hash ID of the EPCIS event the transaction captured (`capture_epcis` only).
    pub epcis: Option<crate::epcis::EventHashId>,
}

impl EventRecord {
    /// Each item the event touched, once (an item can take part twice, say as container and as
    /// contents), sorted. The one list both the item-history index and each item's
    /// [`super::state::HistoryHead`] are advanced from, so that they agree by construction.
    pub fn item_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.items.iter().map(|r| r.item_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
