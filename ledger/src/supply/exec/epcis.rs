//! Applying a captured EPCIS event ([`crate::epcis::capture`]): its [`Effect`] becomes the
//! ledger's own actions, under their permissions and rules, in one transaction (all of them or
//! none); the event's hash ID is recorded in state ([`EpcisRecord`]) so that it is findable,
//! provable, never captured twice, and declared erroneous at most once, by its capturer.

use super::*;
use crate::epcis::capture::{Effect, EpcisCapture, NewItem as EpcisNewItem, PlanError};

impl Cx<'_> {
    pub(super) fn capture_epcis(&mut self, c: &EpcisCapture) -> R<EventRecord> {
        let org = self.actor()?;
        let plan = c.plan().map_err(|e| match e {
            PlanError::Invalid(m) => fail(codes::INVALID_EPCIS_EVENT, m),
            PlanError::Unsupported(m) => fail(codes::UNSUPPORTED_EPCIS_EVENT, m),
            PlanError::UnknownParty(m) => fail(codes::UNKNOWN_PARTY, m),
        })?;
        let key = epcis_key(&plan.hash_id);
        let existing = read_epcis(&self.st, &plan.hash_id)?;
        if plan.error_declaration {
            let mut rec = existing.ok_or_else(|| {
                fail(
                    codes::UNKNOWN_EVENT,
                    format!(
                        "the error declaration names event {}, which the ledger does not hold",
                        plan.hash_id
                    ),
                )
            })?;
            if rec.organization != org {
                return Err(fail(
                    codes::NOT_CAPTURER,
                    format!(
                        "event {} was captured by {:?}; only it may declare the event erroneous",
                        plan.hash_id, rec.organization
                    ),
                ));
            }
            if let Some(tx) = rec.declared_erroneous {
                return Err(fail(
                    codes::ALREADY_DECLARED,
                    format!(
                        "event {} was declared erroneous already, by transaction {tx}",
                        plan.hash_id
                    ),
                ));
            }
            rec.declared_erroneous = Some(self.tx_hash);
            self.put("epcis event", key, &rec)?;
            let mut ev = self.event(EventKind::ErrorDeclaration, &org);
            for id in plan.effect.items() {
                if read_item(&self.st, &id)?.is_some() {
                    ev.items.push(subject(&id));
                }
            }
            ev.epcis = Some(plan.hash_id);
            return Ok(ev);
        }
        if let Some(rec) = existing {
            return Err(fail(
                codes::DUPLICATE_EVENT,
                format!(
                    "event {} was captured already, by {:?} in transaction {}",
                    plan.hash_id, rec.organization, rec.tx_hash
                ),
            ));
        }
        let time_ms = u64::try_from(plan.event_time_ms).map_err(|_| {
            fail(
                codes::INVALID_EPCIS_EVENT,
                "eventTime before 1970 is not recorded".into(),
            )
        })?;
        let mut ev = self.apply_effect(&org, &plan.effect, time_ms, plan.location.as_ref())?;
        self.put(
            "epcis event",
            key,
            &EpcisRecord {
                tx_hash: self.tx_hash,
                organization: org,
                declared_erroneous: None,
            },
        )?;
        ev.epcis = Some(plan.hash_id);
        Ok(ev)
    }

    fn apply_effect(
        &mut self,
        org: &str,
        effect: &Effect,
        time_ms: u64,
        location: Option<&String>,
    ) -> R<EventRecord> {
        let mut acc: Option<EventRecord> = None;
        let kind = match effect {
            Effect::Commission(items) => {
                for item in items {
                    let ev = self.commission_new(item, location)?;
                    merge(&mut acc, ev);
                }
                EventKind::Commission
            }
            Effect::Observe { items, sensor } => {
                for id in items {
                    let a = Observe {
                        item_id: id.clone(),
                        time_ms,
                        location: location.cloned(),
                        readings: Vec::new(),
                    };
                    checked(a.check())?;
                    let ev = self.observe(&a)?;
                    merge(&mut acc, ev);
                }
                if *sensor {
                    EventKind::SensorReport
                } else {
                    EventKind::Observe
                }
            }
            Effect::ProposeTransfer {
                items,
                kind: TransferKind::Ownership,
                to,
            } if to == org => {
                // The new owner's own record of the transaction: it accepts what was offered.
                self.respond_all(items, TransferKind::Ownership, Response::Accept, &mut acc)?;
                EventKind::OwnershipAccepted
            }
            Effect::ProposeTransfer { items, kind, to } => {
                for id in items {
                    let a = ProposeTransfer {
                        item_id: id.clone(),
                        kind: *kind,
                        to_organization: to.clone(),
                    };
                    checked(a.check())?;
                    let ev = self.propose(&a)?;
                    merge(&mut acc, ev);
                }
                match kind {
                    TransferKind::Custody => EventKind::CustodyProposed,
                    TransferKind::Ownership => EventKind::OwnershipProposed,
                }
            }
            Effect::AcceptTransfer { items, kind } => {
                self.respond_all(items, *kind, Response::Accept, &mut acc)?;
                match kind {
                    TransferKind::Custody => EventKind::CustodyAccepted,
                    TransferKind::Ownership => EventKind::OwnershipAccepted,
                }
            }
            Effect::Decommission { items, reason } => {
                for id in items {
                    let a = Decommission {
                        item_id: id.clone(),
                        reason: Some(reason.chars().take(MAX_REASON_LEN).collect()),
                    };
                    checked(a.check())?;
                    let ev = self.decommission(&a)?;
                    merge(&mut acc, ev);
                }
                EventKind::Decommission
            }
            Effect::Aggregate { parent, children } => {
                if read_item(&self.st, &parent.id)?.is_none() {
                    let ev = self.commission_new(parent, location)?;
                    merge(&mut acc, ev);
                }
                let a = Packing {
                    container_id: parent.id.clone(),
                    children: children.clone(),
                };
                checked(a.check())?;
                let ev = self.aggregate(&a)?;
                merge(&mut acc, ev);
                EventKind::Aggregate
            }
            Effect::Disaggregate { parent, children } => {
                let children = if children.is_empty() {
                    self.item(parent)?.children
                } else {
                    children.clone()
                };
                if children.is_empty() {
                    return Err(fail(
                        codes::INVALID_EPCIS_EVENT,
                        format!("{parent:?} holds nothing to unpack"),
                    ));
                }
                let a = Packing {
                    container_id: parent.clone(),
                    children,
                };
                checked(a.check())?;
                let ev = self.disaggregate(&a)?;
                merge(&mut acc, ev);
                EventKind::Disaggregate
            }
            Effect::Transform { inputs, outputs } => {
                let a = Transform {
                    inputs: inputs.clone(),
                    outputs: outputs
                        .iter()
                        .map(|o| NewItem {
                            item_id: o.id.clone(),
                            item_type: o.item_type.clone(),
                            properties: Properties::new(),
                        })
                        .collect(),
                    location: location.cloned(),
                };
                checked(a.check())?;
                let ev = self.transform(&a)?;
                merge(&mut acc, ev);
                EventKind::Transform
            }
            Effect::Associate { items } => {
                // Items the ledger does not know (a sensor device, say) are named in the event
                // only; each known one must be the capturer's, as owner or custodian.
                let mut ev = self.event(EventKind::Associate, org);
                for id in items {
                    if let Some(item) = read_item(&self.st, id)? {
                        require_owner_or_custodian(&item, org)?;
                        ev.items.push(subject(id));
                    }
                }
                merge(&mut acc, ev);
                EventKind::Associate
            }
            Effect::BusinessTransaction { items, delete } => {
                let cancels = *delete && self.all_pending_from(items, org)?;
                if cancels {
                    self.respond_all(items, TransferKind::Ownership, Response::Cancel, &mut acc)?;
                    EventKind::OwnershipCancelled
                } else {
                    let mut ev = self.event(EventKind::BusinessTransaction, org);
                    for id in items {
                        let item = self.item(id)?;
                        require_owner_or_custodian(&item, org)?;
                        ev.items.push(subject(id));
                    }
                    merge(&mut acc, ev);
                    EventKind::BusinessTransaction
                }
            }
        };
        let mut ev = acc.unwrap_or_else(|| self.event(kind, org));
        ev.kind = kind;
        Ok(ev)
    }

    fn commission_new(&mut self, item: &EpcisNewItem, location: Option<&String>) -> R<EventRecord> {
        let a = Commission {
            item_id: item.id.clone(),
            item_type: item.item_type.clone(),
            properties: Properties::new(),
            location: location.cloned(),
        };
        checked(a.check())?;
        self.commission(&a)
    }

    fn respond_all(
        &mut self,
        items: &[String],
        kind: TransferKind,
        response: Response,
        acc: &mut Option<EventRecord>,
    ) -> R<()> {
        for id in items {
            let a = TransferResponse {
                item_id: id.clone(),
                kind,
            };
            checked(a.check())?;
            let ev = self.respond(&a, response)?;
            merge(acc, ev);
        }
        Ok(())
    }

    /// Whether every item has a pending ownership transfer proposed by `org`.
    fn all_pending_from(&self, items: &[String], org: &str) -> R<bool> {
        for id in items {
            match read_transfer(&self.st, id)? {
                Some(p) if p.kind == TransferKind::Ownership && p.from_organization == org => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }
}

/// A constructed action's own limits, as `invalid_epcis_event`.
fn checked(r: Result<(), crate::tx::TxError>) -> R<()> {
    r.map_err(|e| fail(codes::INVALID_EPCIS_EVENT, e.to_string()))
}

/// Folds the record of one sub-action into the event's record.
fn merge(acc: &mut Option<EventRecord>, ev: EventRecord) {
    match acc {
        None => *acc = Some(ev),
        Some(a) => {
            a.items.extend(ev.items);
            let orgs: BTreeSet<String> =
                a.organizations.drain(..).chain(ev.organizations).collect();
            a.organizations = orgs.into_iter().collect();
        }
    }
}
