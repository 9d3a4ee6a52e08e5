// The explorer's shell: header with navigation and search, a live indicator fed by the block
// subscription, and a hash router (`#/item/pallet-1`) that renders one page into <main> and moves
// keyboard focus to its heading.

import { h, message, replace } from "./dom.js";
import { live } from "./node.js";
import { account, org, orgList } from "./pages/orgs.js";
import { audit } from "./pages/audit.js";
import { block, blockList } from "./pages/blocks.js";
import { home } from "./pages/home.js";
import { item } from "./pages/item.js";
import { search } from "./pages/search.js";
import { tx } from "./pages/tx.js";
import { validators } from "./pages/validators.js";

type Page = (main: HTMLElement, ...args: string[]) => Promise<void | (() => void)>;

const ROUTES: [RegExp, Page, string][] = [
  [/^\/?$/, (m) => home(m), "Head"],
  [/^\/validators$/, (m) => validators(m), "Validators"],
  [/^\/blocks(?:\/(\d+))?$/, (m, from) => blockList(m, from === undefined ? undefined : Number(from)), "Blocks"],
  [/^\/block\/(\d+)$/, (m, height) => block(m, Number(height)), "Block"],
  [/^\/tx\/([0-9a-f]{64})$/, (m, hash) => tx(m, hash), "Transaction"],
  [/^\/item\/(.+)$/, (m, id) => item(m, id), "Item"],
  [/^\/orgs$/, (m) => orgList(m), "Organizations"],
  [/^\/org\/([^/]+)(?:\/(\d+))?$/, (m, id, from) => org(m, id, from === undefined ? 0 : Number(from)), "Organization"],
  [/^\/account\/([0-9a-f]{64})$/, (m, key) => account(m, key), "Account"],
  [/^\/search\/(.*)$/, (m, q) => search(m, q), "Search"],
  [/^\/audit$/, (m) => audit(m), "Audit"],
];

const NAV: [string, string][] = [
  ["/", "Head"],
  ["/validators", "Validators"],
  ["/blocks", "Blocks"],
  ["/orgs", "Organizations"],
  ["/audit", "Audit"],
];

const main = h("main", { id: "main-content", tabindex: "-1" });
const liveBadge = h("span", { class: "live off", id: "live", role: "status" }, "connecting…");
const searchInput = h("input", { type: "search", id: "search", name: "q", placeholder: "Item, transaction, height, organization", "aria-label": "Search the ledger", autocomplete: "off" });
const searchForm = h("form", { class: "search", role: "search" }, searchInput, h("button", { type: "submit", class: "button" }, "Search"));
searchForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = searchInput.value.trim();
  if (q) location.hash = `#/search/${encodeURIComponent(q)}`;
});
const navLinks = NAV.map(([route, label]) => h("a", { href: "#" + route, "data-route": route }, label));

document.body.append(
  h("a", { class: "skip", href: "#main-content" }, "Skip to content"),
  h(
    "header",
    { class: "top" },
    h("div", { class: "brand" }, h("a", { href: "#/" }, "Waybill explorer"), liveBadge),
    h("nav", { "aria-label": "Main" }, h("ul", {}, navLinks.map((a) => h("li", {}, a)))),
    searchForm,
  ),
  main,
  h("footer", {}, "Served by this Waybill node. Verdicts are computed in this browser against the genesis file you pin; nothing the node says is trusted for them."),
);

live.onState((on) => {
  liveBadge.className = on ? "live on" : "live off";
  liveBadge.textContent = on ? "live" : "not live: reconnecting";
});

let dispose: (() => void) | undefined;
let rendering = 0;
/** Focus moves to a page's heading after a navigation, not on the first load (Tab then starts at "Skip to content"). */
let navigated = false;

async function route(): Promise<void> {
  const hash = location.hash;
  // In-page anchors such as the skip link are not routes.
  if (hash && !hash.startsWith("#/")) return;
  const path = hash.slice(1) || "/";
  dispose?.();
  dispose = undefined;
  const mine = ++rendering;
  for (const a of navLinks) {
    const r = a.dataset.route!;
    const current = r === "/" ? path === "/" : path === r || path.startsWith(r + "/") || (r === "/blocks" && path.startsWith("/block/")) || (r === "/orgs" && path.startsWith("/org/"));
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const found = ROUTES.map(([re, page, title]) => [re.exec(path), page, title] as const).find(([m]) => m);
  replace(main, h("p", { class: "muted", role: "status" }, "Loading…"));
  main.setAttribute("aria-busy", "true");
  try {
    if (!found) {
      replace(main, h("h1", { tabindex: "-1" }, "Not found"), message(`No page at ${path}.`));
    } else {
      const [m, page, title] = found;
      const args = m!.slice(1).map((a) => (a === undefined ? a : decodeURIComponent(a)));
      document.title = `${title} · Waybill explorer`;
      const d = await page(main, ...(args as string[]));
      if (mine !== rendering) {
        if (typeof d === "function") d();
        return;
      }
      if (typeof d === "function") dispose = d;
    }
  } catch (e) {
    if (mine !== rendering) return;
    replace(main, h("h1", { tabindex: "-1" }, "Could not load this page"), message(e instanceof Error ? e.message : String(e), "error"));
  }
  main.removeAttribute("aria-busy");
  main.dataset.page = path;
  const heading = main.querySelector("h1");
  if (navigated && heading && document.activeElement !== searchInput) (heading as HTMLElement).focus();
}

window.addEventListener("hashchange", () => {
  navigated = true;
  void route();
});
void route();
