// Transactions, receipts and events in plain words: what a person reads instead of JSON.

import { h, link, routes, time } from "./dom.js";

type Child = Node | string;

/** A JSON value as text: strings as they are, the rest as JSON. */
export function valueText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return JSON.stringify(v);
}

const itemLink = (id: string) => link(routes.item(id), id);
const orgLink = (id: string) => link(routes.org(id), id);

function list(ids: string[], f: (id: string) => Child): Child[] {
  const out: Child[] = [];
  ids.forEach((id, i) => {
    if (i > 0) out.push(i === ids.length - 1 ? " and " : ", ");
    out.push(f(id));
  });
  return out;
}

function props(p: Record<string, unknown> | undefined): string {
  const entries = Object.entries(p ?? {});
  return entries.length ? ` with ${entries.map(([k, v]) => `${k} = ${valueText(v)}`).join(", ")}` : "";
}

/** One sentence saying what a payload does, with links to the items and organizations it names. */
export function payloadWords(payload: Record<string, any>): HTMLElement {
  const [kind, a] = Object.entries(payload)[0] ?? ["unknown", {}];
  const p = (...c: Child[]) => h("span", { class: "words" }, ...c);
  const at = (loc?: string | null) => (loc ? ` at ${loc}` : "");
  switch (kind) {
    case "memo":
      return p(`Memo of ${a.data.length / 2} bytes${memoText(a.data)}`);
    case "add_account":
      return p("Adds account ", link(routes.account(a.key), a.key.slice(0, 12) + "…"), " to ", orgLink(a.organization), a.roles?.length ? ` with roles ${a.roles.join(", ")}` : "");
    case "remove_account":
      return p("Removes account ", link(routes.account(a.key), a.key.slice(0, 12) + "…"), " from ", orgLink(a.organization));
    case "set_account_roles":
      return p("Sets the roles of ", link(routes.account(a.key), a.key.slice(0, 12) + "…"), " in ", orgLink(a.organization), ` to ${a.roles.join(", ") || "none"}`);
    case "commission":
      return p("Commissions ", itemLink(a.item_id), `, a ${a.item_type}${props(a.properties)}${at(a.location)}`);
    case "observe": {
      const readings = (a.readings ?? []).map((r: any) => `${r.kind} ${valueText(r.value)}${r.unit ? " " + r.unit : ""}`);
      return p("Observes ", itemLink(a.item_id), `${at(a.location)}${readings.length ? ": " + readings.join(", ") : ""} (recorded time ${time(Number(a.time_ms))})`);
    }
    case "propose_transfer":
      return p(`Proposes to pass ${a.kind} of `, itemLink(a.item_id), " to ", orgLink(a.to_organization));
    case "accept_transfer":
      return p(`Accepts ${a.kind} of `, itemLink(a.item_id));
    case "reject_transfer":
      return p(`Rejects ${a.kind} of `, itemLink(a.item_id));
    case "cancel_transfer":
      return p(`Cancels the proposed ${a.kind} transfer of `, itemLink(a.item_id));
    case "aggregate":
      return p("Packs ", ...list(a.children, itemLink), " into ", itemLink(a.container_id));
    case "disaggregate":
      return p("Unpacks ", ...list(a.children, itemLink), " from ", itemLink(a.container_id));
    case "transform":
      return p(
        "Transforms ",
        ...list(a.inputs, itemLink),
        " into ",
        ...list(
          a.outputs.map((o: any) => o.item_id),
          itemLink,
        ),
        at(a.location),
      );
    case "attach_document":
      return p("Attaches document ", h("span", { class: "uri" }, a.uri), ` (${a.media_type}, ${a.hash_algorithm} ${a.hash.slice(0, 12)}…) to `, itemLink(a.item_id));
    case "decommission":
      return p("Decommissions ", itemLink(a.item_id), a.reason ? `: ${a.reason}` : "");
    case "propose_change":
      return p(orgLink(a.organization), ` proposes ${changeWords(a.change)}`);
    case "approve_change":
      return p(orgLink(a.organization), " approves the change proposed in ", link(routes.tx(a.proposal), a.proposal.slice(0, 12) + "…"));
    default:
      return p(`${kind.replace(/_/g, " ")}: ${JSON.stringify(a)}`);
  }
}

/** A governance change (`{"add_validator": {...}}`, ...) in words. */
function changeWords(change: Record<string, any>): string {
  const [kind, c] = Object.entries(change)[0] ?? ["unknown", {}];
  switch (kind) {
    case "add_validator":
      return `adding validator ${c.name} (power ${c.power ?? 1})`;
    case "remove_validator":
      return `removing validator ${c.name}`;
    case "set_validator_power":
      return `setting the power of validator ${c.name} to ${c.power}`;
    case "rotate_consensus_key":
      return `a new consensus key for validator ${c.name}`;
    case "rotate_network_key":
      return `a new network key for validator ${c.name}`;
    case "add_organization":
      return `adding organization ${c.id} (${c.name})`;
    case "remove_organization":
      return `removing organization ${c.id}`;
    default:
      return `${kind.replace(/_/g, " ")}: ${JSON.stringify(c)}`;
  }
}

function memoText(hex: string): string {
  try {
    const bytes = new Uint8Array(hex.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return /^[\P{C}\s]*$/u.test(text) ? `: “${text}”` : "";
  } catch {
    return "";
  }
}

/** The payload kind in words: "commission", "accept transfer", ... */
export function payloadKind(payload: Record<string, unknown>): string {
  return (Object.keys(payload)[0] ?? "unknown").replace(/_/g, " ");
}

const EVENT_WORDS: Record<string, string> = {
  account_added: "account added",
  account_removed: "account removed",
  account_roles_set: "account roles set",
  commission: "commissioned",
  observe: "observed",
  custody_proposed: "custody transfer proposed",
  custody_accepted: "custody accepted",
  custody_rejected: "custody transfer rejected",
  custody_cancelled: "custody transfer cancelled",
  ownership_proposed: "ownership transfer proposed",
  ownership_accepted: "ownership accepted",
  ownership_rejected: "ownership transfer rejected",
  ownership_cancelled: "ownership transfer cancelled",
  aggregate: "packed",
  disaggregate: "unpacked",
  transform: "transformed",
  document_attached: "document attached",
  decommission: "decommissioned",
};

export function eventWords(kind: string): string {
  return EVENT_WORDS[kind] ?? kind.replace(/_/g, " ");
}

const ROLE_WORDS: Record<string, string> = {
  subject: "the item itself",
  container: "as the container",
  child: "packed or unpacked",
  contents: "inside a container that moved",
  input: "as an input",
  output: "as an output",
};

export function roleWords(role: string): string {
  return ROLE_WORDS[role] ?? role;
}

/** A receipt's status: success, or the failure code and message, clearly marked. */
export function statusBadge(status: unknown): HTMLElement {
  if (status === "success") return h("span", { class: "badge ok" }, "success");
  const f = (status as { failed?: { code: string; message: string } })?.failed;
  return h("span", { class: "badge bad" }, f ? `failed: ${f.code}` : "unknown status");
}
