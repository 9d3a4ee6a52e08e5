// One transaction: what it does in words, its signer's account and organization, its receipt
// (a failure clearly marked, with its code and message), its place in the ledger, and "verify".

import { badge, facts, full, h, link, message, replace, routes, section } from "../dom.js";
import { api } from "../node.js";
import { proofBox } from "../proofbox.js";
import { payloadKind, payloadWords, statusBadge, valueText } from "../words.js";

export async function tx(main: HTMLElement, hash: string): Promise<void> {
  const info = await api.transaction(hash);
  if (!info) {
    replace(main, h("h1", { tabindex: "-1" }, "Transaction"), message(`This node knows no transaction ${hash}.`));
    return;
  }
  const t = info.tx.tx;
  const account = await api.account(t.signer).catch(() => null);
  const payload = t.payload as Record<string, any>;
  const [kind, args] = Object.entries(payload)[0] ?? ["unknown", {}];
  const r = info.receipt;
  const failed = r && r.status !== "success" ? (r.status as { failed: { code: string; message: string } }).failed : null;
  replace(
    main,
    h("h1", { tabindex: "-1" }, `Transaction: ${payloadKind(payload)}`),
    h("p", { class: "lead" }, payloadWords(payload)),
    failed
      ? h("div", { class: "verdict bad", role: "note" }, h("p", {}, h("strong", {}, "This transaction failed: "), `${failed.code}: ${failed.message}. It used its sequence number and changed nothing.`))
      : null,
    facts([
      ["Hash", full(hash)],
      ["Status", info.pending ? badge("pending in this node's mempool", "warn") : r ? statusBadge(r.status) : badge("unknown", "info")],
      ["Block", info.height !== null ? link(routes.block(info.height), String(info.height)) : "not committed yet"],
      ["Position", info.index_in_block !== null ? `${info.index_in_block} in its block, ledger index ${info.ledger_index}` : "none yet"],
      ["Signer", link(routes.account(t.signer), t.signer)],
      ["Acting for", account ? [link(routes.org(account.account.organization), account.account.organization), ` (roles: ${account.account.roles.join(", ") || "none"})`] : "no account (anyone may send a memo)"],
      ["Sequence", String(t.sequence)],
      ["Chain", t.chain_id],
    ]),
    section(
      "Payload",
      facts(
        Object.entries(args as Record<string, unknown>).map(([k, v]) => [
          k.replace(/_/g, " "),
          k === "properties" && v && typeof v === "object"
            ? facts(Object.entries(v as Record<string, unknown>).map(([pk, pv]) => [pk, valueText(pv)]))
            : valueText(v),
        ]),
      ),
      h("p", { class: "muted" }, `Kind ${kind}.`),
    ),
    info.pending
      ? null
      : section(
          "Verify",
          h("p", {}, "Proves that this transaction and its receipt are in the ledger the validators certified, and that its signature is valid."),
          proofBox("Verify this transaction", "waybill_getTransactionProof", [hash], `tx-${hash.slice(0, 16)}.proof.json`),
        ),
  );
}
