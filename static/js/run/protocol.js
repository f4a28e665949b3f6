/* VMem Lab run page — the protocol (docs/architecture.md §6; the vocabulary is schema.js).
 *
 * The websocket sends the state on connect — one "state" message, then `parts - 1`
 * "state_part" messages with the rest of its points, no message over 256 KiB — then frames
 * with sequence numbers (every window closed since the previous frame, per series) and status
 * messages. A frame whose seq is not the next one means frames were missed: the page re-reads
 * the state over HTTP (state.json) and carries on; so it does when the points it keeps pass
 * twice the state's budget (the server's overview is then coarser and as faithful). */

import { buildCharts, overBudget, queuePoints } from "./charts.js";
import { setStatus, showConnection, showSpeed } from "./controls.js";
import { addEvents, fillEventFilter } from "./events.js";
import { toast } from "./format.js";
import { $, DONE, compare, meta, root, state } from "./page.js";
import { renderCounters, renderResult } from "./summary.js";
import { onZoom } from "./zoom.js";

function applyState(msg) {
  state.seq = msg.seq;
  state.budget = msg.budget || state.budget;
  root.dataset.seq = String(msg.seq);
  Object.assign(meta, {
    status: msg.run.status, accesses: msg.run.accesses, total: msg.run.total,
    capacities: msg.run.capacities,
  });
  const labels = [...msg.run.series];
  for (const label of Object.keys(msg.points)) if (!labels.includes(label)) labels.push(label);
  state.labels = labels;
  state.counters = msg.counters || {};
  state.result = msg.result;
  state.pending = {};
  buildCharts(msg.points, onZoom);
  fillEventFilter();
  state.events = [];
  addEvents(msg.events);
  renderCounters();
  setStatus({ ...msg.run, result: msg.result, eta_s: null }, renderResult);
  if (!msg.result) $("summary-card").hidden = !compare;
  state.ready = true;
  root.dataset.ready = "1";
}

function applyFrame(msg) {
  if (!queuePoints(msg.points || {})) {
    resync();
    return;
  }
  state.seq = msg.seq;
  root.dataset.seq = String(msg.seq);
  Object.assign(state.counters, msg.counters || {});
  addEvents(msg.events);
  renderCounters();
  setStatus(msg, renderResult);
  if (overBudget()) resync();
}

function onFrame(msg) {
  if (state.resyncing || !state.ready) {
    state.buffered.push(msg);
    return;
  }
  if (msg.seq <= state.seq) return;          // already in the state we have
  if (msg.seq !== state.seq + 1) {           // a gap: frames were dropped
    state.buffered.push(msg);
    resync();
    return;
  }
  applyFrame(msg);
}

export function resync() {
  if (state.resyncing) return;
  state.resyncing = true;
  root.dataset.resyncs = String(Number(root.dataset.resyncs || 0) + 1);
  fetch(meta.urls.state, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status))))
    .then((msg) => {
      applyState(msg);
      state.resyncing = false;
      drainBuffer();
    })
    .catch(() => {
      state.resyncing = false;
      setTimeout(resync, 1000);
    });
}

function drainBuffer() {
  const frames = state.buffered.sort((a, b) => a.seq - b.seq);
  state.buffered = [];
  for (const f of frames) onFrame(f);
}

// a state in several messages: draw once every part is in
function onStatePart(msg) {
  const parts = state.parts;
  if (!parts || msg.seq !== parts.head.seq) return;
  for (const [label, rows] of Object.entries(msg.points)) {
    (parts.head.points[label] = parts.head.points[label] || []).push(...rows);
  }
  parts.received += 1;
  if (parts.received === parts.head.parts) {
    state.parts = null;
    applyState(parts.head);
    drainBuffer();
  }
}

function onMessage(event) {
  let msg;
  try { msg = JSON.parse(event.data); } catch { return; }
  if (msg.type === "state") {
    state.ready = false;
    if ((msg.parts || 1) > 1) {
      state.parts = { head: msg, received: 1 };
      return;
    }
    applyState(msg);
    drainBuffer();
  } else if (msg.type === "state_part") {
    onStatePart(msg);
  } else if (msg.type === "frame") {
    onFrame(msg);
  } else if (msg.type === "status") {
    setStatus(msg, renderResult);
  } else if (msg.type === "progress") {  // inside a long window: no frame carries these yet
    setStatus(msg, renderResult);
    Object.assign(state.counters, msg.counters || {});
    renderCounters();
  } else if (msg.type === "error") {
    toast(msg.error);
  } else if (msg.type === "ack") {
    if ("speed" in msg) {
      state.speed = msg.speed;
      showSpeed(msg.speed);
    }
  }
}

export function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + meta.urls.websocket);
  state.ws = ws;
  ws.onopen = () => {
    state.retry = 0;
    showConnection("open");
  };
  ws.onmessage = onMessage;
  ws.onclose = (event) => {
    state.ws = null;
    state.parts = null;
    if (event.code === 4403) {            // the owner made the run private
      showConnection("private");
      toast("The owner made this run private: the live view has stopped.");
      return;
    }
    if (DONE.has(state.status)) {
      showConnection("replay");
      return;
    }
    showConnection("down");
    state.retry = Math.min(state.retry + 1, 6);
    setTimeout(connect, 500 * state.retry);
  };
}
