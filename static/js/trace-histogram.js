// LRU stack-distance histogram of a trace (trace library detail page): a Plotly bar chart drawn
// from the JSON the page embeds in <script id="reuse-histogram">. Plotly comes from the plotly
// wheel (static/vendor/plotly.min.js, loaded with defer before this file).
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("reuse-chart");
    var data = document.getElementById("reuse-histogram");
    if (!holder || !data || typeof Plotly === "undefined") return;
    var histogram = JSON.parse(data.textContent);
    var style = getComputedStyle(document.body);
    var fg = style.color;
    var accent = style.getPropertyValue("--accent").trim() || "#2f6fde";
    var muted = style.getPropertyValue("--muted").trim() || "#5b6475";
    var grid = style.getPropertyValue("--border").trim() || "#dde1e8";
    var colors = histogram.labels.map(function (label) {
      return label === "cold" ? muted : accent;
    });
    var total = histogram.counts.reduce(function (a, b) { return a + b; }, 0) || 1;
    var trace = {
      type: "bar",
      x: histogram.labels,
      y: histogram.counts,
      marker: { color: colors },
      customdata: histogram.counts.map(function (n) { return (100 * n / total).toFixed(1); }),
      hovertemplate: "distance %{x}: %{y:,} accesses (%{customdata} %)<extra></extra>",
    };
    var layout = {
      margin: { t: 10, r: 10, b: 50, l: 60 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: fg, family: style.fontFamily },
      bargap: 0.15,
      xaxis: { type: "category", title: { text: "stack distance (distinct pages, log2 bins)" },
               gridcolor: grid },
      yaxis: { title: { text: "accesses" }, gridcolor: grid, rangemode: "tozero" },
    };
    Plotly.newPlot(holder, [trace], layout, { responsive: true, displaylogo: false });
    holder.dataset.ready = "1";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
