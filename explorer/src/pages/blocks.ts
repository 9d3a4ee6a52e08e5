// Blocks: a page of heights from the head down, and one block with its header, the validators
// whose certificate it carries, and its transactions decoded with their receipts.

import { badge, facts, full, h, link, message, replace, routes, section, short, table, time } from "../dom.js";
import { api, type ValidatorInfo } from "../node.js";
import { readQc } from "../qc.js";
import { blockHash } from "../verdict.js";
import { payloadKind, payloadWords, statusBadge } from "../words.js";

const PAGE = 20;
/** Receipts are fetched for at most this many of a block's transactions. */
const RECEIPTS = 200;

export async function blockList(main: HTMLElement, from?: number): Promise<void> {
  const head = await api.head();
  const top = Math.min(from ?? head.height, head.height);
  const rows = [];
  for (let height = top; height >= 0 && height > top - PAGE; height--) {
    const b = await api.block(height);
    if (!b) continue;
    rows.push([
      link(routes.block(height), String(height)),
      time(b.block.header.timestamp_ms),
      h("span", { class: b.block.txs.length ? "strong" : "muted" }, String(b.block.txs.length)),
      short(blockHash(b.block.header)),
    ]);
  }
  const older = top - PAGE;
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Blocks"),
    h("p", { class: "muted" }, `Heights ${Math.max(0, top - PAGE + 1)} to ${top} of ${head.height}.`),
    table(["Height", "Time", "Transactions", "Hash"], rows),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages of blocks" },
      top < head.height ? link(`/blocks/${Math.min(head.height, top + PAGE)}`, "← Newer") : null,
      older >= 0 ? link(`/blocks/${older}`, "Older →") : null,
    ),
  );
}

function signerNames(hex: string, vals: ValidatorInfo[]): string {
  const qc = readQc(hex);
  if (!qc) return "none (genesis)";
  if (qc.epoch !== 0) return `${qc.signers.length} validators of epoch ${qc.epoch} (by their index: ${qc.signers.join(", ")})`;
  return qc.signers.map((i) => vals[i]?.name ?? `#${i}`).join(", ");
}

export async function block(main: HTMLElement, height: number): Promise<void> {
  const [stored, vals] = await Promise.all([api.block(height), api.validators()]);
  if (!stored) {
    replace(main, h("h1", { tabindex: "-1" }, `Block ${height}`), message("This node has no block at that height (yet)."));
    return;
  }
  const hd = stored.block.header;
  const proposer = vals.find((v) => v.consensus_key === hd.proposer);
  const txs = stored.block.txs;
  const hashes = (await api.blockTxHashes(height))?.tx_hashes ?? [];
  const receipts = await Promise.all(hashes.slice(0, RECEIPTS).map((hash) => api.transaction(hash)));
  replace(
    main,
    h("h1", { tabindex: "-1" }, `Block ${height}`),
    h(
      "nav",
      { class: "pager", "aria-label": "Neighbouring blocks" },
      height > 0 ? link(routes.block(height - 1), "← Parent") : null,
      link(routes.block(height + 1), "Child →"),
    ),
    facts([
      ["Hash", full(blockHash(hd))],
      ["Time", time(hd.timestamp_ms)],
      ["Round", String(hd.round)],
      ["Proposer", proposer ? proposer.name : short(hd.proposer)],
      ["Parent", height > 0 ? link(routes.block(height - 1), short(hd.parent)) : full(hd.parent)],
      ["Transaction root", full(hd.tx_root)],
      ["Parent certified by", signerNames(hd.justify, vals)],
      ["Committed by the certificate of", signerNames(stored.certificate, vals)],
      ["Ledger size after it", `${stored.accumulator_size_after} transactions`],
      ["Ledger root after it", full(stored.accumulator_root_after)],
    ]),
    section(
      `Transactions (${txs.length})`,
      txs.length === 0
        ? message("No transactions: an empty block keeps consensus moving.")
        : table(
            ["#", "Kind", "What it does", "Receipt", "Hash"],
            txs.map((t, i) => [
              String(i),
              payloadKind(t.tx.payload as Record<string, unknown>),
              payloadWords(t.tx.payload as Record<string, unknown>),
              receipts[i]?.receipt ? statusBadge(receipts[i]!.receipt!.status) : badge("not fetched", "info"),
              hashes[i] ? link(routes.tx(hashes[i]), short(hashes[i])) : "",
            ]),
          ),
      txs.length > RECEIPTS ? message(`Receipts are shown for the first ${RECEIPTS} transactions.`) : null,
    ),
  );
}
