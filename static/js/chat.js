/* VMem Lab — the live chat page.
 *
 * Protocol (like the run page, docs/architecture.md §6): the websocket /ws/chat/<id>/ sends the whole state on
 * connect, then "message" (the user's message, saved), "turn" (the answer or the error, the
 * memory view, the turn's events) and "status" (scripts: progress, totals). Every frame carries
 * the total number of messages: a page that finds one missing re-reads state.json. Messages are
 * sent with a POST (the turn runs in a worker thread on the server; the page never waits on it).
 */
(() => {
  "use strict";

  const root = document.getElementById("chat-root");
  if (!root) return;
  const initial = JSON.parse(document.getElementById("chat-state").textContent);
  const meta = initial.chat;
  const isScript = meta.kind === "script";
  const MAX_EVENTS = 40;
  const BUSY = new Set(["thinking", "queued", "running"]);

  const $ = (id) => document.getElementById(id);
  const state = {
    messages: new Map(),   // id -> message
    status: meta.status,
    snapshot: {},
    events: [],
    l0: new Set(),
    totals: meta.totals,
    progress: meta.progress,
    error: meta.error,
    ws: null,
    retry: 0,
    fetching: false,
    sending: false,
  };

  const nf = new Intl.NumberFormat("en-US");
  const fmt = (n) => (n === null || n === undefined ? "–" : nf.format(n));
  const pct = (x) => (x === null || x === undefined ? "–" : Math.round(100 * x) + " %");
  const secs = (s) => (s === null || s === undefined ? "–"
    : s >= 1 ? s.toFixed(1) + " s" : Math.round(s * 1000) + " ms");
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // --- messages ---------------------------------------------------------------------------

  const errorKind = (m) => (m.metrics && m.metrics.error && m.metrics.error.kind) || "error";
  // what went wrong, in words, above an error's text
  const ERROR_TITLES = { too_long: "the message is too long for the context",
    interrupted: "interrupted" };

  function messageMeta(m) {
    const x = m.metrics || {};
    const bits = [];
    if (m.role === "user") {
      bits.push(`turn ${m.turn}`);
      if (x.probe) bits.push(`probe: needs ${esc(x.probe.needs.join(", "))}`);
      if (x.labels && x.labels.length) bits.push(`carries ${esc(x.labels.join(", "))}`);
      return bits.join(" · ");
    }
    if (m.role === "error") {
      const kind = errorKind(m);
      const next = kind === "too_long" ? "send it in shorter parts" : "you can send again";
      return `${esc(kind)} · your message is kept; ${next}`;
    }
    if (x.truncated) {
      bits.push(`<span class="cut" title="the model stopped at the answer limit (finish reason ` +
        `“length”): the answer is incomplete">cut off at the ${fmt(meta.max_tokens)}-token ` +
        "limit</span>");
    }
    if (x.recall === true) {
      bits.push('<span class="ok" title="every page this probe needs was in the context when ' +
        'the model was called">pages in context ✓</span>');
    }
    if (x.recall === false) {
      bits.push('<span class="miss" title="a page this probe needs was not in the context ' +
        'when the model was called">pages not in context ✗</span>');
    }
    if (x.answer_hit === true) bits.push('<span class="hit">answer has the fact ✓</span>');
    if (x.answer_hit === false) bits.push('<span class="nohit">answer lacks the fact ✗</span>');
    bits.push(`${fmt(x.faults)} fault${x.faults === 1 ? "" : "s"}`);
    bits.push(`${fmt(x.evictions)} eviction${x.evictions === 1 ? "" : "s"}`);
    bits.push(`model ${secs(x.model_seconds)}`);
    bits.push(`memory ${secs(x.memory_seconds)}`);
    if (x.prompt_tokens) bits.push(`${fmt(x.prompt_tokens)} prompt tokens`);
    if (x.tool_calls) bits.push(`${fmt(x.tool_calls)} tool call${x.tool_calls === 1 ? "" : "s"}`);
    if (x.warning) bits.push(esc(x.warning));
    (x.notes || []).forEach((n) => bits.push(esc(n)));
    return bits.join(" · ");
  }

  function renderMessage(m) {
    const li = document.createElement("li");
    li.className = `msg ${m.role}`;
    li.dataset.id = m.id;
    li.dataset.role = m.role;
    const title = ERROR_TITLES[errorKind(m)] || "the model call failed";
    const kind = m.role === "error" ? `<span class="msg-kind">${esc(title)}</span>` : "";
    const cut = m.metrics && m.metrics.truncated ? '<span class="msg-cut" aria-hidden="true">' +
      " …</span>" : "";
    li.classList.toggle("truncated", Boolean(cut));
    li.innerHTML = `${kind}<span class="msg-text">${esc(m.text)}${cut}</span>` +
      `<span class="msg-meta">${messageMeta(m)}</span>`;
    return li;
  }

  function addMessages(list) {
    const log = $("messages");
    let added = false;
    for (const m of list || []) {
      if (state.messages.has(m.id)) continue;
      state.messages.set(m.id, m);
      const empty = log.querySelector(".empty-log");
      if (empty) empty.remove();
      log.appendChild(renderMessage(m));
      added = true;
    }
    if (!state.messages.size && !log.querySelector(".empty-log")) {
      const li = document.createElement("li");
      li.className = "empty-log";
      li.textContent = isScript ? "The script has not started yet." :
        "Say something: your message becomes pages in L0.";
      log.appendChild(li);
    }
    if (added) log.scrollTop = log.scrollHeight;
  }

  // --- the memory panel --------------------------------------------------------------------

  function counter(label, value, id) {
    return `<div class="counter"${id ? ` id="${id}"` : ""}><span class="counter-label">${label}` +
      `</span><span class="counter-value">${value}</span></div>`;
  }

  function renderSnapshot(s) {
    if (!s || !s.budget) return;
    state.snapshot = s;
    const used = s.l0_used || 0;
    const pinned = Math.min(s.pinned_tokens || 0, used);
    const share = used / s.budget;
    $("budget-pinned").style.width = `${(100 * pinned / s.budget).toFixed(2)}%`;
    $("budget-used").style.width = `${(100 * Math.max(0, used - pinned) / s.budget).toFixed(2)}%`;
    $("budget").classList.toggle("full", share >= 0.95);
    $("budget").setAttribute("aria-valuemax", s.budget);
    $("budget").setAttribute("aria-valuenow", used);
    $("budget-text").innerHTML = `<strong>${fmt(used)}</strong> of ${fmt(s.budget)} tokens ` +
      `(${pct(share)}) · <span class="legend-pin">pinned ${fmt(pinned)}</span> · ` +
      `<span class="legend-used">other</span> · window ${fmt(s.context_window)}`;
    if (s.tokenizer) $("tokenizer").textContent = s.tokenizer;
    $("tools").textContent = { native: "tool calls offered", text: "written page_fault(id)",
      off: "none (preset)" }[s.tools] || "–";
    $("mem-counters").innerHTML = [
      counter("turn", fmt(s.turn)),
      counter("faults", fmt(s.faults), "c-faults"),
      counter("evictions", fmt(s.evictions), "c-evictions"),
      counter("thrash index", s.thrash_index === undefined ? "–" : s.thrash_index.toFixed(3),
              "c-thrash"),
      counter("pages outside L0", fmt(s.outside)),
      counter("policy", esc(s.policy || "–")),
    ].join("");
    const before = state.l0;
    const now = new Set();
    $("l0-pages").innerHTML = (s.l0 || []).map((p) => {
      now.add(p.id);
      const fresh = before.size && !before.has(p.id) ? " fresh" : "";
      const level = ["full", "reduced", "abstract", "reference"][p.level] || p.level;
      return `<tr class="l0-page${fresh}" data-page="${esc(p.id)}" title="${esc(p.text)}">` +
        `<td class="pid">${esc(p.id)}</td><td><span class="kind kind-${esc(p.kind)}">` +
        `${esc(p.kind)}</span></td><td>${fmt(p.tokens)}</td><td>${levelCell(level, p.dropped)}</td>` +
        `<td>${p.pinned ? '<span class="pin" title="pinned: never evicted">pin</span>' : ""}</td></tr>`;
    }).join("");
    state.l0 = now;
    const n = (s.l0 || []).length;
    $("l0-count").textContent = `(${n} page${n === 1 ? "" : "s"})`;
    const tiers = Object.entries(s.tiers || {}).filter(([name]) => name !== "L0");
    const manifest = (s.manifest || []).slice(0, 6).map((e) => `${e.id} [${e.tier}]`);
    $("outside").innerHTML = tiers.length
      ? `Outside L0: ${tiers.map(([n, c]) => `<strong>${esc(n)}</strong> ${fmt(c)}`).join(" · ")}` +
        (manifest.length ? `<br><span title="the manifest the model sees">manifest: ` +
          `${esc(manifest.join(", "))}${s.manifest.length > 6 ? " …" : ""}</span>` : "")
      : "Nothing outside L0 yet: every page still fits.";
    renderCost(s.cost);
  }

  // The cost panel (docs/cost.md §5): the session's bill with the prompt cache, the last
  // turn's, and the latest cache breaks with what caused them.
  function usd(value) {
    return `$${(value || 0).toFixed(value >= 1 ? 2 : 5)}`;
  }

  function renderCost(c) {
    if (!c || !$("cost-panel")) return;
    const t = c.totals;
    $("cost-profile").textContent = c.title || c.profile;
    $("cost-usd").textContent = usd(t.usd);
    $("cost-nocache").textContent = `(${usd(t.usd_no_cache)} without caching, ` +
      `hit rate ${pct(t.hit_rate || 0)})`;
    $("cost-counters").innerHTML = [
      counter("calls", fmt(t.calls)),
      counter("read from cache", fmt(t.cache_read_tokens), "cost-read"),
      counter("written to cache", fmt(t.cache_write_tokens), "cost-written"),
      counter("uncached", fmt(t.uncached_tokens), "cost-uncached"),
      counter("output", fmt(t.output_tokens)),
      counter("cache breaks", fmt(t.cache_breaks), "cost-breaks-count"),
    ].join("");
    const last = c.last;
    $("cost-last-turn").textContent = last ? `(turn ${last.turn})` : "";
    $("cost-last").innerHTML = last ? [
      counter("prompt", fmt(last.prompt_tokens)),
      counter("read", fmt(last.cache_read_tokens)),
      counter("written", fmt(last.cache_write_tokens)),
      counter("uncached", fmt(last.uncached_tokens)),
      counter("cost", usd(last.usd), "cost-last-usd"),
    ].join("") : "";
    const breaks = c.breaks || [];
    $("cost-breaks").innerHTML = breaks.length ? breaks.map((b) =>
      `<li class="cost-break cause-${esc(b.cause)}"><strong>turn ${fmt(b.turn)}</strong> ` +
      `<span class="tag">${esc(b.cause)}</span> ${esc(b.detail)}</li>`).join("")
      : '<li class="muted">none yet</li>';
  }

  // A compressed page shows what its compression left out, one click away.
  function levelCell(level, dropped) {
    if (!dropped || !dropped.length) return esc(level);
    const items = dropped.map((d) => `<li>${esc(d)}</li>`).join("");
    return `<details class="dropped"><summary>${esc(level)}</summary>` +
      `<div class="muted">dropped by the compression:</div><ul>${items}</ul></details>`;
  }

  function addEvents(list) {
    state.events = state.events.concat(list || []).slice(-MAX_EVENTS);
    if (!state.events.length) {
      $("events").innerHTML = '<tr><td colspan="4" class="muted">No faults or evictions yet: ' +
        "everything still fits in L0.</td></tr>";
      return;
    }
    $("events").innerHTML = state.events.slice().reverse().map((e) => {
      const route = e.kind === "fault" ? `${esc(e.src || "new")} → L0`
        : `${esc(e.src || "L0")} → ${esc(e.dst || "out")}`;
      return `<tr><td>${fmt(e.index)}</td><td class="ev-${esc(e.kind)}">${esc(e.kind)}` +
        `${e.refault ? " (refault)" : ""}</td><td class="pid">${esc(e.page_id)}</td>` +
        `<td>${route}</td></tr>`;
    }).join("");
  }

  // --- status, scripts -----------------------------------------------------------------------

  function renderStatus(status, error) {
    if (status) state.status = status;
    if (error !== undefined) state.error = error;
    root.dataset.status = state.status;
    const badge = $("status");
    badge.textContent = state.status;
    badge.className = `status status-${state.status}`;
    const busy = BUSY.has(state.status);
    const thinking = $("thinking");
    thinking.hidden = !busy;
    if (isScript && state.progress && state.progress.total) {
      thinking.lastChild.textContent = state.status === "queued" ? " waiting for a worker…"
        : ` playing turn ${Math.min(state.progress.done + 1, state.progress.total)} of ` +
          `${state.progress.total}…`;
    } else {
      thinking.lastChild.textContent = " thinking…";
    }
    const send = $("send-button");
    if (send) send.disabled = busy || state.sending;
    const replay = $("replay-button");
    if (replay) replay.disabled = busy;
    const err = $("chat-error");
    err.hidden = !state.error;
    err.textContent = state.error || "";
  }

  function renderProgress(p) {
    if (!isScript || !p) return;
    state.progress = p;
    const share = p.total ? p.done / p.total : 0;
    $("progress-fill").style.width = `${(100 * share).toFixed(1)}%`;
    $("progress").setAttribute("aria-valuenow", Math.round(100 * share));
    $("progress-text").textContent = `${fmt(p.done)} of ${fmt(p.total)} turns`;
  }

  function outcome(id, label, value, note) {
    return `<div class="counter outcome" id="${id}"><span class="counter-label">${label}</span>` +
      `<span class="counter-value">${value}</span><span class="counter-note">${note}</span></div>`;
  }

  function renderTotals(t) {
    if (!isScript || !t) return;
    state.totals = t;
    const box = $("totals");
    box.hidden = false;
    // the memory's figure and the model's, side by side with the same weight (docs/metrics.md)
    const answerRate = t.answer_hit_rate !== undefined ? t.answer_hit_rate
      : (t.answers_checked ? t.answer_hits / t.answers_checked : null);
    box.innerHTML = [
      outcome("recall-success", "recall success", pct(t.recall_success),
        `${fmt(t.probes_recalled)} of ${fmt(t.probes)} probe turns had the pages they need ` +
        "in the context when the model was called (what the memory did)"),
      outcome("answer-hits", "answers with the fact", pct(answerRate),
        `${fmt(t.answer_hits)} of ${fmt(t.answers_checked)} answers contained the expected ` +
        "text (what the model did with it)"),
      counter("answers cut off", fmt(t.truncated)),
      counter("faults", fmt(t.faults)),
      counter("evictions", fmt(t.evictions)),
      counter("thrash index", (t.thrash_index || 0).toFixed(3)),
      counter("model time", secs(t.model_seconds)),
      counter("memory time", secs(t.memory_seconds)),
      counter("prompt tokens", fmt(t.prompt_tokens)),
      counter("errors", fmt(t.errors)),
    ].join("");
  }

  // --- state and frames ----------------------------------------------------------------------

  function applyState(s) {
    state.messages.clear();
    $("messages").innerHTML = "";
    state.events = [];
    addMessages(s.messages);
    renderSnapshot(s.snapshot);
    addEvents(s.events);
    state.progress = s.chat.progress;
    renderProgress(s.chat.progress);
    renderTotals(s.chat.totals);
    renderStatus(s.status, s.chat.error);
  }

  async function resync() {
    if (state.fetching) return;
    state.fetching = true;
    try {
      const response = await fetch(meta.urls.state, { headers: { Accept: "application/json" } });
      if (response.ok) applyState(await response.json());
    } finally {
      state.fetching = false;
    }
  }

  function onFrame(f) {
    switch (f.type) {
      case "state":
        applyState(f);
        root.dataset.ready = "1";
        return;
      case "message":
      case "turn":
      case "status":
        addMessages(f.messages);
        if (f.snapshot) renderSnapshot(f.snapshot);
        addEvents(f.events);
        if (f.progress) renderProgress(f.progress);
        if (f.totals) renderTotals(f.totals);
        renderStatus(f.status, f.error);
        if (typeof f.count === "number" && state.messages.size < f.count) resync();
        return;
      case "error":
        showError(f.error);
        return;
      default:
    }
  }

  function showError(text) {
    state.error = text;
    renderStatus();
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}${meta.urls.websocket}`);
    state.ws = ws;
    const conn = $("conn");
    ws.onopen = () => {
      state.retry = 0;
      conn.textContent = "live";
      conn.className = "conn live";
    };
    ws.onmessage = (event) => {
      try {
        onFrame(JSON.parse(event.data));
      } catch (err) {
        console.warn("bad frame", err);
      }
    };
    ws.onclose = () => {
      conn.textContent = "reconnecting…";
      conn.className = "conn down";
      const delay = Math.min(10000, 500 * 2 ** state.retry++);
      setTimeout(connect, delay);
    };
  }

  // --- sending -------------------------------------------------------------------------------

  const form = $("send-form");
  if (form) {
    const input = $("message-input");
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text || state.sending || BUSY.has(state.status)) return;
      state.sending = true;
      state.error = "";
      renderStatus("thinking");
      try {
        const response = await fetch(form.action, {
          method: "POST", body: new FormData(form), headers: { Accept: "application/json" },
        });
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          input.value = "";
          state.sending = false;
          renderStatus();
        } else {
          state.sending = false;
          renderStatus(response.status === 409 ? "thinking" : "idle",
                       body.error || `the server answered ${response.status}`);
        }
      } catch (err) {
        state.sending = false;
        renderStatus("idle", "the message could not be sent (connection lost?); try again");
      }
      input.focus();
    });
  }

  // Without a live connection, a busy chat is followed over HTTP until it is done.
  setInterval(() => {
    const open = state.ws && state.ws.readyState === WebSocket.OPEN;
    if (!open && BUSY.has(state.status)) resync();
  }, 3000);

  applyState(initial);
  connect();
  if (form) $("message-input").focus();
})();
