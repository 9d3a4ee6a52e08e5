// "Verify" in the browser: a proof is checked by the TypeScript SDK's verifier against the pinned
// genesis file alone, then said in plain words: what was proven, at which height and time, and
// signed by which validators. A failure names the field that broke. The node that served the
// proof is trusted for nothing; it is asked only for the certified block's header, whose hash
// must equal the one the validators signed before its time is shown.

import { blake3 } from "@noble/hashes/blake3.js";

import { fromHex, toHex, Writer } from "../../clients/typescript/src/bytes.js";
import { tagged } from "../../clients/typescript/src/tx.js";
import { parseProof, verifyProof, type Check, type Report } from "../../clients/typescript/src/verify.js";
import { h, link, routes, time } from "./dom.js";
import { memberLabel, type Pinned } from "./genesis.js";
import { api } from "./node.js";
import { payloadWords } from "./words.js";

/** `block_hash = blake3(signing_bytes("waybill/block/v1", header))` (PROOFS.md, "Blocks"). */
export function blockHash(header: {
  chain_id: string;
  height: number;
  round: number;
  parent: string;
  tx_root: string;
  proposer: string;
  timestamp_ms: number;
  justify: string;
}): string {
  const w = new Writer()
    .str(header.chain_id)
    .u64(header.height)
    .u64(header.round)
    .raw(fromHex(header.parent))
    .raw(fromHex(header.tx_root))
    .raw(fromHex(header.proposer))
    .u64(header.timestamp_ms)
    .blob(fromHex(header.justify));
  return toHex(blake3(tagged("waybill/block/v1", w.bytes())));
}

/** What a failed check means, in words. The check's name is the field that broke. */
const MEANING: [RegExp, string][] = [
  [/^well-formed$/, "the file is not a well-formed proof"],
  [/certificate$/, "the validators' signatures do not make a quorum of this genesis's validators over this checkpoint (a signature is wrong, a signer is not a genesis validator, or the chain differs)"],
  [/receipt\.tx_hash$/, "the receipt belongs to another transaction"],
  [/receipt\.ledger_index$/, "the receipt gives another ledger position than the proof"],
  [/inclusion_proof\.leaf_index$/, "the inclusion proof is for another ledger position"],
  [/inclusion_proof\.tree_size$/, "the inclusion proof is for another ledger size than the certified one"],
  [/inclusion_proof\.path$/, "the Merkle path does not lead to the certified ledger root: the transaction or its receipt is not what the ledger holds"],
  [/signature$/, "the transaction's signature does not verify, or it is for another chain"],
  [/smt_proof$/, "the item's state does not lead to the certified state root"],
  [/value$/, "the item's state is not a well-formed state of this item"],
  [/^entries$/, "the history has more entries than a proof may carry"],
  [/^entries\.order$/, "the history's entries are not in ledger order"],
  [/receipt\.status$/, "a failed transaction is listed as an event"],
  [/\.item$/, "an entry's transaction does not name this item"],
  [/^history_len$/, "the number of events differs from what the validators certified: events were left out or added"],
  [/^history_digest$/, "the chain of events differs from what the validators certified: events were left out, added, replaced or reordered"],
  [/^heights$/, "the older checkpoint is not older, or two different checkpoints claim one height"],
  [/consistency_proof/, "the ledger at the older height is not a prefix of the newer one"],
  [/^kind$/, "this is no known kind of proof"],
];

export function meaning(check: Check): string {
  const m = MEANING.find(([re]) => re.test(check.name));
  return m ? m[1] : "this check failed";
}

interface Certified {
  checkpoint: { chain_id: string; height: number; block_hash: string; accumulator_size: number };
  signers: string[];
}

function certificates(p: any): Certified[] {
  const one = (c: any): Certified => ({ checkpoint: c.checkpoint.view, signers: c.signatures.map((s: any) => s.validator) });
  return p.kind === "consistency" ? [one(p.older), one(p.newer)] : [one(p.certificate)];
}

/** The time of the certified block, if the node's header for it has the certified hash. */
async function certifiedTime(cp: Certified["checkpoint"]): Promise<string> {
  try {
    const block = await api.block(cp.height);
    if (!block) return "time unknown: this node has no block at that height";
    if (blockHash(block.block.header) !== cp.block_hash) return "time unknown: this node's block at that height is not the certified one";
    return `${time(block.block.header.timestamp_ms)} by its proposer's clock`;
  } catch {
    return "time unknown: the node did not answer";
  }
}

