/* VMem Lab — the teaching page (docs/teaching.md). The server computed every step once; this
 * script only shows more or less of the frame tables, asks for predictions and keeps the score
 * in memory (nothing leaves the browser), and mirrors the position in the address so that a
 * link reopens the same step. Without JavaScript the whole table is shown. */
(() => {
  "use strict";
  const dataNode = document.getElementById("teach-data");
  if (!dataNode) return;
  const data = JSON.parse(dataNode.textContent);
  const count = data.count;
  const policies = data.tables;  // a question for each, in page order, before each reference
  const tables = Array.from(document.querySelectorAll(".frame-table"));
  const cells = tables.map((t) => Array.from(t.querySelectorAll("[data-step]")));
  const $ = (id) => document.getElementById(id);
  const playButton = $("play");
  const pace = $("pace");
  const jump = $("jump");
  const predictBox = $("predict");
  const panel = $("predict-panel");
  const score = { right: 0, asked: 0 };
  let step = Math.max(0, Math.min(count, data.step | 0));
  let timer = null;
  let asking = false;
  let which = 0;  // the policy the open question is about

  function address() {
    const params = new URLSearchParams(data.query);
    params.delete("step");
    params.delete("predict");
    if (step) params.set("step", String(step));
    if (predictBox.checked) params.set("predict", "1");
    return "?" + params.toString();
  }

  function render() {
    tables.forEach((table, t) => {
      for (const cell of cells[t]) {
        const s = Number(cell.dataset.step);
        cell.classList.toggle("future", s > step);
        cell.classList.toggle("now", s === step);
      }
      const steps = data.tables[t].steps.slice(0, step);
      const faults = steps.filter((s) => !s.hit).length;
      table.querySelector(".t-faults").textContent = String(faults);
      table.querySelector(".t-hits").textContent = String(steps.length - faults);
      table.querySelector("[data-why]").textContent = step
        ? `Reference ${step}: ${data.tables[t].steps[step - 1].why}`
        : "Press → (or Next) to make the first reference.";
      const now = table.querySelector("th.now");
      if (now && now.scrollIntoView && timer) now.scrollIntoView({ block: "nearest", inline: "center" });
    });
    $("position").textContent = `${step} / ${count}`;
    jump.value = String(step);
    history.replaceState(null, "", address());
  }

  function go(to) {
    closeQuestion();
    step = Math.max(0, Math.min(count, to));
    render();
  }

  function answerOf(s) {
    if (s.hit) return "hit";
    if (!s.kept) return "pass";  // served, not kept (an admission rule refused it)
    return s.victim === null ? "free" : "evict:" + s.victim;
  }

  function choiceLabel(key) {
    if (key === "hit") return "hit";
    if (key === "free") return "fault, into a free frame";
    if (key === "pass") return "fault, not kept";
    return "fault, evicts " + key.slice(6);
  }

  function closeQuestion() {
    asking = false;
    which = 0;
    panel.hidden = true;
  }

  function ask() {
    const policy = policies[which];
    const s = policy.steps[step];
    const choices = ["hit"];
    if (s.before.length < policy.frames) choices.push("free");
    for (const page of s.before) choices.push("evict:" + page);
    if (policy.admission) choices.push("pass");
    $("predict-question").textContent =
      `Reference ${step + 1} is page ${s.ref}. What does ${policy.label} do?`;
    const box = $("predict-choices");
    box.replaceChildren(...choices.map((key) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choiceLabel(key);
      button.dataset.choice = key;
      button.addEventListener("click", () => reveal(key));
      return button;
    }));
    if (which === 0) $("predict-answer").textContent = "";
    panel.hidden = false;
    asking = true;
    box.firstChild.focus({ preventScroll: true });
  }

  function reveal(choice) {
    const policy = policies[which];
    const s = policy.steps[step];
    const right = choice === answerOf(s);
    score.asked += 1;
    if (right) score.right += 1;
    $("score").hidden = false;
    $("score-right").textContent = String(score.right);
    $("score-asked").textContent = String(score.asked);
    const answer = $("predict-answer");
    const named = policies.length > 1 ? policy.label + ": " : "";
    answer.textContent = named + (right ? "✓ Right. " : "✗ Not this time. ") + s.why;
    answer.className = "answer " + (right ? "right" : "wrong");
    asking = false;
    if (which < policies.length - 1) {  // the same reference, the next policy on the page
      which += 1;
      ask();
      return;
    }
    which = 0;
    step += 1;
    render();
    $("predict-choices").replaceChildren();
    $("predict-question").textContent = "";
  }

  function next() {
    if (step >= count) return stop();
    if (predictBox.checked) {
      if (!asking) ask();
      stop();
      return;
    }
    go(step + 1);
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
  }

  function play() {
    if (timer) return stop();
    if (step >= count) go(0);
    playButton.textContent = "⏸ Pause";
    timer = setInterval(() => {
      next();
      if (step >= count) stop();
    }, Number(pace.value));
  }

  const actions = { home: () => go(0), back: () => go(step - 1), next, end: () => go(count),
                    play };
  document.getElementById("player").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (button) actions[button.dataset.act]();
  });
  jump.addEventListener("input", () => go(Number(jump.value)));
  pace.addEventListener("change", () => { if (timer) { stop(); play(); } });
  predictBox.addEventListener("change", () => { closeQuestion(); render(); });

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.altKey || event.ctrlKey ||
        event.metaKey) return;
    const keys = { ArrowRight: next, ArrowLeft: () => go(step - 1), " ": play,
                   Home: () => go(0), End: () => go(count) };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();  // space plays even when a button has the focus (Enter clicks it)
    action();
  });

  function drawCurve() {
    const node = $("curve");
    if (!node || !window.Plotly) return;
    const symbols = ["circle", "square", "diamond", "triangle-up"];
    const dashes = ["solid", "dash", "dot", "dashdot"];
    // Okabe-Ito colours, and a marker and a dash per line: not colour alone
    const colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
    const traces = Object.entries(data.curves.faults).map(([label, faults], k) => ({
      x: data.curves.frames, y: faults, name: label, mode: "lines+markers",
      line: { dash: dashes[k % 4], color: colours[k % 4], width: 3 },
      marker: { symbol: symbols[k % 4], size: 10 },
    }));
    window.Plotly.newPlot(node, traces, {
      margin: { l: 50, r: 10, t: 10, b: 45 }, height: 320,
      xaxis: { title: { text: "frames" }, dtick: 1 },
      yaxis: { title: { text: "faults" }, rangemode: "tozero" },
      legend: { orientation: "h" }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { size: 15 },
    }, { displayModeBar: false, responsive: true });
  }

  function drawThrashing() {
    const node = $("thrash-curve");
    if (!node || !window.Plotly || !data.thrashing) return;
    window.Plotly.newPlot(node, [{
      x: data.thrashing.map((p) => p.sessions), y: data.thrashing.map((p) => p.throughput),
      name: "reads per simulated second", mode: "lines+markers",
      line: { color: "#0072B2", width: 3 }, marker: { symbol: "circle", size: 10 },
    }], {
      margin: { l: 70, r: 10, t: 10, b: 45 }, height: 320,
      xaxis: { title: { text: "concurrent sessions sharing L0" }, dtick: 1 },
      yaxis: { title: { text: "reads per simulated second" }, rangemode: "tozero" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { size: 15 },
    }, { displayModeBar: false, responsive: true });
  }

  document.body.classList.add("js");
  render();
  drawCurve();
  drawThrashing();
})();
