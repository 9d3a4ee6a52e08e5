//! Applying one supply-chain action. Every rule of [`super`]'s table is checked here, in the
//! documented order, before anything is written; a failure drops the transaction's staged writes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::codes;
use super::events::{EventKind, EventRecord, ItemRef, ItemRole};
use super::limits::*;
use super::payload::*;
use super::roles;
use super::state::*;
use super::Failure;
use crate::crypto::PublicKey;
use crate::execute::{ExecError, StateDelta, StateReader};
use crate::hash::Hash;
use crate::tx::Payload;

/// A successful action: its writes (merged into the block's delta) and its event.
#[derive(Debug)]
pub struct Applied {
    pub writes: StateDelta,
    /// `None` for memos.
    pub event: Option<EventRecord>,
}

/// Why an action did not apply: a rule (the transaction fails with a receipt) or a state read
/// that failed (execution of the block stops).
enum Fail {
    Rule(Failure),
    Internal(ExecError),
}

impl From<ExecError> for Fail {
    fn from(e: ExecError) -> Self {
        Fail::Internal(e)
    }
}

fn fail(code: &'static str, message: String) -> Fail {
    Fail::Rule(Failure { code, message })
}

type R<T> = Result<T, Fail>;

/// Applies `payload`, signed by `signer` in transaction `tx_hash` at `tx_index` of its block, on
/// top of `state`. `Ok(Err(_))` is a failed transaction; `Err(_)` means the state is unreadable.
pub fn apply(
    state: &dyn StateReader,
    signer: &PublicKey,
    tx_hash: Hash,
    tx_index: u32,
    payload: &Payload,
) -> Result<Result<Applied, Failure>, ExecError> {
    let mut cx = Cx {
        st: TxState::new(state),
        signer: *signer,
        tx_hash,
        tx_index,
    };
    match cx.run(payload) {
        Ok(event) => Ok(Ok(Applied {
            writes: cx.st.writes,
            event,
        })),
        Err(Fail::Rule(f)) => Ok(Err(f)),
        Err(Fail::Internal(e)) => Err(e),
    }
}

struct Cx<'a> {
    st: TxState<'a>,
    signer: PublicKey,
    tx_hash: Hash,
    tx_index: u32,
}

