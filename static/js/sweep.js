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
  // past ten curves the colours come round again with another line style (OPT keeps "dash")
  var DASHES = ["solid", "dot", "dashdot", "longdash"];
  var NARROW = 700;  // px: below this the legend goes above the chart, else to its right

  // Plotly reads a few HTML tags in legend and hover text: a name is text, never markup
  function text(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // a trace's name in the legend, with its id when another trace of the sweep has that name
  function traceNames(state) {
    var ids = {};
    state.curves.forEach(function (c) {
      (ids[c.trace] = ids[c.trace] || new Set()).add(c.trace_id);
    });
    return function (curve) {
      return ids[curve.trace].size > 1 ? curve.trace + " #" + curve.trace_id : curve.trace;
    };
  }

  function traces(state, key) {
    var many = new Set(state.curves.map(function (c) { return c.trace_id; })).size > 1;
    var traceName = traceNames(state);
    return state.curves.map(function (curve, k) { return [curve, k]; })
      .filter(function (pair) { return key === "miss_ratio" || pair[0].policy !== "opt"; })
      .map(function (pair) {
        var curve = pair[0];
        var colour = COLOURS[pair[1] % COLOURS.length];
        var dash = curve.policy === "opt" ? "dash"
          : DASHES[Math.floor(pair[1] / COLOURS.length) % DASHES.length];
        var done = curve.points.filter(function (p) { return p[key] !== null; });
        // a sampled point is an estimate: its standard error as an error bar, "~" in the hover
        var sampled = done.some(function (p) { return p.exact === false; });
        var name = text((many ? traceName(curve) + " · " : "") + (curve.label || curve.policy));
        return {
          type: "scatter", mode: "lines+markers",
          name: name,
          x: done.map(function (p) { return p.size; }),
          y: done.map(function (p) { return p[key]; }),
          customdata: done.map(function (p) {
            return p.exact === false ? "~" : "";
          }),
          error_y: {
            type: "data", visible: sampled && key === "miss_ratio", thickness: 1,
            array: done.map(function (p) { return p.exact === false ? (p.std_error || 0) : 0; }),
          },
          line: { color: colour, dash: dash },
          marker: { color: colour, symbol: done.map(function (p) {
            return p.exact === false ? "circle-open" : "circle";
          }) },
          hovertemplate: "%{fullData.name} at %{x:,} pages: %{customdata}%{y:.4f}" +
            "<extra></extra>",
        };
      });
  }

  // the sizes of every cell, done or not: an empty chart spans them (Plotly's default axes
  // of an empty chart, 0.1 to 1M pages and 0 to 4, meant nothing); from the first point the
  // axes fit the points, and a zoom is the user's (uirevision)
  function sizeRange(state) {
    var sizes = [];
    state.curves.forEach(function (c) {
      c.points.forEach(function (p) { sizes.push(p.size); });
    });
    if (!sizes.length) return undefined;
    var low = Math.log10(Math.min.apply(null, sizes));
    var high = Math.log10(Math.max.apply(null, sizes));
    var pad = Math.max(0.05, (high - low) * 0.04);
    return [low - pad, high + pad];
  }

  // on a phone, sizes over two decades or more are labelled at the powers of ten only (the
  // 2s and 5s between them ran into each other)
  function decades(state) {
    var range = sizeRange(state);
    return range && range[1] - range[0] >= 2 ? { dtick: 1 } : {};
  }

  function layout(y, width, state) {
    var style = getComputedStyle(document.body);
    var grid = style.getPropertyValue("--border").trim() || "#dde1e8";
    // the legend beside the chart, or above it on a narrow screen: never over an axis title
    var legend = width < NARROW ? { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }
      : { orientation: "v", x: 1.02, y: 1, yanchor: "top" };
    return {
      margin: { t: 10, r: 10, b: 50, l: 64 }, paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)", font: { color: style.color, family: style.fontFamily },
      showlegend: true, legend: legend,
      // a zoom survives the redraws of a running sweep
      uirevision: "sweep",
      xaxis: Object.assign({ type: "log", title: { text: "cache size (pages)" }, gridcolor: grid,
                             range: state.cells.done ? undefined : sizeRange(state) },
                           width < NARROW ? decades(state) : {}),
      yaxis: { title: { text: y }, gridcolor: grid, rangemode: "tozero",
               // a miss ratio is 0 to 1: before the first point, that is the axis
               range: state.cells.done ? undefined : [0, 1] },
    };
  }

  // on a narrow screen the legend sits above the chart: make room for it rather than
  // squeezing the plot (at most about 14 rows; the legend scrolls past that); beside the
  // chart, a legend of more entries than the plot is tall (every policy) lengthens the chart
  // instead of scrolling (up to 30 entries)
  function fit(chart, entries) {
    if (chart.clientWidth < NARROW) {
      chart.style.height = (300 + 19 * Math.min(entries, 14)) + "px";
    } else {
      chart.style.height = entries > 13 ? (70 + 20 * Math.min(entries, 30)) + "px" : "";
    }
  }

  function draw(state) {
    var curves = document.getElementById("sweep-curves");
    var gap = document.getElementById("sweep-gap");
    var opt = state.curves.filter(function (c) { return c.policy === "opt"; }).length;
    fit(curves, state.curves.length);
    fit(gap, state.curves.length - opt);
    Plotly.react(curves, traces(state, "miss_ratio"),
                 layout("miss ratio", curves.clientWidth, state),
                 { responsive: true, displaylogo: false });
    // without OPT there is no gap to draw: say so instead of an empty chart
    var withOpt = state.curves.some(function (c) { return c.policy === "opt"; });
    gap.hidden = !withOpt;
    document.getElementById("sweep-gap-none").hidden = withOpt;
    if (withOpt) {
      Plotly.react(gap, traces(state, "opt_gap"),
                   layout("miss ratio − OPT's", gap.clientWidth, state),
                   { responsive: true, displaylogo: false });
    }
    failures(state);
    curves.dataset.points = String(state.cells.done);
    var text = document.getElementById("sweep-progress");
    var cells = state.cells;
    text.textContent = cells.done + " of " + cells.total + " cells done" +
      (cells.running ? ", " + cells.running + " running" : "") +
      (cells.failed ? ", " + cells.failed + " failed" : "") +
      (state.status === "running" ? "…" : state.status === "cancelled" ? "; cancelled." : ".");
    document.getElementById("sweep-bar").value = cells.done;
    underWay(state);
    document.getElementById("sweep").dataset.status = state.status;
    // offer only what can be done: cancel while cells are pending, re-run once some failed
    document.getElementById("cancel-sweep").hidden = state.status !== "running";
    document.getElementById("retry-failed").hidden = !cells.failed;
  }

  function duration(seconds) {
    // no-break spaces: "1 s" never splits over two lines
    if (seconds < 60) return seconds + "\u00a0s";
    var minutes = Math.floor(seconds / 60);
    return minutes < 60 ? minutes + "\u00a0min " + (seconds % 60) + "\u00a0s"
      : Math.floor(minutes / 60) + "\u00a0h " + (minutes % 60) + "\u00a0min";
  }

  // the cells under way, longest first: which ones a slow sweep is waiting for
  function underWay(state) {
    var line = document.getElementById("sweep-running");
    var running = state.status === "running" ? (state.running || []) : [];
    line.hidden = running.length === 0;
    line.textContent = running.length === 0 ? "" : "Running now: " + running.map(function (r) {
      return r.trace + " · " + r.label + " at " + r.size.toLocaleString() + " pages for " +
        duration(r.seconds);
    }).join("; ") + (state.cells.running > running.length ? "; …" : "") + ".";
  }

  // why cells failed: each message once, with how many cells and one of them (at most 10)
  function failures(state) {
    var list = document.getElementById("sweep-failures");
    var byMessage = new Map();
    state.curves.forEach(function (curve) {
      curve.points.forEach(function (p) {
        if (p.status !== "failed") return;
        var message = p.error || "failed";
        var seen = byMessage.get(message);
        if (seen) { seen.count += 1; return; }
        byMessage.set(message, { count: 1, where: curve.trace + " · " +
          (curve.label || curve.policy) + " at " + p.size.toLocaleString() + " pages" });
      });
    });
    list.replaceChildren();
    Array.from(byMessage.entries()).slice(0, 10).forEach(function (entry) {
      var item = document.createElement("li");
      item.textContent = entry[0] + " — " + entry[1].count + " cell" +
        (entry[1].count === 1 ? "" : "s") + " (such as " + entry[1].where + ")";
      list.appendChild(item);
    });
    document.getElementById("sweep-failures-figure").hidden = byMessage.size === 0;
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
      Plotly.downloadImage(document.getElementById("sweep-curves"), {
        format: "png", filename: "sweep-" + section.dataset.id + "-curves", width: 1200,
        height: 700 });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
