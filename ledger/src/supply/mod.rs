//! The supply-chain state machine: organizations, accounts with roles, items and their events,
//! executed deterministically after commit, in commit order, by [`crate::execute`]. Pure: state
//! comes through [`crate::execute::StateReader`] and changes go out as a
//! [`crate::execute::StateDelta`]; no clock, no randomness, no hash-map iteration.
//!
//! Modeled on GS1 EPCIS 2.0 events, Hyperledger Grid and Sawtooth Supply Chain.
//!
//! # Organizations, accounts and roles
//!
//! Organizations come from genesis ([`genesis_state`]) and never change. Each has genesis admin
//! keys. An account (a public key) belongs to exactly one organization and has roles:
//!
//! | role       | meaning                                                                    |
//! |------------|----------------------------------------------------------------------------|
//! | `admin`    | adds, removes and re-roles its organization's accounts; acts for it on items |
//! | `operator` | acts for its organization on items (every item action below)              |
//! | `auditor`  | read-only: no ledger action (the role is for query access control)         |
//!
//! Other role names are accepted and stored, with no meaning to the ledger. A signer acts for the
//! organization of its account: actions never name the acting organization. Genesis admin keys
//! are admins of their organization whatever their account's roles; [`genesis_state`] gives every
//! genesis admin key without an explicit genesis account an account in the (first) organization
//! that lists it, with role `admin`. Genesis admins cannot be removed. Any signer may send a
//! memo (it touches no supply-chain state).
//!
//! # Items
//!
//! An item ([`state::ItemRecord`]) has an id (unique forever, even after decommission), a type,
//! an owner organization (title), a custodian organization (possession), a status (`active`,
//! `consumed`, `decommissioned`), properties (up to [`limits::MAX_PROPERTIES`] keys, each a
//! typed canonical value of at most [`limits::MAX_JSON_VALUE_BYTES`] bytes), a last known location, its
//! container (`parent`), its direct contents (`children`) and provenance links (`derived_from`,
//! `transformed_into`).
//!
//! # Execution and failures
//!
//! A transaction with the wrong chain id or sequence number changes nothing (codes
//! `wrong_chain`, `bad_sequence`). A transaction with the right sequence number whose action
//! fails a rule is kept with a failed receipt naming the code below; it bumps its signer's
//! sequence number (so the client can go on with the next one) and changes nothing else. A
//! successful action's writes and one [`events::EventRecord`] are added to the block's output.
//!
//! Checks run in this order, and the first failing one names the code: payload limits
//! (`invalid_payload`), the signer's account and role (`not_member`, `missing_role`, or for
//! account management `unknown_organization`, `not_admin`), the item's existence
//! (`unknown_item`) and status (`item_consumed`, `item_decommissioned`), the permission on the
//! item (`not_custodian`, `not_owner`, ...), then the item's situation (`item_in_container`,
//! `container_not_empty`, `transfer_pending`, ...), in the order the table lists them.
//!
//! # Rules
//!
//! "Actor" is the signer's organization; "operator" means an account with role `operator` or
//! `admin` (or a genesis admin key).
//!
//! | action | who may | other rules (failure code) |
//! |--------|---------|----------------------------|
//! | every item action | an operator of some organization | signer has no account (`not_member`); account has no acting role (`missing_role`) |
//! | `add_account` | an admin of `organization` | organization exists (`unknown_organization`); signer administers it (`not_admin`); key has no account in any organization (`account_exists`) |
//! | `remove_account` | an admin of `organization` | `unknown_organization`, `not_admin`; account exists (`unknown_account`) in this organization (`account_not_in_organization`); not a genesis admin of it (`genesis_admin`) |
//! | `set_account_roles` | an admin of `organization` | `unknown_organization`, `not_admin`, `unknown_account`, `account_not_in_organization` |
//! | `commission` | any operator | id unused, ever (`item_exists`); the actor becomes owner and custodian |
//! | `observe` | the custodian | item exists (`unknown_item`), is active (`item_consumed`, `item_decommissioned`); actor is custodian (`not_custodian`). Packed items may be observed. Location and `last_observed_ms` change only if `time_ms` is not older than the last observation; the event is recorded either way |
//! | `propose_transfer` custody | the custodian | `unknown_item`, active; `not_custodian`; not packed (`item_in_container`); no transfer of the item pending, of either kind (`transfer_pending`); recipient exists (`unknown_organization`) and is not the custodian already (`self_transfer`) |
//! | `propose_transfer` ownership | the owner | as custody, with `not_owner` |
//! | `accept_transfer` | an operator of the recipient | `unknown_item`; a transfer is pending (`no_pending_transfer`) of the named kind (`transfer_kind_mismatch`); actor is the recipient (`not_recipient`). Custody: the item and everything inside it, at any depth, get the recipient as custodian. Ownership: the item and every item inside it that the proposer owned get the recipient as owner (contents owned by others keep their owner) |
//! | `reject_transfer` | an operator of the recipient | `unknown_item`, `no_pending_transfer`, `transfer_kind_mismatch`, `not_recipient`; nothing moves |
//! | `cancel_transfer` | an operator of the proposing organization | `unknown_item`, `no_pending_transfer`, `transfer_kind_mismatch`, `not_proposer`; nothing moves |
//! | `aggregate` | custodian of the container and of every child | container: `unknown_item`, active, `not_custodian`, not itself packed (`item_in_container`), no pending transfer (`transfer_pending`); each child: not the container (`cycle`), `unknown_item`, active, `not_custodian`, not packed already (`item_in_container`), `transfer_pending`; at most [`limits::MAX_CONTAINER_CHILDREN`] direct and [`limits::MAX_CONTAINED_ITEMS`] total contents (`too_many_contents`) |
//! | `disaggregate` | custodian of the container | container as for `aggregate`; each child is packed directly in this container (`unknown_item`, `container_mismatch`) |
//! | `transform` | custodian of every input | each input: `unknown_item`, active, `not_custodian`, `item_in_container`, holds nothing (`container_not_empty`), `transfer_pending`; each output id unused (`item_exists`). Inputs become `consumed` with `transformed_into` = outputs; outputs are created active, owned and held by the actor, with `derived_from` = inputs |
//! | `attach_document` | the owner or the custodian | `unknown_item`; actor owns or holds it (`not_owner_or_custodian`); at most [`limits::MAX_DOCUMENTS_PER_ITEM`] (`too_many_documents`). Allowed in any status (certificates of destruction come after the fact) |
//! | `decommission` | the owner | `unknown_item`, active; `not_owner`; `item_in_container`; `container_not_empty`; `transfer_pending` |
//! | any | | a record would exceed [`crate::execute::MAX_STATE_VALUE_BYTES`] (`record_too_large`; the limits make this unreachable, it is a guard) |
//!
//! While an item is packed it is frozen: it cannot be transferred, transformed, decommissioned,
//! packed elsewhere, and (if it is a container) cannot gain or lose contents; it can still be
//! observed and have documents attached. A container's contents are therefore fixed while a
//! transfer of it is pending, so the recipient accepts exactly what was offered, and all contents
//! share the outermost container's custodian. Because a container that is itself packed cannot
//! take children, the only possible cycle is packing a container into itself (`cycle`).
//! A packed item's physical location is its outermost container's.
//!
//! # History and provenance
//!
//! See [`events`]: one [`events::EventRecord`] per successful supply-chain transaction, naming
//! the items touched with their role and the organizations concerned.
//!
//! Each item's state value also commits to its history ([`state::HistoryHead`]): the number of
//! events that touched it and a hash chain over their transaction hashes, advanced after every
//! successful action for each item of its event (every role, contents of a transferred
//! container included: exactly the item's entries in the history index). A certified state
//! root therefore fixes each item's complete list of events, which is what lets a history
//! proof show that none was left out.

