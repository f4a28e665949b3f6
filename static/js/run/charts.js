/* VMem Lab run page — the charts. Each line reads one field of the points (by the names of the
 * wire schema, checked here and by tests/web/test_frames.py) from one series. The page keeps
 * every series' points (state.points) as the state and the frames brought them: an overview
 * of at most `budget` points per series, so the browser's memory stays bounded too. */

import { SCHEMA } from "./schema.js";
import { compare, isReference, meta, state } from "./page.js";
import { css, fmt } from "./format.js";

const PALETTE = ["#2f6fde", "#e4572e", "#17a673", "#9b5de5", "#f2a900", "#00a6c8",
                 "#d63384", "#6c757d"];
const DASHES = ["dash", "dot", "dashdot", "longdash"];
const FIELDS = SCHEMA.$defs.point.properties;

// a line: `field` of the points (a tier's entry of per-tier lists), divided by `per`
export function value(point, line) {
  const v = line.tier === undefined ? point[line.field] : (point[line.field] || [])[line.tier];
  return v === undefined ? null : (line.per ? v / line.per : v);
}

function checked(specs) {
  for (const spec of specs) {
    for (const line of spec.series) {
      if (!(line.field in FIELDS)) throw new Error(`chart ${spec.id}: no field ${line.field}`);
    }
  }
  return specs;
}

function singleSpecs() {
  const tiers = meta.tiers;
  const sized = tiers.slice(0, 2).map((t, k) => [t, k]).filter(([t]) => t.capacity_tokens);
  return [
    { id: "hit", title: "Hit ratio per tier", y: "hit ratio", range: [0, 1.02],
      series: tiers.map((t, k) => ({ name: t.name, field: "tier_hit_ratio", tier: k })) },
    { id: "faults", title: "Faults and evictions per window", y: "count",
      series: [
        { name: "faults", field: "faults" },
        { name: "L0 evictions", field: "evictions" },
        { name: "refaults", field: "refaults" },
      ] },
    { id: "occupancy", title: "Occupancy (share of capacity)", y: "used / capacity",
      range: [0, 1.05],
      series: sized.map(([t, k]) => ({
        name: `${t.name} (${fmt(t.capacity_tokens)} tokens)`, field: "tier_used_tokens",
        tier: k, per: t.capacity_tokens,
      })) },
    { id: "latency", title: "Latency per access (simulated ms)", y: "ms",
      series: [
        { name: "p50", field: "latency_p50_ms" },
        { name: "p95", field: "latency_p95_ms" },
        { name: "p99", field: "latency_p99_ms" },
      ] },
    { id: "thrash", title: "Thrash index", y: "refaults per access", range: [0, 1.05],
      series: [{ name: "thrash index", field: "thrash_index" }] },
  ];
}

function compareSpecs() {
  const per = (field, tier) => state.labels.map((label) => ({ name: label, field, tier }));
  return [
    { id: "hit", title: "L0 hit ratio per window", y: "hit ratio", range: [0, 1.02],
      series: per("tier_hit_ratio", 0) },
    { id: "faults", title: "Faults per window", y: "faults", series: per("faults") },
    { id: "missratio", title: "Miss ratio so far", y: "faults / reads", range: [0, 1.02],
      series: per("miss_ratio") },
    { id: "latency", title: "Latency p95 per window (simulated ms)", y: "ms",
      series: per("latency_p95_ms") },
    { id: "thrash", title: "Thrash index", y: "refaults per access", range: [0, 1.05],
      series: per("thrash_index") },
    { id: "occupancy", title: "L0 occupancy (pages)", y: "pages",
      series: per("tier_pages", 0) },
  ];
}

// single runs: every line reads the one series; a comparison: line i is series i
export const seriesOf = (index) => (compare ? state.labels[index] : meta.variants[0]);

function lineStyle(index, name) {
  if (compare && isReference(name)) {
    const refs = state.labels.filter(isReference);
    return { color: css("--muted", "#5b6475"), width: 1.5,
             dash: DASHES[Math.max(0, refs.indexOf(name)) % DASHES.length] };
  }
  return { color: PALETTE[index % PALETTE.length], width: 2 };
}

function layout(spec) {
  const fg = css("--fg", "#1d2330");
  const grid = css("--border", "#dde1e8");
  return {
    title: { text: spec.title, font: { size: 14, color: fg }, x: 0.02, xanchor: "left" },
    margin: { l: 56, r: 12, t: 40, b: 64 },
    height: 290,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: fg, size: 11 },
    xaxis: { title: { text: "accesses", standoff: 4 }, gridcolor: grid, zeroline: false },
    yaxis: { title: { text: spec.y }, gridcolor: grid, zeroline: false,
             range: spec.range, autorange: spec.range ? false : true, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.32, x: 0, yanchor: "top" },
    showlegend: true,
    uirevision: "keep",
  };
}

// x and y of every line of `spec` from points per series
export function traceData(spec, points) {
  return spec.series.map((line, i) => {
    const rows = points[seriesOf(i)] || [];
    return { x: rows.map((p) => p.end), y: rows.map((p) => value(p, line)) };
  });
}

export function buildCharts(points, onZoom) {
  state.points = {};
  for (const [label, rows] of Object.entries(points)) state.points[label] = rows.slice();
  const holder = document.getElementById("charts");
  holder.textContent = "";
  const specs = checked(compare ? compareSpecs() : singleSpecs());
  state.charts = specs.map((spec) => {
    const div = document.createElement("div");
    div.className = "chart card";
    div.id = `chart-${spec.id}`;
    div.setAttribute("role", "img");
    div.setAttribute("aria-label", spec.title);
    holder.appendChild(div);
    const traces = traceData(spec, points).map((xy, i) => ({
      type: "scatter", mode: "lines", name: spec.series[i].name, ...xy,
      line: lineStyle(i, spec.series[i].name),
      hovertemplate: "%{y}<extra>%{fullData.name}</extra>",
    }));
    const config = {
      responsive: true, displaylogo: false,
      toImageButtonOptions: { format: "png", filename: `run-${meta.id}-${spec.id}`, scale: 2 },
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
    };
    const chart = { spec, div };
    if (window.Plotly) {
      window.Plotly.newPlot(div, traces, layout(spec), config);
      if (onZoom) div.on("plotly_relayout", (event) => onZoom(chart, event));
    }
    return chart;
  });
}

// a frame's points: kept, and drawn at the next animation frame; false when a series is
// unknown (the state is then re-read)
export function queuePoints(points) {
  for (const [label, rows] of Object.entries(points)) {
    if (compare && !state.labels.includes(label)) return false;
    (state.points[label] = state.points[label] || []).push(...rows);
    (state.pending[label] = state.pending[label] || []).push(...rows);
  }
  if (!state.flushQueued) {
    state.flushQueued = true;
    requestAnimationFrame(flushPoints);
  }
  return true;
}

// more points kept than twice the state's budget: time to re-read the overview
export const overBudget = () => Object.values(state.points || {})
  .some((rows) => rows.length > 2 * state.budget);

function flushPoints() {
  state.flushQueued = false;
  const pending = state.pending;
  state.pending = {};
  if (!window.Plotly) return;
  for (const { spec, div } of state.charts) {
    const xs = [], ys = [], idx = [];
    spec.series.forEach((line, i) => {
      const rows = pending[seriesOf(i)];
      if (!rows || !rows.length) return;
      xs.push(rows.map((p) => p.end));
      ys.push(rows.map((p) => value(p, line)));
      idx.push(i);
    });
    if (idx.length) window.Plotly.extendTraces(div, { x: xs, y: ys }, idx);
  }
}
