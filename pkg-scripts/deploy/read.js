'use strict';
// What the tenant holds, read through the client with GETs only: the Action of a name (in
// full: code, secret names, deployed version) and a trigger's bindings, every page of both.
const PAGE = 50;
const MAX_PAGES = 100;

const actionsQuery = (name, page) => ({ actionName: name, page, per_page: PAGE });
const bindingsQuery = (page) => ({ page, per_page: PAGE });

/** Whether a list page was the last: by `total` when the API gives it, else a short page. */
function lastPage(r, list, seen) {
  return !list.length || (typeof r.total === 'number' ? seen >= r.total : list.length < PAGE);
}

/** The Action named `name` (GET of the Action itself, the list shows less), or null. */
async function findAction(mgmt, name) {
  let seen = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await mgmt.call('GET', '/api/v2/actions/actions', { query: actionsQuery(name, page) });
    const list = (r && Array.isArray(r.actions)) ? r.actions : [];
    const hit = list.find((a) => a.name === name);
    if (hit) return mgmt.call('GET', `/api/v2/actions/actions/${encodeURIComponent(hit.id)}`);
    seen += list.length;
    if (lastPage(r, list, seen)) return null;
  }
  return null;
}

/** Every binding of `trigger`, in order. */
async function listBindings(mgmt, trigger) {
  const all = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await mgmt.call('GET', `/api/v2/actions/triggers/${trigger}/bindings`, { query: bindingsQuery(page) });
    const list = (r && Array.isArray(r.bindings)) ? r.bindings : [];
    all.push(...list);
    if (lastPage(r, list, all.length)) break;
  }
  return all;
}

/** The state the planner takes for one Action: {existing, bindings}. */
async function readTenant(mgmt, trigger, name) {
  const existing = await findAction(mgmt, name);
  const bindings = await listBindings(mgmt, trigger);
  return { existing, bindings };
}

module.exports = { findAction, listBindings, readTenant, actionsQuery, bindingsQuery };
