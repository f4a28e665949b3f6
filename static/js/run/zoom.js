/* VMem Lab run page — full resolution on zoom. The charts draw an overview (buckets of
 * windows, min and max kept); zooming into a range that holds at most ZOOM_WINDOWS windows per
 * series fetches those windows at full resolution from the windows pages
 * (runs/<id>/windows.json?after=&until=&limit=, a cursor per page) and draws them in the
 * range; zooming out again draws the overview. */

import { traceData } from "./charts.js";
import { meta, state } from "./page.js";

const ZOOM_WINDOWS = 4000;
const PAGE_ROWS = 5000;
const MAX_PAGES = 20;

function rangeOf(event) {
  if (event["xaxis.autorange"]) return "reset";
  const range = event["xaxis.range"] || [event["xaxis.range[0]"], event["xaxis.range[1]"]];
  const [lo, hi] = range;
  if (lo === undefined || hi === undefined) return null;
  return [Math.max(0, Math.floor(lo)), Math.ceil(hi)];
}

// is the range drawn from buckets, and small enough to fetch whole?
function worthFetching([lo, hi]) {
  let bucketed = false;
  let windows = 0;
  for (const rows of Object.values(state.points || {})) {
    let n = 0;
    for (const p of rows) {
      if (p.end < lo || p.end > hi) continue;
      if (p.windows) bucketed = true;
      n += p.windows ? p.windows / 2 : 1;
    }
    windows = Math.max(windows, n);
  }
  return bucketed && windows <= ZOOM_WINDOWS;
}

async function fetchRange([lo, hi]) {
  const points = {};
  let after = lo > 0 ? lo - 1 : 0;
  for (let page = 0; page < MAX_PAGES && after !== null; page++) {
    const url = `${meta.urls.windows_page}?after=${after}&until=${hi}&limit=${PAGE_ROWS}`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`windows: ${response.status}`);
    const body = await response.json();
    for (const [label, rows] of Object.entries(body.points)) {
      (points[label] = points[label] || []).push(...rows);
    }
    after = body.next;
  }
  return points;
}

function draw(chart, points) {
  const data = traceData(chart.spec, points);
  window.Plotly.restyle(chart.div, { x: data.map((d) => d.x), y: data.map((d) => d.y) });
}

export async function onZoom(chart, event) {
  const range = rangeOf(event);
  if (!range || !window.Plotly) return;
  if (range === "reset") {
    if (chart.zoomed) {
      chart.zoomed = false;
      draw(chart, state.points);
    }
    return;
  }
  if (!worthFetching(range)) return;
  const [lo, hi] = range;
  let detail;
  try {
    detail = await fetchRange(range);
  } catch {
    return; // the overview stays: it is right, only coarser
  }
  const merged = {};
  for (const [label, rows] of Object.entries(state.points)) {
    merged[label] = [
      ...rows.filter((p) => p.end < lo),
      ...(detail[label] || []),
      ...rows.filter((p) => p.end > hi),
    ];
  }
  chart.zoomed = true;
  draw(chart, merged);
  chart.div.dataset.detail = String(Object.values(detail).reduce((n, r) => n + r.length, 0));
}