pub mod events;
pub mod exec;
pub mod history;
pub mod json;
pub mod payload;
pub mod state;
#[cfg(test)]
mod tests;

pub use events::{EventKind, EventRecord, ItemRef, ItemRole};
pub use json::JsonValue;
pub use payload::{
    AddAccount, AttachDocument, Commission, Decommission, HashAlgorithm, NewItem, Observe, Packing,
    ProposeTransfer, Reading, RemoveAccount, SetAccountRoles, TransferKind, TransferResponse,
    Transform,
};
pub use state::{
    AccountRecord, DocumentRecord, HistoryHead, HistoryLink, ItemRecord, ItemState, ItemStatus,
    OrgRecord, PendingTransfer,
};

use crate::execute::StateDelta;
use crate::genesis::Genesis;

/// Why an action failed: a stable code from [`codes`] and a message with the values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

/// The state genesis starts from: every organization (`org/<id>`) and every account
/// (`acct/<key>`), including an `admin` account for each genesis admin key that is not listed
/// as an account (in the first organization, in genesis order, that lists it; an explicit
/// account wins). The store applies it at the genesis commit. Expects a validated genesis.
pub fn genesis_state(genesis: &Genesis) -> StateDelta {
    let mut delta = exec::genesis_writes(genesis);
    delta.extend(crate::governance::genesis_writes(genesis));
    delta
}

/// Role names with meaning to the ledger (see the module doc).
pub mod roles {
    pub const ADMIN: &str = "admin";
    pub const OPERATOR: &str = "operator";
    pub const AUDITOR: &str = "auditor";
}

