// Organizations (the consortium's members) and accounts: who they are, their admins, the
// validators they run, and the events that concerned them.

import { facts, h, link, message, replace, routes, section, short, table } from "../dom.js";
import { api, type HistoryEntry } from "../node.js";
import { eventWords } from "../words.js";

const PAGE = 50;

export async function orgList(main: HTMLElement): Promise<void> {
  const [orgs, vals] = await Promise.all([api.organizations(), api.validators()]);
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Organizations"),
    orgs.length
      ? table(
          ["Id", "Name", "Admins", "Validators"],
          orgs.map((o) => [
            link(routes.org(o.id), o.id),
            o.name,
            String(o.admins.length),
            vals
              .filter((v) => v.organization === o.id)
              .map((v) => v.name)
              .join(", ") || h("span", { class: "muted" }, "none"),
          ]),
        )
      : message("This chain has no organizations."),
  );
}

function eventRows(entries: HistoryEntry[]) {
  return entries.map((e) => [
    link(routes.block(e.height), String(e.height)),
    eventWords(e.kind),
    e.items.flatMap((id, i) => [i ? ", " : "", link(routes.item(id), id)]),
    link(routes.org(e.organization), e.organization),
    link(routes.tx(e.tx_hash), short(e.tx_hash)),
  ]);
}

export async function org(main: HTMLElement, id: string, from = 0): Promise<void> {
  const [record, vals, events] = await Promise.all([api.organization(id), api.validators(), api.organizationEvents(id, from, PAGE)]);
  if (!record) {
    replace(main, h("h1", { tabindex: "-1" }, `Organization ${id}`), message("No such organization on this chain."));
    return;
  }
  const runs = vals.filter((v) => v.organization === id);
  replace(
    main,
    h("h1", { tabindex: "-1" }, record.name),
    facts([
      ["Id", record.id],
      ["Genesis admins", record.admins.length ? h("ul", { class: "plain" }, record.admins.map((k) => h("li", {}, link(routes.account(k), short(k, 12))))) : "none"],
      ["Validators", runs.length ? runs.map((v) => v.name).join(", ") : "none"],
    ]),
    section(
      "Events",
      events.entries.length ? table(["Height", "Event", "Items", "Acting", "Transaction"], eventRows(events.entries)) : message(from ? "No more events." : "No events yet."),
      h(
        "nav",
        { class: "pager", "aria-label": "Pages of events" },
        from > 0 ? link(routes.org(id), "← First") : null,
        events.next_from !== null ? link(`${routes.org(id)}/${events.next_from}`, "More →") : null,
      ),
    ),
  );
}

export async function account(main: HTMLElement, key: string): Promise<void> {
  const view = await api.account(key);
  if (!view) {
    replace(main, h("h1", { tabindex: "-1" }, "Account"), facts([["Key", h("code", { class: "hash full" }, key)]]), message("No account has this key. It can still send memos."));
    return;
  }
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Account"),
    facts([
      ["Key", h("code", { class: "hash full" }, key)],
      ["Organization", link(routes.org(view.account.organization), view.account.organization)],
      ["Roles", view.account.roles.join(", ") || "none"],
      ["Next sequence", `${view.next_sequence} (transactions committed so far)`],
    ]),
  );
}
