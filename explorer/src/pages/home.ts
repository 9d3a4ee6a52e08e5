// The front page: the head (height, time, certified height), the latest blocks, kept current by
// the block subscription.

import { facts, full, h, link, replace, routes, section, short, time } from "../dom.js";
import { api, onBlock, type BlockSummary } from "../node.js";
import { blockHash } from "../verdict.js";

const SHOWN = 12;

export async function home(main: HTMLElement): Promise<() => void> {
  const [head, status] = await Promise.all([api.head(), api.status()]);
  const headBox = h("div", { class: "card", id: "head", "aria-live": "polite" });
  const rows = h("tbody", {});
  const blocks: BlockSummary[] = [];

  const showHead = (b: { height: number; hash: string; timestamp_ms: number | null; accumulator_size: number; state_root: string }, certified: number) => {
    replace(
      headBox,
      facts([
        ["Height", h("strong", { "data-head-height": String(b.height) }, link(routes.block(b.height), String(b.height)))],
        ["Time", time(b.timestamp_ms)],
        ["Certified height", h("span", { "data-certified": String(certified) }, String(certified))],
        ["Block hash", full(b.hash)],
        ["Transactions in the ledger", String(b.accumulator_size)],
        ["State root", full(b.state_root)],
      ]),
    );
  };
  const showBlocks = () =>
    replace(
      rows,
      blocks.map((b) =>
        h(
          "tr",
          {},
          h("td", {}, link(routes.block(b.height), String(b.height))),
          h("td", {}, time(b.timestamp_ms)),
          h("td", { class: b.tx_count ? "num strong" : "num muted" }, String(b.tx_count)),
          h("td", {}, short(b.hash)),
        ),
      ),
    );

  let certified = status.certified_height ?? 0;
  const first = await api.block(head.height);
  showHead({ ...head, timestamp_ms: first?.block.header.timestamp_ms ?? null }, certified);
  for (let height = head.height; height >= 0 && height > head.height - SHOWN; height--) {
    const b = height === head.height ? first : await api.block(height);
    if (!b) break;
    blocks.push({
      height,
      hash: blockHash(b.block.header),
      tx_count: b.block.txs.length,
      timestamp_ms: b.block.header.timestamp_ms,
      accumulator_size: b.accumulator_size_after,
      accumulator_root: b.accumulator_root_after,
      state_root: "",
    });
  }
  showBlocks();

  replace(
    main,
    h("h1", { tabindex: "-1" }, "Ledger head"),
    h("p", { class: "muted" }, `Chain ${head.chain_id}, served by ${status.name}. This page follows new blocks as they commit.`),
    headBox,
    section(
      "Latest blocks",
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { id: "latest-blocks" },
          h("thead", {}, h("tr", {}, ["Height", "Time", "Transactions", "Hash"].map((c) => h("th", { scope: "col" }, c)))),
          rows,
        ),
      ),
      h("p", {}, link("/blocks", "All blocks")),
    ),
  );

  let statusAsked = 0;
  return onBlock(async (b) => {
    blocks.unshift(b);
    blocks.length = Math.min(blocks.length, SHOWN);
    showBlocks();
    showHead(b, certified);
    // The certified height comes from the node's status; ask at most once a second.
    if (Date.now() - statusAsked > 1000) {
      statusAsked = Date.now();
      certified = (await api.status()).certified_height ?? certified;
      showHead(blocks[0], certified);
    }
  });
}
