// The auditor's page: pin the genesis file that every verdict trusts (and nothing else), verify
// any proof file, and prove that the ledger was only appended to since a height.

import { facts, h, message, replace, section, table } from "../dom.js";
import { pin, pinned, unpin, type Pinned } from "../genesis.js";
import { api } from "../node.js";
import { proofBox } from "../proofbox.js";
import { verdict } from "../verdict.js";

function pinnedView(p: Pinned | null, chainId: string): HTMLElement {
  if (!p) return message("No genesis file is pinned in this browser. Verdicts need one: choose the genesis file your consortium gave you.", "error");
  return h(
    "div",
    { id: "pinned" },
    facts([
      ["Chain", p.chain_id],
      ["Validators", `${p.members.length}, total power ${p.total_power}, quorum ${p.quorum}`],
    ]),
    p.chain_id !== chainId ? message(`This node serves chain ${chainId}, not ${p.chain_id}: its proofs will not verify against the pinned file.`, "error") : null,
    table(
      ["Validator", "Organization", "Power", "Consensus key"],
      p.members.map((m) => [m.name, m.organization_name ?? m.organization ?? "not recorded", String(m.power), h("code", { class: "hash" }, m.consensus_key.slice(0, 16) + "…")]),
    ),
  );
}

async function readFile(input: HTMLInputElement): Promise<string | null> {
  const f = input.files?.[0];
  return f ? f.text() : null;
}

export async function audit(main: HTMLElement): Promise<void> {
  const head = await api.head();
  const pinnedBox = h("div", {}, pinnedView(pinned(), head.chain_id));
  const genesisInput = h("input", { type: "file", id: "genesis-file", accept: ".toml,text/plain" });
  const genesisError = h("div", { "aria-live": "polite" });
  genesisInput.addEventListener("change", async () => {
    const text = await readFile(genesisInput);
    if (text === null) return;
    try {
      pin(text);
      replace(genesisError, message("Pinned.", "note"));
    } catch (e) {
      replace(genesisError, message(`Not a genesis file: ${e instanceof Error ? e.message : String(e)}`, "error"));
    }
    replace(pinnedBox, pinnedView(pinned(), head.chain_id));
  });
  const unpinButton = h("button", { type: "button", class: "button secondary" }, "Forget the pinned file");
  unpinButton.addEventListener("click", () => {
    unpin();
    replace(pinnedBox, pinnedView(null, head.chain_id));
  });

  const proofInput = h("input", { type: "file", id: "proof-file", accept: ".json,application/json" });
  const proofOut = h("div", { "aria-live": "polite", id: "proof-file-verdict" });
  proofInput.addEventListener("change", async () => {
    replace(proofOut);
    const text = await readFile(proofInput);
    const p = pinned();
    if (text === null) return;
    if (!p) {
      replace(proofOut, message("Pin a genesis file first.", "error"));
      return;
    }
    replace(proofOut, (await verdict(text, p)).element);
  });

  const fromInput = h("input", { type: "number", id: "consistency-from", min: "0", value: "1", inputmode: "numeric" });
  const consistencyOut = h("div", {});
  const consistencyForm = h(
    "form",
    { class: "inline" },
    h("label", { for: "consistency-from" }, "From certified height "),
    fromInput,
    h("button", { type: "submit", class: "button" }, "Get the proof"),
  );
  consistencyForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const from = Number(fromInput.value);
    replace(consistencyOut, proofBox(`Verify the ledger since height ${from}`, "waybill_getConsistencyProof", [from], `consistency-${from}-latest.proof.json`));
  });

  replace(
    main,
    h("h1", { tabindex: "-1" }, "Audit"),
    h("p", {}, "Every verdict on this site is computed in your browser from the genesis file you pin here. The node that serves this page is not trusted: a proof it made up, or changed, fails and the page names the field that broke."),
    section(
      "Your genesis file",
      pinnedBox,
      h("p", {}, h("label", { for: "genesis-file" }, "Pin a genesis file (kept in this browser only): "), genesisInput, " ", unpinButton),
      genesisError,
    ),
    section("Verify a proof file", h("p", {}, h("label", { for: "proof-file" }, "A proof from this page, from ", h("code", {}, "waybill audit fetch"), " or from the proof RPCs: "), proofInput), proofOut),
    section("The ledger was only appended to", h("p", {}, "Proves that the ledger certified at an earlier height is a prefix of the latest certified one: no transaction was removed or changed since."), consistencyForm, consistencyOut),
  );
}
