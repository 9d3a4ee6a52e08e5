// A captured GS1 EPCIS 2.0 event (a `capture_epcis` payload's `event`) read for people, by the
// standard's own names (docs/EPCIS.md). Pure: words.ts renders it with links.

/** The text of a JSON value: strings as they are, the rest as JSON. */
function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A CBV term's short name: `shipping` for `shipping`, `bizstep-shipping`,
 * `https://ref.gs1.org/cbv/BizStep-shipping` or `urn:epcglobal:cbv:bizstep:shipping`. */
export function cbvShort(v: unknown): string {
  const t = text(v);
  const last = t.split(/[#:/]/).pop() || t;
  return last.replace(/^(bizstep|disp|er)-/i, "");
}

/** At most this many identifiers are listed; the rest are counted. */
export const MAX_LISTED_IDS = 8;

export interface EpcisFacts {
  /** `ObjectEvent ADD`, `AggregationEvent`, ... */
  kind: string;
  /** The identifiers the event names (parent, EPCs, classes), in the standard's order. */
  ids: string[];
  /** How many more identifiers the event names than `ids` lists. */
  more: number;
  /** `bizStep shipping`, `disposition in_transit`, `readPoint ...`, `bizLocation ...`, sensors. */
  details: string[];
  eventTime?: string;
  /** Set for an error declaration: what it says about the earlier capture. */
  correction?: string;
}

export function epcisFacts(event: Record<string, any>): EpcisFacts {
  const ids: string[] = [];
  if (typeof event.parentID === "string") ids.push(event.parentID);
  for (const key of ["epcList", "childEPCs", "inputEPCList", "outputEPCList"]) {
    for (const id of Array.isArray(event[key]) ? event[key] : []) if (typeof id === "string") ids.push(id);
  }
  for (const key of ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"]) {
    for (const q of Array.isArray(event[key]) ? event[key] : []) if (typeof q?.epcClass === "string") ids.push(q.epcClass);
  }
  const details: string[] = [];
  if (event.bizStep) details.push(`bizStep ${cbvShort(event.bizStep)}`);
  if (event.disposition) details.push(`disposition ${cbvShort(event.disposition)}`);
  if (typeof event.readPoint?.id === "string") details.push(`readPoint ${event.readPoint.id}`);
  if (typeof event.bizLocation?.id === "string") details.push(`bizLocation ${event.bizLocation.id}`);
  const sensors = Array.isArray(event.sensorElementList) ? event.sensorElementList.length : 0;
  if (sensors) details.push(`${sensors} sensor element${sensors === 1 ? "" : "s"}`);
  const facts: EpcisFacts = {
    kind: `${text(event.type ?? "event")}${event.action ? " " + text(event.action) : ""}`,
    ids: ids.slice(0, MAX_LISTED_IDS),
    more: Math.max(0, ids.length - MAX_LISTED_IDS),
    details,
  };
  if (event.eventTime) facts.eventTime = text(event.eventTime);
  const err = event.errorDeclaration;
  if (err && typeof err === "object") {
    // The declaration carries the erroneous event's fields, so it has that event's hash ID.
    const reason = err.reason ? ` (reason ${cbvShort(err.reason)})` : "";
    const corrective = Array.isArray(err.correctiveEventIDs) && err.correctiveEventIDs.length ? `; corrective events ${err.correctiveEventIDs.map(text).join(", ")}` : "";
    facts.correction = `declares the earlier capture of this event erroneous${reason}${corrective}`;
  }
  return facts;
}
