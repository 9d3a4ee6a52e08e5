// The validators: genesis names, the organization each belongs to (its member bundle in the
// genesis ceremony record), power, whether this node is connected to it, and the last block it
// proposed and voted for, read from the latest blocks' quorum certificates.

import { badge, h, link, replace, routes, short, table } from "../dom.js";
import { api, type ValidatorInfo } from "../node.js";
import { readQc } from "../qc.js";

/** How many recent blocks are read for votes and proposals. */
const SCAN = 60;

export async function validators(main: HTMLElement): Promise<void> {
  const [vals, status, head, orgs] = await Promise.all([api.validators(), api.status(), api.head(), api.organizations().catch(() => [])]);
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  const voted = new Map<number, number>();
  const proposed = new Map<string, number>();
  for (let height = head.height; height > 0 && height > head.height - SCAN; height--) {
    const b = await api.block(height);
    if (!b) break;
    if (!proposed.has(b.block.header.proposer)) proposed.set(b.block.header.proposer, height);
    // A block's `justify` certifies its parent: its signers voted for height - 1. Their indexes
    // are in their epoch's list; this page lists the genesis set (epoch 0).
    const qc = readQc(b.block.header.justify);
    if (qc?.epoch === 0) for (const i of qc.signers) if (!voted.has(i)) voted.set(i, height - 1);
    if (voted.size === vals.length && proposed.size === vals.length) break;
  }
  const connected = new Set(status.peer_names ?? []);
  const liveness = (v: ValidatorInfo) =>
    v.consensus_key === status.validator_key ? badge("this node", "info") : connected.has(v.name) || (status.peers ?? []).includes(v.peer_id) ? badge("connected", "ok") : badge("not connected to this node", "warn");
  const lastVote = (i: number) => {
    const at = voted.get(i);
    return at === undefined ? h("span", { class: "muted" }, `none in the last ${SCAN} blocks`) : link(routes.block(at), String(at));
  };
  const lastProposal = (v: ValidatorInfo) => {
    const at = proposed.get(v.consensus_key);
    return at === undefined ? h("span", { class: "muted" }, `none in the last ${SCAN} blocks`) : link(routes.block(at), String(at));
  };
  const total = vals.reduce((n, v) => n + v.power, 0);
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Validators"),
    h("p", { class: "muted" }, `${vals.length} validators, total power ${total}; a certificate needs power ${Math.floor((2 * total) / 3) + 1}. Connections are as node ${status.name} sees them.`),
    table(
      ["Name", "Organization", "Power", "Liveness", "Last voted for block", "Last proposed block", "Consensus key"],
      vals.map((v, i) => [
        h("strong", {}, v.name),
        v.organization ? [link(routes.org(v.organization), orgName.get(v.organization) ?? v.organization)] : h("span", { class: "muted" }, "not recorded"),
        String(v.power),
        liveness(v),
        lastVote(i),
        lastProposal(v),
        short(v.consensus_key),
      ]),
    ),
  );
}
