// A sweep's page: miss-ratio curves (one line per trace and policy, OPT dashed; a sampled
// point hollow, with its standard error as an error bar) and the gap to OPT, redrawn as cells
// finish (polling state.json while the sweep runs). PNG export through Plotly's own image
// export. Plotly comes from the plotly wheel.
(function () {
  "use strict";

  var POLL_MS = 1000;

  // Plotly's default colours, given by the curve's place in the sweep, so that a policy keeps
  // its colour in both charts (the gap chart has no OPT line)
  var COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];

  function traces(state, key) {
    var many = new Set(state.curves.map(function (c) { return c.trace_id; })).size > 1;
    return state.curves.map(function (curve, k) { return [curve, COLOURS[k % COLOURS.length]]; })
      .filter(function (pair) { return key === "miss_ratio" || pair[0].policy !== "opt"; })
      .map(function (pair) {
        var curve = pair[0];
        var done = curve.points.filter(function (p) { return p[key] !== null; });
        // a sampled point is an estimate: its standard error as an error bar, "~" in the hover
        var sampled = done.some(function (p) { return p.exact === false; });
        return {
          type: "scatter", mode: "lines+markers",
          name: (many ? curve.trace + " · " : "") + (curve.label || curve.policy),
          x: done.map(function (p) { return p.size; }),
          y: done.map(function (p) { return p[key]; }),
          customdata: done.map(function (p) {
            return p.exact === false ? "~" : "";
          }),
          error_y: {
            type: "data", visible: sampled && key === "miss_ratio", thickness: 1,
            array: done.map(function (p) { return p.exact === false ? (p.std_error || 0) : 0; }),
          },
          line: { color: pair[1], dash: curve.policy === "opt" ? "dash" : "solid" },
          marker: { color: pair[1], symbol: done.map(function (p) {
            return p.exact === false ? "circle-open" : "circle";
          }) },
          hovertemplate: (curve.label || curve.policy) +
            " at %{x:,} pages: %{customdata}%{y:.4f}<extra></extra>",
        };
      });
  }

  function layout(y) {
    var style = getComputedStyle(document.body);
    var grid = style.getPropertyValue("--border").trim() || "#dde1e8";
    return {
      margin: { t: 10, r: 10, b: 50, l: 64 }, paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)", font: { color: style.color, family: style.fontFamily },
      legend: { orientation: "h", y: -0.25 },
      xaxis: { type: "log", title: { text: "cache size (pages)" }, gridcolor: grid },
      yaxis: { title: { text: y }, gridcolor: grid, rangemode: "tozero" },
    };
  }

  function draw(state) {
    var curves = document.getElementById("sweep-curves");
    var gap = document.getElementById("sweep-gap");
    Plotly.react(curves, traces(state, "miss_ratio"), layout("miss ratio"),
                 { responsive: true, displaylogo: false });
    // without OPT there is no gap to draw: say so instead of an empty chart
    var withOpt = state.curves.some(function (c) { return c.policy === "opt"; });
    gap.hidden = !withOpt;
    document.getElementById("sweep-gap-none").hidden = withOpt;
    if (withOpt) {
      Plotly.react(gap, traces(state, "opt_gap"), layout("miss ratio − OPT's"),
                   { responsive: true, displaylogo: false });
    }
    curves.dataset.points = String(state.cells.done);
    var text = document.getElementById("sweep-progress");
    var cells = state.cells;
    text.textContent = cells.done + " of " + cells.total + " cells done" +
      (cells.running ? ", " + cells.running + " running" : "") +
      (cells.failed ? ", " + cells.failed + " failed" : "") +
      (state.status === "running" ? "…" : ".");
    document.getElementById("sweep-bar").value = cells.done;
    document.getElementById("sweep").dataset.status = state.status;
    // offer only what can be done: cancel while cells are pending, re-run once some failed
    document.getElementById("cancel-sweep").hidden = state.status !== "running";
    document.getElementById("retry-failed").hidden = !cells.failed;
  }

  function poll(section) {
    fetch(section.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        draw(state);
        if (state.status === "running") setTimeout(function () { poll(section); }, POLL_MS);
      })
      .catch(function () { setTimeout(function () { poll(section); }, 5 * POLL_MS); });
  }

  function start() {
    var section = document.getElementById("sweep");
    if (!section || typeof Plotly === "undefined") return;
    draw(JSON.parse(document.getElementById("sweep-state").textContent));
    if (section.dataset.status === "running") poll(section);
    document.getElementById("export-png").addEventListener("click", function () {
      Plotly.downloadImage(document.getElementById("sweep-curves"),
                           { format: "png", filename: "sweep-curves", width: 1200, height: 700 });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
