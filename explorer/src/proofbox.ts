// The "verify" action on an item, transaction or history: fetch the proof from the node, verify
// it here against the pinned genesis, show the verdict, and offer the proof as a file that
// `waybill audit verify --genesis GENESIS.toml FILE` accepts (the node's bytes, unchanged).

import { h, link, replace } from "./dom.js";
import { pinned } from "./genesis.js";
import { callText, RpcError } from "./node.js";
import { verdict } from "./verdict.js";

/** Asks for a proof, retrying while its height is not certified yet (a moment after a commit). */
async function fetchProof(method: string, params: unknown[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const text = await callText(method, params);
      if (text === "null") throw new Error("the node has no such record to prove");
      return text;
    } catch (e) {
      if (!(e instanceof RpcError && e.code === -32004) || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The proof file `waybill audit verify` takes: the node's proof, with the chain of epoch changes
 * since genesis when the validator set ever changed (PROOFS.md, "Epochs"); how many there are.
 */
async function withEpochChanges(proof: string): Promise<[string, number]> {
  const changes = await callText("waybill_getEpochChanges", [0]).catch(() => "[]");
  const count = (JSON.parse(changes) as unknown[]).length;
  if (count === 0) return [proof, 0];
  return [proof.replace(/\}\s*$/, `, "epoch_changes": ${changes}}`), count];
}

/** A download link for a proof's text. */
export function downloadLink(text: string, filename: string): HTMLAnchorElement {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  return h("a", { href: url, download: filename, class: "button secondary", "data-download": filename }, `Download ${filename}`);
}

/** A "Verify" button for the proof `method(params)`, with its verdict and download below it. */
export function proofBox(label: string, method: string, params: unknown[], filename: string): HTMLElement {
  const out = h("div", { class: "proof-out", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "button" }, label);
  button.addEventListener("click", async () => {
    const p = pinned();
    if (!p) {
      replace(out, h("p", { class: "error", role: "alert" }, "Pin the genesis file you trust first: ", link("/audit", "Audit"), " takes it. The verdict trusts nothing else."));
      return;
    }
    button.disabled = true;
    replace(out, h("p", { class: "muted" }, "Fetching the proof and checking it in this browser…"));
    try {
      const [text, epochs] = await withEpochChanges(await fetchProof(method, params));
      const v = await verdict(text, p);
      replace(
        out,
        v.element,
        epochs
          ? h(
              "p",
              { class: "note" },
              `This chain changed its validator set ${epochs} time${epochs === 1 ? "" : "s"} since genesis. This page checks certificates against the genesis set only, so a proof signed by a later set fails here; the file below carries the epoch changes, and waybill audit verify follows them from the genesis file.`,
            )
          : null,
        h("p", {}, downloadLink(text, filename), " — check it anywhere with ", h("code", {}, `waybill audit verify --genesis genesis.toml ${filename}`)),
      );
    } catch (e) {
      replace(out, h("p", { class: "error", role: "alert" }, `Could not get the proof: ${e instanceof Error ? e.message : String(e)}`));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "proof-box" }, button, out);
}

/** A file name from what a proof is about, safe whatever an item id holds. */
export function proofName(kind: string, id: string): string {
  return `${kind}-${id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64)}.proof.json`;
}
