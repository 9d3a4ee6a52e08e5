// One item: its current state and properties, custody and ownership over time, its history as a
// timeline (kept current by the item subscription), its provenance graph, and "verify" for its
// state and for its whole history.

import { facts, h, link, message, replace, routes, section, short, table, time } from "../dom.js";
import { provenanceGraph } from "../graph.js";
import { api, onItemEvent, type HistoryEntry, type ItemView, type TxInfo } from "../node.js";
import { proofBox, proofName } from "../proofbox.js";
import { eventWords, payloadWords, roleWords, valueText } from "../words.js";

/** Entries read for the timeline; beyond it the page says so. */
const HISTORY_LIMIT = 500;

interface Held {
  org: string;
  from: number;
  tx: string;
}

/** Who held custody and ownership from which height, from the item's events in order. */
export function holders(history: HistoryEntry[]): { custody: Held[]; ownership: Held[] } {
  const custody: Held[] = [];
  const ownership: Held[] = [];
  const change = (list: Held[], org: string, e: HistoryEntry) => {
    if (list[list.length - 1]?.org !== org) list.push({ org, from: e.height, tx: e.tx_hash });
  };
  for (const e of history) {
    const made = e.kind === "commission" || (e.kind === "transform" && e.roles.includes("output"));
    if (made) {
      change(custody, e.organization, e);
      change(ownership, e.organization, e);
    }
    if (e.kind === "custody_accepted") change(custody, e.organization, e);
    if (e.kind === "ownership_accepted") change(ownership, e.organization, e);
  }
  return { custody, ownership };
}

function heldTable(list: Held[], times: Map<number, number>): HTMLElement {
  if (!list.length) return message("No record yet.");
  return table(
    ["Organization", "From height", "Until", "Event"],
    list.map((x, i) => [
      link(routes.org(x.org), x.org),
      [link(routes.block(x.from), String(x.from)), times.has(x.from) ? ` (${time(times.get(x.from))})` : ""],
      list[i + 1] ? link(routes.block(list[i + 1].from), String(list[i + 1].from)) : "now",
      link(routes.tx(x.tx), short(x.tx)),
    ]),
  );
}

function stateFacts(v: ItemView): HTMLElement {
  const it = v.item;
  const items = (ids: string[]) => (ids.length ? ids.flatMap((id, i) => [i ? ", " : "", link(routes.item(id), id)]) : "none");
  const pt = v.pending_transfer;
  return facts([
    ["Type", it.item_type],
    ["Status", h("span", { class: `badge ${it.status === "active" ? "ok" : "warn"}` }, it.status)],
    ["Owner", link(routes.org(it.owner), it.owner)],
    ["Custodian", link(routes.org(it.custodian), it.custodian)],
    ["Location", it.location ?? "not recorded"],
    ["Last observed", it.last_observed_ms === null ? "never" : time(it.last_observed_ms)],
    ["Packed in", it.parent ? link(routes.item(it.parent), it.parent) : "nothing"],
    ["Contains", items(it.children)],
    ["Made from", items(it.derived_from)],
    ["Became", items(it.transformed_into)],
    ["Pending transfer", pt ? [`${pt.kind} from `, link(routes.org(pt.from_organization), pt.from_organization), " to ", link(routes.org(pt.to_organization), pt.to_organization)] : "none"],
    ["Decommissioned because", it.decommission_reason ?? "not decommissioned"],
    ["Read at height", String(v.height)],
  ]);
}

function timelineEntry(e: HistoryEntry, tx: TxInfo | null | undefined, times: Map<number, number>): HTMLElement {
  return h(
    "li",
    { "data-ledger-index": String(e.ledger_index) },
    h("div", { class: "when" }, link(routes.block(e.height), `height ${e.height}`), times.has(e.height) ? ` · ${time(times.get(e.height))}` : ""),
    h(
      "div",
      { class: "what" },
      h("strong", {}, eventWords(e.kind)),
      " by ",
      link(routes.org(e.organization), e.organization),
      e.roles.includes("subject") ? "" : ` (${e.roles.map(roleWords).join(", ")})`,
    ),
    tx ? h("div", { class: "detail" }, payloadWords(tx.tx.tx.payload as Record<string, unknown>)) : null,
    h("div", { class: "tx" }, "transaction ", link(routes.tx(e.tx_hash), short(e.tx_hash))),
  );
}

