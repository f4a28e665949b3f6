/* VMem Lab run page — counters and the summary: the counter cards, a comparison's table
 * (live totals, then the final rows) and a single run's result. Every row follows one
 * definition (docs/metrics.md): misses = faults, the reads L0 did not serve; allocations are
 * the writes of pages L0 did not hold. */

import { $, compare, isReference, meta, referenceOf, state } from "./page.js";
import { esc, fmt, ms, pct } from "./format.js";

function card(label, value, id) {
  return `<div class="counter"><span class="counter-label">${esc(label)}</span>` +
    `<span class="counter-value" id="${id}">${esc(value)}</span></div>`;
}

export function renderCounters() {
  const holder = $("counters");
  if (!compare) {
    const c = state.counters[meta.variants[0]] || {};
    holder.innerHTML = [
      card("Accesses", fmt(c.accesses ?? meta.accesses), "c-accesses"),
      card("Hit ratio", pct(c.hit_ratio), "c-hit"),
      card("Faults", fmt(c.faults), "c-faults"),
      card("L0 evictions", fmt(c.evictions), "c-evictions"),
      card("Refaults", fmt(c.refaults), "c-refaults"),
      card("Thrash index", c.thrash_index === undefined ? "–" : c.thrash_index.toFixed(3),
           "c-thrash"),
      card("Simulated time", ms(c.time_ms), "c-time"),
    ].join("");
    return;
  }
  const first = state.counters[state.labels[0]] || {};
  holder.innerHTML = card("Accesses", fmt(first.accesses ?? meta.accesses), "c-accesses") +
    card("Variants", String(meta.variants.length), "c-variants");
  if (!state.result) renderCompareTable(liveRows(), false);
}

function liveRows() {
  return state.labels.map((label) => {
    const c = state.counters[label] || {};
    const ref = referenceOf(label) ? state.counters[referenceOf(label)] : undefined;
    return {
      label, reference: isReference(label), faults: c.faults, misses: c.faults,
      allocations: c.requests === undefined ? undefined : c.requests - c.hits - c.faults,
      miss_ratio: c.miss_ratio, refaults: c.refaults, thrash_index: c.thrash_index,
      regret: ref && c.accesses === ref.accesses ? c.faults - ref.faults : null,
      latency_p95_ms: null,
    };
  });
}

// rows stored before allocations were counted apart had misses = requests - hits
const asStored = (r) => (r.allocations === undefined && r.requests !== undefined
  ? { ...r, misses: r.faults, allocations: r.requests - r.hits - r.faults } : r);

const number = (x, digits) => (x === null || x === undefined ? "–" : x.toFixed(digits));

function renderCompareTable(rows, final) {
  $("summary-card").hidden = false;
  const body = rows.map(asStored).map((r) => `<tr class="${r.reference ? "reference" : ""}">` +
    `<th scope="row">${esc(r.label)}</th><td>${fmt(r.misses)}</td><td>${fmt(r.faults)}</td>` +
    `<td>${fmt(r.allocations)}</td><td>${pct(r.miss_ratio)}</td>` +
    `<td>${r.reference ? "reference" : (r.regret === null || r.regret === undefined ? "–" : fmt(r.regret))}</td>` +
    `<td>${r.latency_p95_ms === null || r.latency_p95_ms === undefined ? "–" : ms(r.latency_p95_ms)}</td>` +
    `<td>${fmt(r.refaults)}</td><td>${number(r.thrash_index, 3)}</td></tr>`).join("");
  $("summary").innerHTML = `<table class="summary-table" id="compare-table"><thead><tr>` +
    `<th scope="col">Variant</th>` +
    `<th scope="col" title="reads L0 did not serve (= faults)">Misses</th>` +
    `<th scope="col">Faults</th>` +
    `<th scope="col" title="writes of pages L0 did not hold: nothing was fetched">Allocations</th>` +
    `<th scope="col" title="misses / reads">Miss ratio</th><th scope="col">Regret vs OPT</th>` +
    `<th scope="col">p95 latency</th>` +
    `<th scope="col" title="faults of pages evicted within the refault horizon, over the run">` +
    `Refaults</th>` +
    `<th scope="col" title="refaults per access over the last W accesses (the thrash window)">` +
    `Thrash index at the end</th></tr></thead>` +
    `<tbody>${body}</tbody></table>` +
    (final ? "" : `<p class="muted small">Live totals; p95 latency comes with the final results.</p>`);
}

export function renderResult() {
  const r = state.result;
  if (!r) return;
  if (compare) {
    // rows stored before they carried refaults: the run's results have them
    const results = r.results || {};
    renderCompareTable((r.rows || []).map((row) => (row.refaults === undefined && results[row.label]
      ? { ...row, refaults: results[row.label].refaults } : row)), true);
    return;
  }
  $("summary-card").hidden = false;
  const tierRows = (r.tiers || []).map((t) => `<tr><th scope="row">${esc(t.name)}</th>` +
    `<td>${esc(t.policy)}</td><td>${fmt(t.capacity_tokens)}</td><td>${fmt(t.hits)}</td>` +
    `<td>${fmt(t.misses)}</td><td>${pct(t.hit_ratio)}</td><td>${fmt(t.evictions)}</td>` +
    `<td>${fmt(t.used_tokens)}</td></tr>`).join("");
  const lat = r.latency_ms || {};
  $("summary").innerHTML =
    `<div class="summary-grid">` +
    card("Requests", fmt(r.requests), "s-requests") +
    card("Faults", fmt(r.faults), "s-faults") +
    card("Miss ratio", pct(r.miss_ratio), "s-miss") +
    card("Refaults", fmt(r.refaults), "s-refaults") +
    card("Latency mean", ms(lat.mean), "s-mean") +
    card("Latency p50", ms(lat.p50), "s-p50") +
    card("Latency p95", ms(lat.p95), "s-p95") +
    card("Latency p99", ms(lat.p99), "s-p99") +
    card("Simulated time", ms(r.sim_time_ms), "s-time") +
    regretCard(r) +
    `</div><table class="summary-table"><thead><tr><th scope="col">Tier</th>` +
    `<th scope="col">Policy</th><th scope="col">Capacity</th><th scope="col">Hits</th>` +
    `<th scope="col" title="requests that reached the tier and it did not serve">Misses</th>` +
    `<th scope="col">Hit ratio</th><th scope="col">Evictions</th>` +
    `<th scope="col">Used tokens</th></tr></thead><tbody>${tierRows}</tbody></table>`;
}

// Regret vs OPT (docs/metrics.md): faults minus those of Belady's OPT with the same L0
// capacity on the same accesses, computed once the run has finished (the result then updates).
function regretCard(r) {
  let value = "–";
  let note = "only for runs that finish (a finite workload)";
  if (r.regret !== null && r.regret !== undefined) {
    value = fmt(r.regret);
    note = `OPT (Belady) makes ${fmt(r.opt_faults)} faults with the same L0 capacity`;
  } else if (r.regret_pending) {
    value = "computing…";
    note = "running OPT on the same accesses";
  } else if (r.regret_note) {
    value = "n/a";
    note = r.regret_note;
  }
  return `<div class="counter" title="${esc(note)}"><span class="counter-label">Regret vs OPT</span>` +
    `<span class="counter-value" id="s-regret">${esc(value)}</span>` +
    `<span class="counter-note muted small" id="s-regret-note">${esc(note)}</span></div>`;
}