function signedBy(p: Pinned, c: Certified): HTMLElement {
  const keys = [...new Set(c.signers)];
  const power = keys.reduce((n, k) => n + (p.members.find((m) => m.consensus_key === k)?.power ?? 0), 0);
  return h(
    "span",
    {},
    `signed by ${keys.length} of ${p.members.length} validators: `,
    h("span", { class: "signers" }, keys.map((k) => memberLabel(p, k)).join(", ")),
    ` — power ${power} of ${p.total_power}, quorum ${p.quorum}`,
  );
}

/** What the proof proves, in one paragraph (only said once every check passed). */
function proven(proof: any): HTMLElement {
  switch (proof.kind) {
    case "transaction": {
      const tx = proof.transaction.view.tx;
      const r = proof.receipt.view;
      const status = r.status === "success" ? "it succeeded" : `it failed with ${r.status.failed.code}: ${r.status.failed.message}`;
      return h(
        "p",
        {},
        "Transaction ",
        link(routes.tx(r.tx_hash), r.tx_hash.slice(0, 16) + "…"),
        ` is in the ledger at height ${r.height}, position ${r.index_in_block} of its block (ledger index ${r.ledger_index}), and ${status}. It says: `,
        payloadWords(tx.payload),
        `. Signed by account ${tx.signer.slice(0, 12)}…, sequence ${tx.sequence}.`,
      );
    }
    case "item_state":
      return h(
        "p",
        {},
        "The state of item ",
        link(routes.item(proof.item_id), proof.item_id),
        proof.value === null ? " is proven absent: no such item existed at the certified height." : " shown on this page is the one the validators certified (its record and the head of its history).",
      );
    case "history":
      return h(
        "p",
        {},
        "The whole history of item ",
        link(routes.item(proof.item_id), proof.item_id),
        ` is proven complete and in order: ${proof.entries.length} event${proof.entries.length === 1 ? "" : "s"}, each a committed, successful, signed transaction, none left out.`,
      );
    case "consistency":
      return h(
        "p",
        {},
        `The ledger at height ${proof.older.checkpoint.view.height} (${proof.older.checkpoint.view.accumulator_size} transactions) is a prefix of the ledger at height ${proof.newer.checkpoint.view.height} (${proof.newer.checkpoint.view.accumulator_size} transactions): nothing in between was rewritten.`,
      );
    default:
      return h("p", {}, "A proof of an unknown kind.");
  }
}

export interface Verdict {
  report: Report;
  element: HTMLElement;
}

/** Verifies `text` (a proof file's text) against `pinned` and renders the verdict. */
export async function verdict(text: string, p: Pinned): Promise<Verdict> {
  const report = verifyProof(text, p.text);
  const failed = report.checks.filter((c) => !c.passed);
  const details = h(
    "details",
    { class: "checks" },
    h("summary", {}, `All ${report.checks.length} checks`),
    h(
      "ul",
      {},
      report.checks.map((c) => h("li", { class: c.passed ? "pass" : "fail" }, `${c.passed ? "✓" : "✗"} ${c.name}${c.detail ? ` (${c.detail})` : ""}`)),
    ),
  );
  if (!report.ok) {
    const first = failed[0];
    const el = h(
      "div",
      { class: "verdict bad", role: "alert", "data-verdict": "failed", "data-field": first?.name ?? "" },
      h("h3", {}, "✗ Not verified"),
      first
        ? h("p", {}, "The check ", h("code", { class: "field" }, first.name), ` failed: ${meaning(first)}${first.detail ? ` (${first.detail})` : ""}.`)
        : h("p", {}, "The proof holds no checks."),
      failed.length > 1 ? h("p", {}, `${failed.length} checks failed in all: ${failed.map((c) => c.name).join(", ")}.`) : null,
      h("p", {}, "Nothing in this proof is proven. Do not rely on it."),
      details,
    );
    return { report, element: el };
  }
  const proof = parseProof(text);
  const certs = certificates(proof);
  const times = await Promise.all(certs.map((c) => certifiedTime(c.checkpoint)));
  const el = h(
    "div",
    { class: "verdict ok", role: "status", "data-verdict": "verified" },
    h("h3", {}, "✓ Verified against your genesis file"),
    proven(proof),
    certs.map((c, i) =>
      h(
        "p",
        {},
        `${certs.length > 1 ? (i === 0 ? "Older checkpoint" : "Newer checkpoint") : "Certified"} at height ${c.checkpoint.height} of chain ${c.checkpoint.chain_id} (block time ${times[i]}), `,
        signedBy(p, c),
        ".",
      ),
    ),
    h("p", { class: "muted" }, "Only the genesis file you pinned was trusted; the node that served this proof was not."),
    details,
  );
  return { report, element: el };
}
