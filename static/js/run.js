/* VMem Lab — the live run page.
 *
 * Protocol (docs/architecture.md §6): the websocket sends the whole state on connect, then frames with
 * sequence numbers (every window closed since the previous frame, per variant) and status
 * messages. A frame whose seq is not the next one means frames were missed: the page re-reads
 * the state over HTTP (state.json) and carries on. Chart data goes to Plotly.extendTraces,
 * batched per animation frame; the event log keeps a bounded number of rows.
 */
(() => {
  "use strict";

  const root = document.getElementById("run-root");
  if (!root) return;
  const meta = JSON.parse(document.getElementById("run-meta").textContent);
  const compare = meta.kind === "compare";
  const tiers = meta.tiers;
  const MAX_LOG = 50;
  const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, null];
  const DONE = new Set(["finished", "stopped", "failed", "interrupted"]);
  const PALETTE = ["#2f6fde", "#e4572e", "#17a673", "#9b5de5", "#f2a900", "#00a6c8",
                   "#d63384", "#6c757d"];

  const $ = (id) => document.getElementById(id);
  const state = {
    seq: -1,
    status: meta.status,
    speed: meta.speed,
    labels: [],          // series of a comparison: variants, then OPT references
    charts: [],
    events: [],
    counters: {},
    result: null,
    pending: {},         // points waiting for the next animation frame
    flushQueued: false,
    resyncing: false,
    buffered: [],
    ws: null,
    retry: 0,
    ready: false,
  };

  // --- formatting -------------------------------------------------------------------------

  const nf = new Intl.NumberFormat("en-US");
  const fmt = (n) => (n === null || n === undefined ? "–" : nf.format(n));
  const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");
  const ms = (x) => {
    if (x === null || x === undefined) return "–";
    if (x >= 60000) return (x / 60000).toFixed(1) + " min";
    if (x >= 1000) return (x / 1000).toFixed(2) + " s";
    return x.toFixed(x < 10 ? 2 : 1) + " ms";
  };
  const duration = (s) => {
    if (s === null || s === undefined || !isFinite(s)) return "";
    if (s < 1) return "under a second left";
    if (s < 90) return `about ${Math.round(s)} s left`;
    return `about ${Math.round(s / 60)} min left`;
  };
  const speedText = (v) => (v === null || v === undefined ? "max"
    : (v >= 1000 ? `${v / 1000} s/s` : `${v} ms/s`));
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  function css(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  // --- charts -----------------------------------------------------------------------------

  function chartSpecs() {
    if (!compare) {
      const sized = tiers.slice(0, 2).map((t, k) => [t, k]).filter(([t]) => t.capacity_tokens);
      return [
        { id: "hit", title: "Hit ratio per tier", y: "hit ratio", range: [0, 1.02],
          series: tiers.map((t, k) => ({ name: t.name, get: (p) => p.hr[k] })) },
        { id: "faults", title: "Faults and evictions per window", y: "count",
          series: [
            { name: "faults", get: (p) => p.faults },
            { name: "L0 evictions", get: (p) => p.ev },
            { name: "refaults", get: (p) => p.rf },
          ] },
        { id: "occupancy", title: "Occupancy (share of capacity)", y: "used / capacity",
          range: [0, 1.05],
          series: sized.map(([t, k]) => ({
            name: `${t.name} (${fmt(t.capacity_tokens)} tokens)`,
            get: (p) => p.used[k] / t.capacity_tokens,
          })) },
        { id: "latency", title: "Latency per access (simulated ms)", y: "ms",
          series: [
            { name: "p50", get: (p) => p.p50 },
            { name: "p95", get: (p) => p.p95 },
            { name: "p99", get: (p) => p.p99 },
          ] },
        { id: "thrash", title: "Thrash index", y: "refaults per access", range: [0, 1.05],
          series: [{ name: "thrash index", get: (p) => p.thrash }] },
      ];
    }
    const per = (get) => state.labels.map((label) => ({ name: label, get }));
    return [
      { id: "hit", title: "L0 hit ratio per window", y: "hit ratio", range: [0, 1.02],
        series: per((p) => p.hr[0]) },
      { id: "faults", title: "Faults per window", y: "faults", series: per((p) => p.faults) },
      { id: "missratio", title: "Miss ratio so far", y: "faults / reads", range: [0, 1.02],
        series: per((p) => p.mr) },
      { id: "latency", title: "Latency p95 per window (simulated ms)", y: "ms",
        series: per((p) => p.p95) },
      { id: "thrash", title: "Thrash index", y: "refaults per access", range: [0, 1.05],
        series: per((p) => p.thrash) },
      { id: "occupancy", title: "L0 occupancy (pages)", y: "pages",
        series: per((p) => p.pages[0]) },
    ];
  }

  function lineStyle(spec, index, name) {
    if (compare && name.startsWith("OPT @")) {
      const refs = state.labels.filter((l) => l.startsWith("OPT @"));
      const dashes = ["dash", "dot", "dashdot", "longdash"];
      return { color: css("--muted", "#5b6475"), width: 1.5,
               dash: dashes[Math.max(0, refs.indexOf(name)) % dashes.length] };
    }
    return { color: PALETTE[index % PALETTE.length], width: 2 };
  }

  function seriesLabel(spec, index) {
    // single runs: every series reads the one variant's points
    return compare ? state.labels[index] : meta.variants[0];
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

  function buildCharts(points) {
    const holder = $("charts");
    holder.textContent = "";
    state.charts = chartSpecs().map((spec) => {
      const div = document.createElement("div");
      div.className = "chart card";
      div.id = `chart-${spec.id}`;
      div.setAttribute("role", "img");
      div.setAttribute("aria-label", spec.title);
      holder.appendChild(div);
      const traces = spec.series.map((s, i) => {
        const rows = points[seriesLabel(spec, i)] || [];
        return {
          type: "scatter", mode: "lines", name: s.name,
          x: rows.map((p) => p.end), y: rows.map(s.get),
          line: lineStyle(spec, i, s.name), hovertemplate: "%{y}<extra>%{fullData.name}</extra>",
        };
      });
      const config = {
        responsive: true, displaylogo: false,
        toImageButtonOptions: { format: "png", filename: `run-${meta.id}-${spec.id}`, scale: 2 },
        modeBarButtonsToRemove: ["select2d", "lasso2d"],
      };
      if (window.Plotly) window.Plotly.newPlot(div, traces, layout(spec), config);
      return { spec, div };
    });
  }

  function queuePoints(points) {
    for (const [label, rows] of Object.entries(points)) {
      if (compare && !state.labels.includes(label)) return false;
      (state.pending[label] = state.pending[label] || []).push(...rows);
    }
    if (!state.flushQueued) {
      state.flushQueued = true;
      requestAnimationFrame(flushPoints);
    }
    return true;
  }

  function flushPoints() {
    state.flushQueued = false;
    const pending = state.pending;
    state.pending = {};
    if (!window.Plotly) return;
    for (const { spec, div } of state.charts) {
      const xs = [], ys = [], idx = [];
      spec.series.forEach((s, i) => {
        const rows = pending[seriesLabel(spec, i)];
        if (!rows || !rows.length) return;
        xs.push(rows.map((p) => p.end));
        ys.push(rows.map(s.get));
        idx.push(i);
      });
      if (idx.length) window.Plotly.extendTraces(div, { x: xs, y: ys }, idx);
    }
  }

  // --- counters, log, summary ---------------------------------------------------------------

  function card(label, value, id) {
    return `<div class="counter"><span class="counter-label">${esc(label)}</span>` +
      `<span class="counter-value" id="${id}">${esc(value)}</span></div>`;
  }

  function renderCounters() {
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
    const opt = {};
    for (const label of state.labels) {
      if (label.startsWith("OPT @")) opt[label.slice(6)] = state.counters[label];
    }
    return state.labels.map((label) => {
      const c = state.counters[label] || {};
      const isRef = label.startsWith("OPT @");
      const cap = (meta.capacities || {})[label];
      const ref = cap !== undefined ? opt[String(cap)] : undefined;
      return {
        label, reference: isRef, faults: c.faults, misses: c.requests - c.hits,
        miss_ratio: c.miss_ratio, thrash_index: c.thrash_index,
        regret: !isRef && ref && c.accesses === ref.accesses ? c.faults - ref.faults : null,
        latency_p95_ms: null,
      };
    });
  }

  function renderCompareTable(rows, final) {
    $("summary-card").hidden = false;
    const body = rows.map((r) => `<tr class="${r.reference ? "reference" : ""}">` +
      `<th scope="row">${esc(r.label)}</th><td>${fmt(r.misses)}</td><td>${fmt(r.faults)}</td>` +
      `<td>${pct(r.miss_ratio)}</td>` +
      `<td>${r.reference ? "reference" : (r.regret === null || r.regret === undefined ? "–" : fmt(r.regret))}</td>` +
      `<td>${r.latency_p95_ms === null || r.latency_p95_ms === undefined ? "–" : ms(r.latency_p95_ms)}</td>` +
      `<td>${r.thrash_index === undefined || r.thrash_index === null ? "–" : r.thrash_index.toFixed(3)}</td></tr>`).join("");
    $("summary").innerHTML = `<table class="summary-table" id="compare-table"><thead><tr>` +
      `<th scope="col">Variant</th><th scope="col">Misses</th><th scope="col">Faults</th>` +
      `<th scope="col">Miss ratio</th><th scope="col">Regret vs OPT</th>` +
      `<th scope="col">p95 latency</th><th scope="col">Thrash index</th></tr></thead>` +
      `<tbody>${body}</tbody></table>` +
      (final ? "" : `<p class="muted small">Live totals; p95 latency comes with the final results.</p>`);
  }

  function renderResult() {
    const r = state.result;
    if (!r) return;
    if (compare) {
      renderCompareTable(r.rows || [], true);
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
      `<th scope="col">Misses</th><th scope="col">Hit ratio</th><th scope="col">Evictions</th>` +
      `<th scope="col">Used tokens</th></tr></thead><tbody>${tierRows}</tbody></table>`;
  }

  // Regret vs OPT (docs/architecture.md §5): faults minus those of Belady's OPT with the same L0 capacity
  // on the same accesses, computed once the run has finished (the result is then updated).
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

  function addEvents(events) {
    if (!events || !events.length) return;
    state.events.push(...events);
    if (state.events.length > MAX_LOG) state.events.splice(0, state.events.length - MAX_LOG);
    const rows = state.events.slice().reverse().map((e) => `<tr class="ev-${esc(e.kind)}">` +
      (compare ? `<td>${esc(e.v)}</td>` : "") +
      `<td>${fmt(e.i)}</td><td>${esc(e.kind)}${e.refault ? ' <span class="tag warn">refault</span>' : ""}</td>` +
      `<td><code>${esc(e.page)}</code></td>` +
      `<td>${esc(e.src || "")} → ${e.dst ? esc(e.dst) : "out"}</td>` +
      `<td>${e.ms ? ms(e.ms) : ""}</td></tr>`).join("");
    $("event-log").innerHTML = rows;
  }

  // --- status, progress, controls -------------------------------------------------------------

  function setStatus(msg) {
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
      renderResult();
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
  }

  // the speed and what it means: simulated ms per second, or accesses per second when
  // nothing costs time (every access counts as at least 1 ms)
  function showSpeed(v) {
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
    const share = DONE.has(state.status) && state.status === "finished" ? 1 : (msg.progress ?? null);
    const bar = $("progress");
    if (share !== null && total) {
      $("progress-fill").style.width = `${(100 * share).toFixed(1)}%`;
      bar.setAttribute("aria-valuenow", (100 * share).toFixed(0));
      $("progress-text").textContent = `${fmt(done)} of ${fmt(total)} accesses (${(100 * share).toFixed(1)} %)`;
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

  function control(action, extra = {}) {
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

  function toast(text) {
    let el = $("toast");
    if (!el) {
      el = document.createElement("div");
      el.id = "toast";
      el.className = "toast";
      el.setAttribute("role", "status");
      document.body.appendChild(el);
    }
    el.textContent = text;
    el.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => el.classList.remove("show"), 3500);
  }

  function wireControls() {
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

  // --- protocol -----------------------------------------------------------------------------

  function applyState(msg) {
    state.seq = msg.seq;
    root.dataset.seq = String(msg.seq);
    Object.assign(meta, {
      status: msg.run.status, accesses: msg.run.accesses, total: msg.run.total,
      capacities: msg.run.capacities,
    });
    if (compare) {
      const labels = [...msg.run.variants];
      for (const label of Object.keys(msg.points)) if (!labels.includes(label)) labels.push(label);
      state.labels = labels;
    }
    state.counters = msg.counters || {};
    state.result = msg.result;
    state.pending = {};
    buildCharts(msg.points);
    state.events = [];
    addEvents(msg.events);
    renderCounters();
    setStatus({ ...msg.run, result: msg.result, eta_s: null });
    if (!msg.result) {
      $("summary-card").hidden = !compare;
    }
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
    setStatus(msg);
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

  function resync() {
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

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + meta.urls.websocket);
    state.ws = ws;
    const conn = $("conn");
    ws.onopen = () => {
      state.retry = 0;
      conn.textContent = "live";
      conn.className = "conn live";
    };
    ws.onmessage = (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch { return; }
      if (msg.type === "state") {
        state.ready = false;
        applyState(msg);
        drainBuffer();
      } else if (msg.type === "frame") {
        onFrame(msg);
      } else if (msg.type === "status") {
        setStatus(msg);
      } else if (msg.type === "error") {
        toast(msg.error);
      } else if (msg.type === "ack") {
        if ("speed" in msg) {
          state.speed = msg.speed;
          showSpeed(msg.speed);
        }
      }
    };
    ws.onclose = (event) => {
      state.ws = null;
      if (event.code === 4403) {            // the owner made the run private
        conn.textContent = "private";
        conn.className = "conn down";
        toast("The owner made this run private: the live view has stopped.");
        return;
      }
      if (DONE.has(state.status)) {
        conn.textContent = "replay";
        conn.className = "conn";
        return;
      }
      conn.textContent = "reconnecting…";
      conn.className = "conn down";
      state.retry = Math.min(state.retry + 1, 6);
      setTimeout(connect, 500 * state.retry);
    };
  }

  wireControls();
  setStatus({ status: meta.status, speed: meta.speed, progress: meta.progress,
              accesses: meta.accesses, total: meta.total });
  if ("WebSocket" in window) {
    connect();
  } else {
    resync();
  }
  window.vmemRun = { state, meta, resync };
})();
