// A few helpers to build the page's DOM without a framework: every node is made with `h`, text
// is always set as text (never parsed as HTML), so nothing a node or a proof says can inject markup.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element with attributes (`on…` members are listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element. */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces `el`'s children. */
export function replace(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/** A link inside the page. */
export function link(route: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href: "#" + route }, ...children);
}

export const routes = {
  block: (height: number) => `/block/${height}`,
  tx: (hash: string) => `/tx/${hash}`,
  item: (id: string) => `/item/${encodeURIComponent(id)}`,
  org: (id: string) => `/org/${encodeURIComponent(id)}`,
  account: (key: string) => `/account/${key}`,
};

/** The first and last hex digits of a hash or key, the whole of it in a tooltip. */
export function short(hex: string, n = 8): HTMLElement {
  return h("code", { class: "hash", title: hex }, hex.length > 2 * n + 1 ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex);
}

/** A whole hash, breakable on narrow screens. */
export function full(hex: string): HTMLElement {
  return h("code", { class: "hash full" }, hex);
}

/** Milliseconds since the epoch as a UTC date and time, to the second. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "unknown";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "unknown";
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A `<dl>` of label/value rows. */
export function facts(rows: [string, Child][]): HTMLElement {
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** A table whose body scrolls sideways inside its own box on a narrow screen. */
export function table(head: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

export function badge(text: string, kind: "ok" | "bad" | "warn" | "info"): HTMLElement {
  return h("span", { class: `badge ${kind}` }, text);
}

/** A section with a heading. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}

export function message(text: string, kind: "error" | "note" = "note"): HTMLElement {
  return h("p", { class: kind, role: kind === "error" ? "alert" : null }, text);
}