export async function item(main: HTMLElement, id: string): Promise<() => void> {
  const [view, page, prov] = await Promise.all([api.item(id), api.history(id, 0, HISTORY_LIMIT), api.provenance(id)]);
  const history = page.entries;
  const heights = [...new Set(history.map((e) => e.height))].slice(-100);
  const [txs, blocks] = await Promise.all([
    Promise.all(history.slice(-100).map((e) => api.transaction(e.tx_hash).catch(() => null))),
    Promise.all(heights.map((height) => api.block(height).catch(() => null))),
  ]);
  const txOf = new Map(history.slice(-100).map((e, i) => [e.tx_hash, txs[i]]));
  const times = new Map<number, number>();
  blocks.forEach((b, i) => b && times.set(heights[i], b.block.header.timestamp_ms));
  const timeline = h("ol", { class: "timeline", id: "timeline" }, history.map((e) => timelineEntry(e, txOf.get(e.tx_hash), times)));
  const held = holders(history);
  const stateBox = h("div", { id: "item-state" }, view ? stateFacts(view) : message("No such item has been commissioned. A proof of its absence can still be verified."));
  const props = view ? Object.entries(view.item.properties) : [];
  replace(
    main,
    h("h1", { tabindex: "-1" }, `Item ${id}`),
    stateBox,
    view ? section("Properties", props.length ? table(["Property", "Value"], props.map(([k, v]) => [k, valueText(v)])) : message("No properties.")) : null,
    section(
      "Verify",
      h("p", {}, "Checks in this browser, against the genesis file you pinned, that the validators certified this item's state, or its whole history with none of its events left out."),
      h("div", { class: "proof-actions" }, proofBox("Verify current state", "waybill_getItemProof", [id], proofName("item", id)), proofBox("Verify whole history", "waybill_getItemHistoryProof", [id], proofName("history", id))),
    ),
    section("Provenance", provenanceGraph(id, prov, history)),
    view && view.documents.length
      ? section(
          "Documents",
          table(
            ["#", "Document", "Type", "Hash", "Attached by"],
            view.documents.map((d) => [String(d.index), h("span", { class: "uri" }, d.uri), d.media_type, [`${d.hash_algorithm} `, short(d.hash)], [link(routes.org(d.attached_by), d.attached_by), " in ", link(routes.tx(d.attach_tx), short(d.attach_tx))]]),
          ),
        )
      : null,
    section("Custody over time", heldTable(held.custody, times)),
    section("Ownership over time", heldTable(held.ownership, times)),
    section(
      `History (${history.length}${page.next_from !== null ? "+" : ""} events)`,
      timeline,
      history.length ? null : h("p", { class: "muted", id: "timeline-empty" }, "No events yet. New ones appear here as they commit."),
      page.next_from !== null ? message(`The first ${HISTORY_LIMIT} events are shown.`) : null,
    ),
  );
  return onItemEvent(id, async (ev) => {
    if (timeline.querySelector(`[data-ledger-index="${ev.entry.ledger_index}"]`)) return;
    const [t, b, v] = await Promise.all([api.transaction(ev.entry.tx_hash).catch(() => null), api.block(ev.entry.height).catch(() => null), api.item(id).catch(() => null)]);
    if (b) times.set(ev.entry.height, b.block.header.timestamp_ms);
    main.querySelector("#timeline-empty")?.remove();
    timeline.appendChild(timelineEntry(ev.entry, t, times));
    if (v) replace(stateBox, stateFacts(v));
  });
}
