// The analysis of a trace (trace library detail page): polls <section id="analysis">'s
// data-url while the analysis is queued or running, showing its progress, then draws one
// Plotly chart per part (every number is defined in docs/analysis.md). Plotly comes from the
// plotly wheel (static/vendor/plotly.min.js, loaded with defer before this file).
(function () {
  "use strict";

  var POLL_MS = 1000;
  var CAPTIONS = {
    stack_distance: "Stack distance (distinct pages since the previous reference)",
    reuse_distance: "Reuse distance (references since the previous reference)",
    popularity: "Popularity: rank–frequency, log–log, with the fitted Zipf line",
    working_set: "Footprint and working set W(t, τ) over time",
    request_rate: "Request rate (references per unit of the trace's time)",
    heatmap: "Access heatmap: time × popularity rank",
    sizes: "Sizes (tokens)",
  };

  function theme() {
    var style = getComputedStyle(document.body);
    return {
      fg: style.color,
      font: style.fontFamily,
      accent: style.getPropertyValue("--accent").trim() || "#2f6fde",
      muted: style.getPropertyValue("--muted").trim() || "#5b6475",
      grid: style.getPropertyValue("--border").trim() || "#dde1e8",
    };
  }

  function layout(t, x, y, extra) {
    var base = {
      margin: { t: 10, r: 10, b: 50, l: 64 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: t.fg, family: t.font },
      // the legend above the plot and margins that grow with the tick labels: neither a
      // legend nor a long label ever covers an axis title, on a phone or a projector
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      xaxis: Object.assign({ title: { text: x, standoff: 8 }, gridcolor: t.grid,
                             automargin: true }, extra && extra.xaxis),
      yaxis: Object.assign({ title: { text: y, standoff: 8 }, gridcolor: t.grid,
                             automargin: true }, extra && extra.yaxis),
    };
    return base;
  }

  // a count axis whose counts are all small: whole-number ticks, not 0.5 of an access
  function counted(values) {
    return Math.max.apply(null, values.concat([0])) <= 5 ? { dtick: 1, rangemode: "tozero" }
      : { rangemode: "tozero" };
  }

  // a category axis of bucket labels; more than a few stand upright (Plotly's own slant let
  // long ones such as "16384-32767" overlap in a half-width chart)
  function categories(labels) {
    var unique = Array.from(new Set(labels));
    return unique.length > 8 ? { type: "category", tickangle: -90 } : { type: "category" };
  }

  // a log axis over these values: past two decades, labels at the powers of ten only (Plotly's
  // own choice adds 2 and 5 in every decade, which crowd each other on a half-width chart)
  function logAxis(values) {
    var positive = values.filter(function (v) { return v > 0; });
    var wide = positive.length > 0 &&
      Math.max.apply(null, positive) >= 100 * Math.min.apply(null, positive);
    return wide ? { type: "log", dtick: 1 } : { type: "log" };
  }

  function plot(name, traces, lay) {
    var holder = document.getElementById("chart-" + name);
    Plotly.newPlot(holder, traces, lay, { responsive: true, displaylogo: false });
    holder.dataset.ready = "1";
  }

  function histogram(name, part, t, what) {
    var labels = ["cold"].concat(part.histogram.map(function (b) { return b.bucket; }));
    var counts = [part.cold].concat(part.histogram.map(function (b) { return b.count; }));
    plot(name, [{
      type: "bar", x: labels, y: counts,
      marker: { color: labels.map(function (l) { return l === "cold" ? t.muted : t.accent; }) },
      hovertemplate: "%{x}: %{y:,} references<extra></extra>",
    }], layout(t, what + " (log2 buckets)", "references",
      { xaxis: categories(labels), yaxis: counted(counts) }));
  }

  function popularity(a, t) {
    var points = a.popularity.rank_frequency;
    var zipf = a.popularity.zipf;
    var ranks = points.map(function (p) { return p.rank; });
    var frequencies = points.map(function (p) { return p.frequency; });
    var traces = [{
      type: "scatter", mode: "markers", name: "pages", x: ranks, y: frequencies,
      marker: { color: t.accent, size: 5 },
      hovertemplate: "rank %{x:,}: %{y:,} references<extra></extra>",
    }];
    if (zipf.alpha !== null) {
      // the least-squares line's intercept, from the same log-spaced points it was fitted on
      var fit = points.filter(function (p) { return p.rank <= zipf.fit_ranks[1]; });
      var mx = 0, my = 0;
      fit.forEach(function (p) { mx += Math.log10(p.rank); my += Math.log10(p.frequency); });
      mx /= fit.length; my /= fit.length;
      var c = my + zipf.alpha * mx;
      var ends = [zipf.fit_ranks[0], zipf.fit_ranks[1]];
      traces.push({
        type: "scatter", mode: "lines", name: "Zipf α = " + zipf.alpha.toFixed(3),
        x: ends, y: ends.map(function (r) { return Math.pow(10, c - zipf.alpha * Math.log10(r)); }),
        line: { color: t.muted, dash: "dash" },
      });
    }
    plot("popularity", traces, layout(t, "popularity rank", "references",
      { xaxis: logAxis(ranks), yaxis: logAxis(frequencies) }));
  }

  function workingSet(a, t) {
    var points = a.working_set.points;
    var x = points.map(function (p) { return p.references; });
    var traces = [{ type: "scatter", mode: "lines", name: "footprint", x: x,
                    y: points.map(function (p) { return p.footprint; }), line: { color: t.muted } }];
    a.working_set.taus.forEach(function (tau) {
      traces.push({ type: "scatter", mode: "lines", name: "W(t, " + tau.toLocaleString() + ")",
                    x: x, y: points.map(function (p) { return p.w[String(tau)]; }) });
    });
    plot("working_set", traces, layout(t, "references t", "distinct pages"));
  }

  function requestRate(a, t) {
    var rows = a.request_rate;
    plot("request_rate", [{
      type: "scatter", mode: "lines", line: { shape: "hv", color: t.accent },
      x: rows.map(function (r) { return r.start; }), y: rows.map(function (r) { return r.rate; }),
      hovertemplate: "from %{x}: %{y:.3g} per unit<extra></extra>",
    }], layout(t, "trace time", "references per unit of time"));
  }

  function heatmap(a, t) {
    var heat = a.heatmap;
    plot("heatmap", [{
      type: "heatmap", z: heat.grid, x: heat.columns,
      y: heat.grid.map(function (_, k) { return k * heat.row_references; }),
      colorscale: "Viridis",
      hovertemplate: "ranks %{x}, from reference %{y:,}: %{z:,}<extra></extra>",
    }], layout(t, "popularity rank (log2 buckets)", "first reference of the row",
      { xaxis: categories(heat.columns) }));
  }

  function sizes(a, t) {
    var requests = a.sizes.requests, pages = a.sizes.pages;
    plot("sizes", [
      { type: "bar", name: "references", x: requests.map(function (b) { return b.bucket; }),
        y: requests.map(function (b) { return b.count; }), marker: { color: t.accent } },
      { type: "bar", name: "pages", x: pages.map(function (b) { return b.bucket; }),
        y: pages.map(function (b) { return b.count; }), marker: { color: t.muted } },
    ], layout(t, "size in tokens (log2 buckets)", "count", {
      xaxis: categories(requests.concat(pages).map(function (b) { return b.bucket; })),
      yaxis: counted(requests.concat(pages).map(function (b) { return b.count; })) }));
  }

  function numbers(a) {
    var list = document.getElementById("analysis-numbers");
    var zipf = a.popularity.zipf;
    // [label, figure, what the figure is of (a smaller line under it)]
    var items = [
      ["References", a.references.toLocaleString(), ""],
      ["Footprint (pages)", a.footprint.pages.toLocaleString(), ""],
      ["One-hit wonders", (100 * a.one_hit_wonder_ratio).toFixed(1) + " %", "of pages"],
      ["Zipf α", zipf.alpha === null ? "—" : zipf.alpha.toFixed(3),
       zipf.alpha === null ? "" : "fit r² " + zipf.r2.toFixed(3)],
    ];
    list.replaceChildren.apply(list, items.map(function (item) {
      var div = document.createElement("div");
      div.className = "lib-stat";
      var dt = document.createElement("dt"); dt.textContent = item[0];
      var dd = document.createElement("dd"); dd.textContent = item[1];
      if (item[2]) {
        var note = document.createElement("small"); note.textContent = item[2];
        dd.append(" ", note);
      }
      dd.dataset.analysis = item[0];
      div.append(dt, dd);
      return div;
    }));
    list.hidden = false;
  }

  function draw(a) {
    var t = theme();
    document.querySelectorAll("[data-caption]").forEach(function (el) {
      el.textContent = CAPTIONS[el.dataset.caption] || el.dataset.caption;
    });
    document.getElementById("analysis-charts").hidden = false;
    // the upload's quick histogram (its first requests) gives way to the analysis's own
    var quick = document.getElementById("reuse-section");
    if (quick) quick.hidden = true;
    numbers(a);
    histogram("stack_distance", a.stack_distance, t, "stack distance");
    histogram("reuse_distance", a.reuse_distance, t, "reuse distance");
    popularity(a, t);
    workingSet(a, t);
    requestRate(a, t);
    heatmap(a, t);
    sizes(a, t);
  }

  function show(section, state) {
    section.dataset.status = state.status;
    var status = document.getElementById("analysis-status");
    var bar = document.getElementById("analysis-progress");
    var text = document.getElementById("analysis-progress-text");
    if (state.status === "done") {
      status.replaceChildren();
      var done = document.createElement("p");
      done.className = "muted";
      done.textContent = "Analysed in " + (state.seconds || 0).toFixed(1) + " s.";
      status.append(done);
      draw(state.analysis);
      return false;
    }
    if (state.status === "failed") {
      if (text) text.textContent = "The analysis failed: " + state.error;
      if (bar) bar.hidden = true;
      return false;
    }
    if (bar) bar.value = state.progress;
    if (text) {
      text.textContent = state.status === "queued" ? "Analysis queued…"
        : "Analysing… " + Math.round(100 * state.progress) + " %";
    }
    return state.status === "queued" || state.status === "running";
  }

  function poll(section) {
    fetch(section.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        if (show(section, state)) setTimeout(function () { poll(section); }, POLL_MS);
      })
      .catch(function () { setTimeout(function () { poll(section); }, 5 * POLL_MS); });
  }

  function start() {
    var section = document.getElementById("analysis");
    if (!section || typeof Plotly === "undefined" || section.dataset.status === "none") return;
    poll(section);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
