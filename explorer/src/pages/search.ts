// Search by item id, transaction hash, block height or hash, organization or account key. One
// match goes straight to its page; several are listed.

import { h, link, message, replace, routes } from "../dom.js";
import { api } from "../node.js";

interface Hit {
  route: string;
  label: string;
}

export async function findAll(q: string): Promise<Hit[]> {
  const hits: Hit[] = [];
  const query = q.trim();
  if (!query) return hits;
  const tries: Promise<void>[] = [];
  if (/^[0-9]{1,16}$/.test(query)) {
    tries.push(api.block(Number(query)).then((b) => void (b && hits.push({ route: routes.block(Number(query)), label: `Block ${query}` }))));
  }
  const hex = query.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) {
    tries.push(api.transaction(hex).then((t) => void (t && hits.push({ route: routes.tx(hex), label: `Transaction ${hex.slice(0, 16)}…` }))));
    tries.push(api.blockByHash(hex).then((b) => void (b && hits.push({ route: routes.block(b.block.header.height), label: `Block ${b.block.header.height}` }))));
    tries.push(api.account(hex).then((a) => void (a && hits.push({ route: routes.account(hex), label: `Account of ${a.account.organization}` }))));
  }
  tries.push(api.item(query).then((i) => void (i && hits.push({ route: routes.item(query), label: `Item ${query} (${i.item.item_type})` }))));
  tries.push(api.organization(query).then((o) => void (o && hits.push({ route: routes.org(query), label: `Organization ${o.name}` }))));
  await Promise.all(tries.map((t) => t.catch(() => undefined)));
  return hits;
}

export async function search(main: HTMLElement, q: string): Promise<void> {
  const hits = await findAll(q);
  if (hits.length === 1) {
    location.replace("#" + hits[0].route);
    return;
  }
  replace(
    main,
    h("h1", { tabindex: "-1" }, `Search: ${q}`),
    hits.length
      ? h("ul", { class: "plain results" }, hits.map((x) => h("li", {}, link(x.route, x.label))))
      : message("Nothing found. Search takes an item id, a transaction or block hash, a block height, an organization id or an account key."),
  );
}
