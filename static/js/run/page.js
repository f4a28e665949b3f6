/* VMem Lab run page — what every module shares: the page's elements, the run's meta (from the
 * json_script the template writes) and the live state the protocol keeps up to date. */

export const root = document.getElementById("run-root");
export const meta = root ? JSON.parse(document.getElementById("run-meta").textContent) : {};
export const compare = meta.kind === "compare";
export const DONE = new Set(["finished", "stopped", "failed", "interrupted"]);
export const $ = (id) => document.getElementById(id);

export const state = {
  seq: -1,
  status: meta.status,
  speed: meta.speed,
  labels: [],          // every series, in the run's order: variants, then references
  budget: 2000,        // points per series in a state (the server says how many)
  charts: [],
  events: [],
  counters: {},
  result: null,
  pending: {},         // points waiting for the next animation frame
  flushQueued: false,
  resyncing: false,
  buffered: [],
  parts: null,         // a state arriving in several messages
  ws: null,
  retry: 0,
  ready: false,
};

// Lines by role (stored with the run: meta.roles), never by a label's spelling.
const roles = new Map((meta.roles || []).map((r) => [r.label, r]));
export const roleOf = (label) => (roles.get(label) || { role: "variant" }).role;
export const isReference = (label) => roleOf(label) === "reference";
export const referenceOf = (label) => (roles.get(label) || {}).reference || null;
