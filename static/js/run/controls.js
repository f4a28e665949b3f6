/* VMem Lab run page — status, progress and the owner's controls (pause, step, stop, speed),
 * over the websocket when it is open, else over HTTP. */

import { $, DONE, meta, root, state } from "./page.js";
import { duration, fmt, speedText, toast } from "./format.js";

const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, null];

// the connection badge: "live" only while a run can still change; once it has ended the
// status beside it says so, and the badge goes
export function showConnection(how) {
  const conn = $("conn");
  if (how) conn.dataset.how = how;
  const open = conn.dataset.how === "open";
  conn.hidden = open && DONE.has(state.status);
  if (conn.hidden) {
    conn.textContent = "";
    conn.className = "conn";
  } else if (open) {
    conn.textContent = "live";
    conn.className = "conn live";
  } else if (conn.dataset.how === "replay") {
    conn.textContent = "replay";
    conn.className = "conn";
  } else if (conn.dataset.how === "private") {
    conn.textContent = "private";
    conn.className = "conn down";
  } else if (conn.dataset.how === "down") {
    conn.textContent = "reconnecting…";
    conn.className = "conn down";
  }
}

export function setStatus(msg, onResult) {
  if (msg.status) state.status = msg.status;
  if ("speed" in msg) {
    // frames the executor sent before it saw our change still carry the old speed, and
    // they can arrive after the server's acknowledgement: for 3 s after a change, keep
    // showing the speed asked for (the executor applies it within a tenth of a second)
    const asked = state.speedAsked;
    if (!(asked && msg.speed !== asked.speed && Date.now() - asked.at < 3000)) {
      state.speed = msg.speed;
    }
  }
  root.dataset.status = state.status;
  const badge = $("status");
  badge.textContent = state.status;
  badge.className = `status status-${state.status}`;
  if (msg.progress !== undefined || msg.accesses !== undefined) setProgress(msg);
  if (msg.error) {
    $("run-error").hidden = false;
    $("run-error").textContent = msg.error;
  }
  if (msg.result) {
    state.result = msg.result;
    if (onResult) onResult();
  }
  showSpeed(state.speed);
  const pause = $("btn-pause");
  if (pause) {
    const paused = state.status === "paused";
    pause.dataset.action = paused ? "resume" : "pause";
    pause.innerHTML = paused ? "Resume <kbd>space</kbd>" : "Pause <kbd>space</kbd>";
    for (const id of ["btn-pause", "btn-step", "btn-stop"]) {
      $(id).disabled = DONE.has(state.status);
    }
  }
  if (DONE.has(state.status)) $("eta").textContent = "";
  const again = $("again-form");
  if (again) again.hidden = !DONE.has(state.status);
  showConnection();
}

// the speed and what it means: simulated ms per second, or accesses per second when
// nothing costs time (every access counts as at least 1 ms)
export function showSpeed(v) {
  const label = $("speed-label");
  if (label) label.textContent = speedText(v);
  const note = $("speed-note");
  if (!note) return;
  note.textContent = v === null || v === undefined ? "as fast as possible"
    : `simulated time per second · at most ${fmt(v)} access${v === 1 ? "" : "es"}/s`;
}

function setProgress(msg) {
  const total = msg.total ?? meta.total;
  const done = msg.accesses ?? 0;
  const share = state.status === "finished" ? 1 : (msg.progress ?? null);
  const bar = $("progress");
  if (share !== null && total) {
    $("progress-fill").style.width = `${(100 * share).toFixed(1)}%`;
    bar.setAttribute("aria-valuenow", (100 * share).toFixed(0));
    // sized accesses cut into pages: the total is an upper bound until the run ends
    const about = meta.total_is_bound && state.status !== "finished" ? "about " : "";
    $("progress-text").textContent = `${fmt(done)} of ${about}${fmt(total)} accesses (${(100 * share).toFixed(1)} %)`;
  } else {
    bar.classList.add("endless");
    $("progress-text").textContent = `${fmt(done)} accesses${total ? "" : " (endless workload)"}`;
  }
  if ("eta_s" in msg) $("eta").textContent = state.status === "running" ? duration(msg.eta_s) : "";
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export function control(action, extra = {}) {
  if (!meta.can_control) return;
  const message = { action, ...extra };
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(message));
    return;
  }
  fetch(meta.urls.control, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(message),
  }).then((r) => r.json()).then((data) => { if (data.error) toast(data.error); })
    .catch(() => toast("could not reach the server"));
}

function changeSpeed(direction) {
  const current = state.speed === undefined ? null : state.speed;
  let i = SPEEDS.indexOf(current);
  if (i < 0) i = SPEEDS.findIndex((v) => v !== null && v >= current);
  if (i < 0) i = SPEEDS.length - 1;
  const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + direction))];
  state.speed = next;
  state.speedAsked = { speed: next, at: Date.now() };
  showSpeed(next);
  control("speed", { speed: next });
}

export function wireControls() {
  if (!meta.can_control) return;
  for (const id of ["btn-pause", "btn-step", "btn-stop"]) {
    $(id).addEventListener("click", (e) => {
      const action = e.currentTarget.dataset.action;
      if (action === "stop" && !confirm("Stop this run? It cannot be resumed.")) return;
      control(action);
    });
  }
  $("speed-up").addEventListener("click", () => changeSpeed(+1));
  $("speed-down").addEventListener("click", () => changeSpeed(-1));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (DONE.has(state.status) && e.key !== "+" && e.key !== "-") return;
    if (e.key === " " || e.code === "Space") {
      if (t && /^(BUTTON|A)$/.test(t.tagName)) return; // the focused control handles it
      e.preventDefault();
      control(state.status === "paused" ? "resume" : "pause");
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      control("step");
    } else if (e.key === "+" || e.key === "=") {
      e.preventDefault();
      changeSpeed(+1);
    } else if (e.key === "-" || e.key === "_") {
      e.preventDefault();
      changeSpeed(-1);
    }
  });
}