/// Stable failure codes of supply-chain actions (see the rule table in the module doc). The
/// envelope's own codes are in [`crate::execute::codes`].
pub mod codes {
    /// The payload breaks a structural limit (normally caught before ordering).
    pub const INVALID_PAYLOAD: &str = "invalid_payload";
    /// The signer is not an account of any organization.
    pub const NOT_MEMBER: &str = "not_member";
    /// The signer's account has no role that may act (`operator` or `admin`).
    pub const MISSING_ROLE: &str = "missing_role";
    /// The signer does not administer the named organization.
    pub const NOT_ADMIN: &str = "not_admin";
    pub const UNKNOWN_ORGANIZATION: &str = "unknown_organization";
    pub const UNKNOWN_ACCOUNT: &str = "unknown_account";
    pub const ACCOUNT_EXISTS: &str = "account_exists";
    pub const ACCOUNT_NOT_IN_ORGANIZATION: &str = "account_not_in_organization";
    /// Genesis admins cannot be removed.
    pub const GENESIS_ADMIN: &str = "genesis_admin";
    pub const UNKNOWN_ITEM: &str = "unknown_item";
    pub const ITEM_EXISTS: &str = "item_exists";
    pub const ITEM_CONSUMED: &str = "item_consumed";
    pub const ITEM_DECOMMISSIONED: &str = "item_decommissioned";
    pub const NOT_CUSTODIAN: &str = "not_custodian";
    pub const NOT_OWNER: &str = "not_owner";
    pub const NOT_OWNER_OR_CUSTODIAN: &str = "not_owner_or_custodian";
    pub const TRANSFER_PENDING: &str = "transfer_pending";
    pub const NO_PENDING_TRANSFER: &str = "no_pending_transfer";
    pub const TRANSFER_KIND_MISMATCH: &str = "transfer_kind_mismatch";
    pub const NOT_RECIPIENT: &str = "not_recipient";
    pub const NOT_PROPOSER: &str = "not_proposer";
    pub const SELF_TRANSFER: &str = "self_transfer";
    pub const ITEM_IN_CONTAINER: &str = "item_in_container";
    pub const CONTAINER_MISMATCH: &str = "container_mismatch";
    pub const CONTAINER_NOT_EMPTY: &str = "container_not_empty";
    pub const CYCLE: &str = "cycle";
    pub const TOO_MANY_CONTENTS: &str = "too_many_contents";
    pub const TOO_MANY_DOCUMENTS: &str = "too_many_documents";
    pub const RECORD_TOO_LARGE: &str = "record_too_large";

    /// Every code above, for documentation and tests.
    pub const ALL: &[&str] = &[
        INVALID_PAYLOAD,
        NOT_MEMBER,
        MISSING_ROLE,
        NOT_ADMIN,
        UNKNOWN_ORGANIZATION,
        UNKNOWN_ACCOUNT,
        ACCOUNT_EXISTS,
        ACCOUNT_NOT_IN_ORGANIZATION,
        GENESIS_ADMIN,
        UNKNOWN_ITEM,
        ITEM_EXISTS,
        ITEM_CONSUMED,
        ITEM_DECOMMISSIONED,
        NOT_CUSTODIAN,
        NOT_OWNER,
        NOT_OWNER_OR_CUSTODIAN,
        TRANSFER_PENDING,
        NO_PENDING_TRANSFER,
        TRANSFER_KIND_MISMATCH,
        NOT_RECIPIENT,
        NOT_PROPOSER,
        SELF_TRANSFER,
        ITEM_IN_CONTAINER,
        CONTAINER_MISMATCH,
        CONTAINER_NOT_EMPTY,
        CYCLE,
        TOO_MANY_CONTENTS,
        TOO_MANY_DOCUMENTS,
        RECORD_TOO_LARGE,
    ];
}

/// Structural limits of supply-chain payloads and records. Together they keep every record under
/// [`crate::execute::MAX_STATE_VALUE_BYTES`]: an item holds at most 16 properties of about 1 KiB,
/// 128 children, 64 `derived_from` and 64 `transformed_into` ids of 128 bytes (about 51 KiB).
pub mod limits {
    /// Organization ids, item types, roles and reading kinds (the genesis identifier limit).
    pub const MAX_NAME_LEN: usize = crate::genesis::MAX_NAME_LEN;
    pub const MAX_ITEM_ID_LEN: usize = 128;
    pub const MAX_PROPERTIES: usize = 16;
    pub const MAX_PROPERTY_KEY_LEN: usize = 64;
    /// Canonical bytes of one property or reading value (`JsonValue::encoded_len`).
    pub const MAX_JSON_VALUE_BYTES: usize = 1024;
    /// Nesting of arrays and objects in one JSON value.
    pub const MAX_JSON_DEPTH: usize = 8;
    pub const MAX_LOCATION_LEN: usize = 256;
    pub const MAX_READINGS: usize = 32;
    pub const MAX_UNIT_LEN: usize = 32;
    pub const MAX_ROLES: usize = 16;
    /// Children named in one aggregate or disaggregate.
    pub const MAX_PACKING_CHILDREN: usize = 128;
    /// Items packed directly in one container.
    pub const MAX_CONTAINER_CHILDREN: usize = 128;
    /// Items inside one container at any depth (bounds the work of one accepted transfer).
    pub const MAX_CONTAINED_ITEMS: u32 = 1024;
    pub const MAX_TRANSFORM_INPUTS: usize = 64;
    pub const MAX_TRANSFORM_OUTPUTS: usize = 64;
    pub const MAX_URI_LEN: usize = 512;
    pub const MAX_MEDIA_TYPE_LEN: usize = 128;
    pub const MAX_REASON_LEN: usize = 256;
    pub const MAX_DOCUMENTS_PER_ITEM: u32 = 4096;
}
