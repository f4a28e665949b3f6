/* VMem Lab run page — the notable events: the latest ones, newest first (by access, then in
 * the run's series order), with a filter by series in a comparison. */

import { $, compare, state } from "./page.js";
import { esc, fmt, ms } from "./format.js";

const MAX_LOG = 50;
// where a faulted page came from, in words (docs/metrics.md)
const SOURCES = { new: "new", store: "backing store" };

function rank(label) {
  const i = state.labels.indexOf(label);
  return i < 0 ? state.labels.length : i;
}

function row(e) {
  const src = SOURCES[e.src] || e.src || "";
  return `<tr class="ev-${esc(e.kind)}">` +
    (compare ? `<td>${esc(e.variant)}</td>` : "") +
    `<td>${fmt(e.access)}</td><td>${esc(e.kind)}` +
    `${e.refault ? ' <span class="tag warn">refault</span>' : ""}</td>` +
    `<td><code>${esc(e.page)}</code></td>` +
    `<td>${esc(src)} → ${e.dst ? esc(e.dst) : "out"}</td>` +
    `<td>${e.latency_ms ? ms(e.latency_ms) : ""}</td></tr>`;
}

export function renderEvents() {
  const filter = $("event-variant");
  const wanted = filter ? filter.value : "";
  const shown = state.events.slice().reverse() // newest first, also within one access
    .filter((e) => !wanted || e.variant === wanted)
    .sort((a, b) => b.access - a.access || rank(a.variant) - rank(b.variant));
  $("event-log").innerHTML = shown.map(row).join("") ||
    `<tr><td colspan="6" class="muted">No notable events${wanted ? " in " + esc(wanted) : ""} yet.</td></tr>`;
}

export function addEvents(events) {
  if (!events || !events.length) return;
  state.events.push(...events);
  if (state.events.length > MAX_LOG) state.events.splice(0, state.events.length - MAX_LOG);
  renderEvents();
}

// the filter offers every series of a comparison (once its labels are known)
export function fillEventFilter() {
  const filter = $("event-variant");
  if (!filter) return;
  const current = filter.value;
  filter.innerHTML = `<option value="">all</option>` + state.labels
    .map((label) => `<option value="${esc(label)}">${esc(label)}</option>`).join("");
  filter.value = state.labels.includes(current) ? current : "";
  if (!filter.dataset.wired) {
    filter.dataset.wired = "1";
    filter.addEventListener("change", renderEvents);
  }
}
