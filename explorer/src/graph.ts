// The provenance graph of an item as SVG: what it was made from and packed in (left), what it
// contains and became (right), from the node's provenance trace, plus the packings its history
// shows were undone (dashed). Every node links to its item page, and the same edges are listed in
// words below the drawing for screen readers and narrow screens.

import { h, link, routes, s } from "./dom.js";
import type { HistoryEntry, Provenance } from "./node.js";

export type EdgeKind = "made_from" | "packed_in" | "contains" | "became_output" | "was_packed_in" | "unpacked";

export interface GraphNode {
  id: string;
  label: string;
  column: number;
  row: number;
}

export interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Height the edge ended at (unpacked), for history-only edges. */
  until?: number;
}

const WORDS: Record<EdgeKind, string> = {
  made_from: "made from",
  packed_in: "packed in",
  contains: "contains",
  became_output: "became",
  was_packed_in: "was packed in",
  unpacked: "had packed, then unpacked",
};

const UPSTREAM = new Set<EdgeKind>(["made_from", "packed_in", "was_packed_in"]);

/** Nodes and edges from a provenance trace and the root's history. */
export function buildGraph(root: string, prov: Provenance | null, history: HistoryEntry[]): { nodes: GraphNode[]; edges: Edge[] } {
  const edges: Edge[] = [];
  const info = new Map<string, string>();
  const column = new Map<string, number>([[root, 0]]);
  for (const n of prov?.nodes ?? []) {
    info.set(n.item_id, `${n.item_type}, ${n.status}; held by ${n.custodian}`);
    if (n.relation === "root" || n.via === null) continue;
    const kind = n.relation as EdgeKind;
    edges.push({ from: n.via, to: n.item_id, kind });
    const side = UPSTREAM.has(kind) ? -1 : 1;
    if (!column.has(n.item_id)) column.set(n.item_id, side * n.depth);
  }
  // Packings the history shows were undone: containers it left, children taken out of it.
  const now = new Set(edges.map((e) => `${e.from} ${e.to}`));
  for (const e of history) {
    if (e.kind !== "disaggregate") continue;
    const [container, ...children] = e.items;
    if (container === root) {
      for (const c of children) if (!now.has(`${root} ${c}`)) edges.push({ from: root, to: c, kind: "unpacked", until: e.height });
    } else if (children.includes(root) && !now.has(`${root} ${container}`)) {
      edges.push({ from: root, to: container, kind: "was_packed_in", until: e.height });
    }
  }
  for (const e of edges) if (!column.has(e.to)) column.set(e.to, UPSTREAM.has(e.kind) ? -1 : 1);
  const rows = new Map<number, number>();
  const nodes: GraphNode[] = [...column.entries()].map(([id, c]) => {
    const row = rows.get(c) ?? 0;
    rows.set(c, row + 1);
    return { id, label: info.get(id) ?? "", column: c, row };
  });
  return { nodes, edges };
}

const W = 180;
const NODE_H = 46;
const GAP_X = 90;
const GAP_Y = 26;

/** The drawing and its list of edges in words. */
export function provenanceGraph(root: string, prov: Provenance | null, history: HistoryEntry[]): HTMLElement {
  const { nodes, edges } = buildGraph(root, prov, history);
  const minC = Math.min(...nodes.map((n) => n.column));
  const maxC = Math.max(...nodes.map((n) => n.column));
  const maxRow = Math.max(...nodes.map((n) => n.row));
  const width = (maxC - minC + 1) * (W + GAP_X) - GAP_X + 20;
  const height = (maxRow + 1) * (NODE_H + GAP_Y) - GAP_Y + 20;
  const at = new Map(nodes.map((n) => [n.id, { x: 10 + (n.column - minC) * (W + GAP_X), y: 10 + n.row * (NODE_H + GAP_Y) }]));
  const lines = edges.map((e) => {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const [l, r] = a.x <= b.x ? [a, b] : [b, a];
    const x1 = l.x + W;
    const y1 = l.y + NODE_H / 2;
    const x2 = r.x;
    const y2 = r.y + NODE_H / 2;
    const dashed = e.kind === "unpacked" || e.kind === "was_packed_in";
    return s(
      "g",
      { class: `edge ${e.kind}`, "data-edge": `${e.from} ${e.kind} ${e.to}` },
      s("line", { x1, y1, x2, y2, class: dashed ? "dashed" : "" }),
      s("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5, "text-anchor": "middle", class: "edge-label" }, WORDS[e.kind]),
    );
  });
  const boxes = nodes.map((n) => {
    const p = at.get(n.id)!;
    return s(
      "a",
      { href: "#" + routes.item(n.id), class: n.id === root ? "node root" : "node", "data-item": n.id },
      s("title", {}, `${n.id}${n.label ? ": " + n.label : ""}`),
      s("rect", { x: p.x, y: p.y, width: W, height: NODE_H, rx: 6 }),
      s("text", { x: p.x + 10, y: p.y + 19, class: "node-id" }, n.id.length > 22 ? n.id.slice(0, 21) + "…" : n.id),
      s("text", { x: p.x + 10, y: p.y + 36, class: "node-info" }, n.label.length > 28 ? n.label.slice(0, 27) + "…" : n.label),
    );
  });
  const svg = s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "group", "aria-label": `Provenance graph of ${root}`, class: "graph" },
    ...lines,
    ...boxes,
  );
  const words = edges.length
    ? h(
        "ul",
        { class: "edges" },
        edges.map((e) => h("li", {}, link(routes.item(e.from), e.from), ` ${WORDS[e.kind]} `, link(routes.item(e.to), e.to), e.until !== undefined ? ` (until height ${e.until})` : "")),
      )
    : h("p", { class: "muted" }, "No links: not made from, packed in, containing or turned into any other item.");
  return h("div", { class: "provenance" }, h("div", { class: "graph-wrap" }, svg), words, prov?.truncated ? h("p", { class: "muted" }, "The trace stopped at the node's limit.") : null);
}