impl Cx<'_> {
    fn run(&mut self, payload: &Payload) -> R<Option<EventRecord>> {
        if let Err(e) = payload.check_limits() {
            return Err(fail(codes::INVALID_PAYLOAD, e.to_string()));
        }
        let ev = match payload {
            Payload::Memo { .. } => return Ok(None),
            Payload::ProposeChange(_) | Payload::ApproveChange(_) => {
                return Err(fail(
                    codes::INVALID_PAYLOAD,
                    format!("{} is a governance action", payload.kind()),
                ))
            }
            Payload::AddAccount(a) => self.add_account(a)?,
            Payload::RemoveAccount(a) => self.remove_account(a)?,
            Payload::SetAccountRoles(a) => self.set_roles(a)?,
            Payload::Commission(a) => self.commission(a)?,
            Payload::Observe(a) => self.observe(a)?,
            Payload::ProposeTransfer(a) => self.propose(a)?,
            Payload::AcceptTransfer(a) => self.respond(a, Response::Accept)?,
            Payload::RejectTransfer(a) => self.respond(a, Response::Reject)?,
            Payload::CancelTransfer(a) => self.respond(a, Response::Cancel)?,
            Payload::Aggregate(a) => self.aggregate(a)?,
            Payload::Disaggregate(a) => self.disaggregate(a)?,
            Payload::Transform(a) => self.transform(a)?,
            Payload::AttachDocument(a) => self.attach(a)?,
            Payload::Decommission(a) => self.decommission(a)?,
        };
        self.record_history(&ev)?;
        Ok(Some(ev))
    }

    /// Advances the certified history head of every item of `ev` by this transaction: the
    /// items the history index gives an entry for this event ([`EventRecord::item_ids`]), so
    /// that an item's head always counts and chains exactly its index entries. Runs after the
    /// action succeeded and only then (a failed transaction is no event), once per item.
    fn record_history(&mut self, ev: &EventRecord) -> R<()> {
        for id in ev.item_ids() {
            let key = item_key(id);
            let Some(mut state) = read_item_state(&self.st, id)? else {
                // Every action writes or reads each item it lists; one missing now means the
                // action and its event disagree, which must stop execution, not be guessed at.
                return Err(Fail::Internal(ExecError::Corrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: format!("the event lists item {id:?}, which does not exist"),
                }));
            };
            state.history = state.history.then(&self.tx_hash).ok_or_else(|| {
                Fail::Internal(ExecError::Corrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "history length overflows a u64".into(),
                })
            })?;
            self.put("item", key, &state)?;
        }
        Ok(())
    }

    fn event(&self, kind: EventKind, organization: &str) -> EventRecord {
        EventRecord {
            tx_index: self.tx_index,
            kind,
            signer: self.signer,
            organization: organization.to_string(),
            organizations: vec![organization.to_string()],
            items: Vec::new(),
            account: None,
        }
    }

    // ---- who is acting ------------------------------------------------------------------

    /// The organization the signer acts for in item actions.
    fn actor(&self) -> R<String> {
        let acct = read_account(&self.st, &self.signer)?.ok_or_else(|| {
            fail(
                codes::NOT_MEMBER,
                format!("{} is not an account of any organization", self.signer),
            )
        })?;
        // An organization removed by governance no longer acts (its accounts stay in state).
        let Some(org) = read_org(&self.st, &acct.organization)? else {
            return Err(fail(
                codes::NOT_MEMBER,
                format!(
                    "{} belongs to {:?}, which was removed",
                    self.signer, acct.organization
                ),
            ));
        };
        if acct.has_role(roles::ADMIN) || acct.has_role(roles::OPERATOR) {
            return Ok(acct.organization);
        }
        if org.admins.contains(&self.signer) {
            return Ok(acct.organization);
        }
        Err(fail(
            codes::MISSING_ROLE,
            format!(
                "account {} of {:?} has roles {:?}; acting for the organization needs {:?} or {:?}",
                self.signer,
                acct.organization,
                acct.roles,
                roles::OPERATOR,
                roles::ADMIN
            ),
        ))
    }

    /// Checks that the signer administers `org` and returns the organization's record.
    fn admin_of(&self, org: &str) -> R<OrgRecord> {
        let rec = read_org(&self.st, org)?.ok_or_else(|| {
            fail(
                codes::UNKNOWN_ORGANIZATION,
                format!("no organization {org:?}"),
            )
        })?;
        if rec.admins.contains(&self.signer) {
            return Ok(rec);
        }
        let role_admin = read_account(&self.st, &self.signer)?
            .is_some_and(|a| a.organization == org && a.has_role(roles::ADMIN));
        if role_admin {
            return Ok(rec);
        }
        Err(fail(
            codes::NOT_ADMIN,
            format!("{} is not an admin of {org:?}", self.signer),
        ))
    }

    // ---- records ------------------------------------------------------------------------

    fn item(&self, id: &str) -> R<ItemRecord> {
        read_item(&self.st, id)?.ok_or_else(|| fail(codes::UNKNOWN_ITEM, format!("no item {id:?}")))
    }

    fn put<T: serde::Serialize>(&mut self, what: &str, key: Vec<u8>, value: &T) -> R<()> {
        self.st.put(key, value).map_err(|len| {
            fail(
                codes::RECORD_TOO_LARGE,
                format!(
                    "{what} record would be {len} bytes, the limit is {}",
                    crate::execute::MAX_STATE_VALUE_BYTES
                ),
            )
        })
    }

    /// Writes the record, keeping the item's history head as it is: actions change records,
    /// only [`Cx::record_history`] moves the head (a new item starts at [`HistoryHead::EMPTY`]).
    fn save(&mut self, item: &ItemRecord) -> R<()> {
        let history =
            read_item_state(&self.st, &item.id)?.map_or(HistoryHead::EMPTY, |s| s.history);
        let key = item_key(&item.id);
        self.put(
            "item",
            key,
            &ItemStateRef {
                record: item,
                history: &history,
            },
        )
    }

    fn account_in(&self, org: &str, key: &PublicKey) -> R<AccountRecord> {
        let acct = read_account(&self.st, key)?
            .ok_or_else(|| fail(codes::UNKNOWN_ACCOUNT, format!("no account {key}")))?;
        if acct.organization != org {
            return Err(fail(
                codes::ACCOUNT_NOT_IN_ORGANIZATION,
                format!(
                    "account {key} belongs to {:?}, not {org:?}",
                    acct.organization
                ),
            ));
        }
        Ok(acct)
    }

    // ---- accounts -----------------------------------------------------------------------

    fn add_account(&mut self, a: &AddAccount) -> R<EventRecord> {
        self.admin_of(&a.organization)?;
        if let Some(existing) = read_account(&self.st, &a.key)? {
            return Err(fail(
                codes::ACCOUNT_EXISTS,
                format!(
                    "{} is already an account of {:?}",
                    a.key, existing.organization
                ),
            ));
        }
        let rec = AccountRecord {
            key: a.key,
            organization: a.organization.clone(),
            roles: sorted_roles(&a.roles),
        };
        self.put("account", account_key(&a.key), &rec)?;
        let mut ev = self.event(EventKind::AccountAdded, &a.organization);
        ev.account = Some(a.key);
        Ok(ev)
    }

    fn remove_account(&mut self, a: &RemoveAccount) -> R<EventRecord> {
        let org = self.admin_of(&a.organization)?;
        self.account_in(&a.organization, &a.key)?;
        if org.admins.contains(&a.key) {
            return Err(fail(
                codes::GENESIS_ADMIN,
                format!(
                    "{} is a genesis admin of {:?} and cannot be removed",
                    a.key, a.organization
                ),
            ));
        }
        self.st.delete(account_key(&a.key));
        let mut ev = self.event(EventKind::AccountRemoved, &a.organization);
        ev.account = Some(a.key);
        Ok(ev)
    }

    fn set_roles(&mut self, a: &SetAccountRoles) -> R<EventRecord> {
        self.admin_of(&a.organization)?;
        let mut acct = self.account_in(&a.organization, &a.key)?;
        acct.roles = sorted_roles(&a.roles);
        self.put("account", account_key(&a.key), &acct)?;
        let mut ev = self.event(EventKind::AccountRolesSet, &a.organization);
        ev.account = Some(a.key);
        Ok(ev)
    }

    // ---- items --------------------------------------------------------------------------

    fn commission(&mut self, a: &Commission) -> R<EventRecord> {
        let org = self.actor()?;
        self.require_new(&a.item_id)?;
        let item = new_item(
            &a.item_id,
            &a.item_type,
            &a.properties,
            &org,
            a.location.clone(),
        );
        self.save(&item)?;
        let mut ev = self.event(EventKind::Commission, &org);
        ev.items.push(subject(&a.item_id));
        Ok(ev)
    }

    fn observe(&mut self, a: &Observe) -> R<EventRecord> {
        let org = self.actor()?;
        let mut item = self.item(&a.item_id)?;
        require_active(&item)?;
        require_custodian(&item, &org)?;
        if item.last_observed_ms.is_none_or(|t| a.time_ms >= t) {
            item.last_observed_ms = Some(a.time_ms);
            if a.location.is_some() {
                item.location = a.location.clone();
            }
            self.save(&item)?;
        }
        let mut ev = self.event(EventKind::Observe, &org);
        ev.items.push(subject(&a.item_id));
        Ok(ev)
    }

    fn propose(&mut self, a: &ProposeTransfer) -> R<EventRecord> {
        let org = self.actor()?;
        let item = self.item(&a.item_id)?;
        require_active(&item)?;
        let holder = match a.kind {
            TransferKind::Custody => {
                require_custodian(&item, &org)?;
                &item.custodian
            }
            TransferKind::Ownership => {
                require_owner(&item, &org)?;
                &item.owner
            }
        };
        require_unpacked(&item)?;
        self.require_no_pending(&item.id)?;
        if read_org(&self.st, &a.to_organization)?.is_none() {
            return Err(fail(
                codes::UNKNOWN_ORGANIZATION,
                format!("no organization {:?}", a.to_organization),
            ));
        }
        if &a.to_organization == holder {
            return Err(fail(
                codes::SELF_TRANSFER,
                format!(
                    "{:?} already holds {} of {:?}",
                    holder,
                    a.kind.as_str(),
                    item.id
                ),
            ));
        }
        let pending = PendingTransfer {
            item_id: item.id.clone(),
            kind: a.kind,
            from_organization: org.clone(),
            to_organization: a.to_organization.clone(),
            proposer: self.signer,
            proposal_tx: self.tx_hash,
        };
        self.put("pending transfer", transfer_key(&item.id), &pending)?;
        let kind = match a.kind {
            TransferKind::Custody => EventKind::CustodyProposed,
            TransferKind::Ownership => EventKind::OwnershipProposed,
        };
        let mut ev = self.event(kind, &org);
        ev.organizations = sorted_orgs([&org, &a.to_organization]);
        ev.items.push(subject(&item.id));
        Ok(ev)
    }

    fn respond(&mut self, a: &TransferResponse, response: Response) -> R<EventRecord> {
        let org = self.actor()?;
        let mut item = self.item(&a.item_id)?;
        let pending = read_transfer(&self.st, &a.item_id)?.ok_or_else(|| {
            fail(
                codes::NO_PENDING_TRANSFER,
                format!("no transfer of {:?} is pending", a.item_id),
            )
        })?;
        if pending.kind != a.kind {
            return Err(fail(
                codes::TRANSFER_KIND_MISMATCH,
                format!(
                    "the pending transfer of {:?} is of {}, not {}",
                    a.item_id,
                    pending.kind.as_str(),
                    a.kind.as_str()
                ),
            ));
        }
        let (from, to) = (&pending.from_organization, &pending.to_organization);
        match response {
            Response::Accept | Response::Reject if &org != to => {
                return Err(fail(
                    codes::NOT_RECIPIENT,
                    format!(
                        "the transfer of {:?} is offered to {to:?}, not {org:?}",
                        a.item_id
                    ),
                ))
            }
            Response::Cancel if &org != from => {
                return Err(fail(
                    codes::NOT_PROPOSER,
                    format!(
                        "the transfer of {:?} was proposed by {from:?}, not {org:?}",
                        a.item_id
                    ),
                ))
            }
            _ => {}
        }
        self.st.delete(transfer_key(&a.item_id));
        let custody = a.kind == TransferKind::Custody;
        let kind = match (response, custody) {
            (Response::Accept, true) => EventKind::CustodyAccepted,
            (Response::Accept, false) => EventKind::OwnershipAccepted,
            (Response::Reject, true) => EventKind::CustodyRejected,
            (Response::Reject, false) => EventKind::OwnershipRejected,
            (Response::Cancel, true) => EventKind::CustodyCancelled,
            (Response::Cancel, false) => EventKind::OwnershipCancelled,
        };
        let mut ev = self.event(kind, &org);
        ev.organizations = sorted_orgs([from, to]);
        ev.items.push(subject(&item.id));
        if response == Response::Accept {
            // Custody of everything inside moves with the container; ownership moves for the
            // contents the proposing organization owned (others keep their owner).
            for mut inner in self.descendants(&item)? {
                let moved = if custody {
                    inner.custodian = to.clone();
                    true
                } else if &inner.owner == from {
                    inner.owner = to.clone();
                    true
                } else {
                    false
                };
                if moved {
                    self.save(&inner)?;
                    ev.items.push(ItemRef {
                        item_id: inner.id.clone(),
                        role: ItemRole::Contents,
                    });
                }
            }
            if custody {
                item.custodian = to.clone();
            } else {
                item.owner = to.clone();
            }
            self.save(&item)?;
        }
        Ok(ev)
    }

    /// Every item inside `item`, at any depth, breadth first in packing order.
    fn descendants(&self, item: &ItemRecord) -> R<Vec<ItemRecord>> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::from([item.id.clone()]);
        let mut queue: VecDeque<String> = item.children.iter().cloned().collect();
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id.clone()) || out.len() >= MAX_CONTAINED_ITEMS as usize {
                return Err(Fail::Internal(ExecError::Corrupt {
                    key: String::from_utf8_lossy(&item_key(&item.id)).into_owned(),
                    reason: format!("contents repeat or exceed {MAX_CONTAINED_ITEMS} items"),
                }));
            }
            let inner = read_item(&self.st, &id)?.ok_or_else(|| ExecError::Corrupt {
                key: String::from_utf8_lossy(&item_key(&item.id)).into_owned(),
                reason: format!("child {id:?} does not exist"),
            })?;
            queue.extend(inner.children.iter().cloned());
            out.push(inner);
        }
        Ok(out)
    }

    fn aggregate(&mut self, a: &Packing) -> R<EventRecord> {
        let org = self.actor()?;
        let mut container = self.item(&a.container_id)?;
        require_active(&container)?;
        require_custodian(&container, &org)?;
        require_unpacked(&container)?;
        self.require_no_pending(&container.id)?;
        let mut children = Vec::with_capacity(a.children.len());
        let mut total = u64::from(container.contents_count);
        for id in &a.children {
            if id == &container.id {
                return Err(fail(
                    codes::CYCLE,
                    format!("{id:?} cannot be packed into itself"),
                ));
            }
            let child = self.item(id)?;
            require_active(&child)?;
            require_custodian(&child, &org)?;
            require_unpacked(&child)?;
            self.require_no_pending(id)?;
            total += u64::from(child.contents_count) + 1;
            children.push(child);
        }
        let direct = container.children.len() + children.len();
        if direct > MAX_CONTAINER_CHILDREN || total > u64::from(MAX_CONTAINED_ITEMS) {
            return Err(fail(
                codes::TOO_MANY_CONTENTS,
                format!(
                    "{:?} would hold {direct} items directly (limit {MAX_CONTAINER_CHILDREN}) \
                     and {total} in all (limit {MAX_CONTAINED_ITEMS})",
                    container.id
                ),
            ));
        }
        let mut ev = self.event(EventKind::Aggregate, &org);
        ev.items.push(container_ref(&container.id));
        for mut child in children {
            child.parent = Some(container.id.clone());
            container.children.push(child.id.clone());
            ev.items.push(child_ref(&child.id));
            self.save(&child)?;
        }
        container.contents_count = total as u32; // <= MAX_CONTAINED_ITEMS
        self.save(&container)?;
        Ok(ev)
    }

    fn disaggregate(&mut self, a: &Packing) -> R<EventRecord> {
        let org = self.actor()?;
        let mut container = self.item(&a.container_id)?;
        require_active(&container)?;
        require_custodian(&container, &org)?;
        require_unpacked(&container)?;
        self.require_no_pending(&container.id)?;
        let mut ev = self.event(EventKind::Disaggregate, &org);
        ev.items.push(container_ref(&container.id));
        let mut removed = Vec::with_capacity(a.children.len());
        for id in &a.children {
            let child = self.item(id)?;
            if child.parent.as_deref() != Some(container.id.as_str()) {
                return Err(fail(
                    codes::CONTAINER_MISMATCH,
                    format!(
                        "{id:?} is not packed in {:?} (its container: {:?})",
                        container.id, child.parent
                    ),
                ));
            }
            removed.push(child);
        }
        for mut child in removed {
            child.parent = None;
            container.children.retain(|c| c != &child.id);
            container.contents_count = container
                .contents_count
                .saturating_sub(child.contents_count.saturating_add(1));
            ev.items.push(child_ref(&child.id));
            self.save(&child)?;
        }
        self.save(&container)?;
        Ok(ev)
    }

    fn transform(&mut self, a: &Transform) -> R<EventRecord> {
        let org = self.actor()?;
        let mut inputs = Vec::with_capacity(a.inputs.len());
        for id in &a.inputs {
            let input = self.item(id)?;
            require_active(&input)?;
            require_custodian(&input, &org)?;
            require_unpacked(&input)?;
            require_empty(&input)?;
            self.require_no_pending(id)?;
            inputs.push(input);
        }
        for o in &a.outputs {
            self.require_new(&o.item_id)?;
        }
        let output_ids: Vec<String> = a.outputs.iter().map(|o| o.item_id.clone()).collect();
        let mut ev = self.event(EventKind::Transform, &org);
        for mut input in inputs {
            input.status = ItemStatus::Consumed;
            input.transformed_into = output_ids.clone();
            ev.items.push(ItemRef {
                item_id: input.id.clone(),
                role: ItemRole::Input,
            });
            self.save(&input)?;
        }
        for o in &a.outputs {
            let mut item = new_item(
                &o.item_id,
                &o.item_type,
                &o.properties,
                &org,
                a.location.clone(),
            );
            item.derived_from = a.inputs.clone();
            ev.items.push(ItemRef {
                item_id: item.id.clone(),
                role: ItemRole::Output,
            });
            self.save(&item)?;
        }
        Ok(ev)
    }

    fn attach(&mut self, a: &AttachDocument) -> R<EventRecord> {
        let org = self.actor()?;
        let mut item = self.item(&a.item_id)?;
        if item.owner != org && item.custodian != org {
            return Err(fail(
                codes::NOT_OWNER_OR_CUSTODIAN,
                format!(
                    "{:?} is owned by {:?} and held by {:?}, not {org:?}",
                    item.id, item.owner, item.custodian
                ),
            ));
        }
        if item.document_count >= MAX_DOCUMENTS_PER_ITEM {
            return Err(fail(
                codes::TOO_MANY_DOCUMENTS,
                format!(
                    "{:?} already has {} documents, the limit is {MAX_DOCUMENTS_PER_ITEM}",
                    item.id, item.document_count
                ),
            ));
        }
        let doc = DocumentRecord {
            item_id: item.id.clone(),
            index: item.document_count,
            hash_algorithm: a.hash_algorithm,
            hash: a.hash,
            uri: a.uri.clone(),
            media_type: a.media_type.clone(),
            attached_by: org.clone(),
            attach_tx: self.tx_hash,
        };
        self.put("document", document_key(&item.id, doc.index), &doc)?;
        item.document_count += 1;
        self.save(&item)?;
        let mut ev = self.event(EventKind::DocumentAttached, &org);
        ev.items.push(subject(&item.id));
        Ok(ev)
    }

    fn decommission(&mut self, a: &Decommission) -> R<EventRecord> {
        let org = self.actor()?;
        let mut item = self.item(&a.item_id)?;
        require_active(&item)?;
        require_owner(&item, &org)?;
        require_unpacked(&item)?;
        require_empty(&item)?;
        self.require_no_pending(&item.id)?;
        item.status = ItemStatus::Decommissioned;
        item.decommission_reason = a.reason.clone();
        self.save(&item)?;
        let mut ev = self.event(EventKind::Decommission, &org);
        ev.items.push(subject(&item.id));
        Ok(ev)
    }

    // ---- shared checks ------------------------------------------------------------------

    fn require_new(&self, id: &str) -> R<()> {
        if let Some(existing) = read_item(&self.st, id)? {
            return Err(fail(
                codes::ITEM_EXISTS,
                format!(
                    "item {id:?} already exists ({}, owned by {:?})",
                    existing.status.as_str(),
                    existing.owner
                ),
            ));
        }
        Ok(())
    }

    fn require_no_pending(&self, id: &str) -> R<()> {
        if let Some(p) = read_transfer(&self.st, id)? {
            return Err(fail(
                codes::TRANSFER_PENDING,
                format!(
                    "a transfer of {} of {id:?} from {:?} to {:?} is pending",
                    p.kind.as_str(),
                    p.from_organization,
                    p.to_organization
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Response {
    Accept,
    Reject,
    Cancel,
}

fn require_active(item: &ItemRecord) -> R<()> {
    match item.status {
        ItemStatus::Active => Ok(()),
        ItemStatus::Consumed => Err(fail(
            codes::ITEM_CONSUMED,
            format!(
                "{:?} was consumed by a transform into {:?}",
                item.id, item.transformed_into
            ),
        )),
        ItemStatus::Decommissioned => Err(fail(
            codes::ITEM_DECOMMISSIONED,
            format!("{:?} is decommissioned", item.id),
        )),
    }
}

fn require_custodian(item: &ItemRecord, org: &str) -> R<()> {
    if item.custodian != org {
        return Err(fail(
            codes::NOT_CUSTODIAN,
            format!("{:?} is held by {:?}, not {org:?}", item.id, item.custodian),
        ));
    }
    Ok(())
}

fn require_owner(item: &ItemRecord, org: &str) -> R<()> {
    if item.owner != org {
        return Err(fail(
            codes::NOT_OWNER,
            format!("{:?} is owned by {:?}, not {org:?}", item.id, item.owner),
        ));
    }
    Ok(())
}

fn require_unpacked(item: &ItemRecord) -> R<()> {
    if let Some(parent) = &item.parent {
        return Err(fail(
            codes::ITEM_IN_CONTAINER,
            format!("{:?} is packed in {parent:?}", item.id),
        ));
    }
    Ok(())
}

fn require_empty(item: &ItemRecord) -> R<()> {
    if !item.children.is_empty() {
        return Err(fail(
            codes::CONTAINER_NOT_EMPTY,
            format!("{:?} still holds {} items", item.id, item.children.len()),
        ));
    }
    Ok(())
}

fn new_item(
    id: &str,
    item_type: &str,
    properties: &Properties,
    org: &str,
    location: Option<String>,
) -> ItemRecord {
    ItemRecord {
        id: id.to_string(),
        item_type: item_type.to_string(),
        owner: org.to_string(),
        custodian: org.to_string(),
        status: ItemStatus::Active,
        properties: properties.clone(),
        location,
        last_observed_ms: None,
        parent: None,
        children: Vec::new(),
        contents_count: 0,
        derived_from: Vec::new(),
        transformed_into: Vec::new(),
        document_count: 0,
        decommission_reason: None,
    }
}

fn sorted_roles(roles: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = roles.iter().collect();
    set.into_iter().cloned().collect()
}

fn sorted_orgs<'a>(orgs: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let set: BTreeSet<&String> = orgs.into_iter().collect();
    set.into_iter().cloned().collect()
}

fn subject(id: &str) -> ItemRef {
    ItemRef {
        item_id: id.to_string(),
        role: ItemRole::Subject,
    }
}

fn container_ref(id: &str) -> ItemRef {
    ItemRef {
        item_id: id.to_string(),
        role: ItemRole::Container,
    }
}

fn child_ref(id: &str) -> ItemRef {
    ItemRef {
        item_id: id.to_string(),
        role: ItemRole::Child,
    }
}

/// Writes the genesis organizations and accounts (see [`super::genesis_state`]).
pub(super) fn genesis_writes(genesis: &crate::genesis::Genesis) -> StateDelta {
    let mut delta = StateDelta::new();
    let mut accounts: BTreeMap<PublicKey, AccountRecord> = BTreeMap::new();
    for a in &genesis.accounts {
        accounts.entry(a.key).or_insert_with(|| AccountRecord {
            key: a.key,
            organization: a.organization.clone(),
            roles: sorted_roles(&a.roles),
        });
    }
    for o in &genesis.organizations {
        let rec = OrgRecord {
            id: o.id.clone(),
            name: o.name.clone(),
            admins: o.admins.clone(),
        };
        delta.insert(org_key(&o.id), Some(crate::encoding::to_canonical(&rec)));
        for admin in &o.admins {
            accounts.entry(*admin).or_insert_with(|| AccountRecord {
                key: *admin,
                organization: o.id.clone(),
                roles: vec![roles::ADMIN.to_string()],
            });
        }
    }
    for (k, rec) in accounts {
        delta.insert(account_key(&k), Some(crate::encoding::to_canonical(&rec)));
    }
    delta
}
