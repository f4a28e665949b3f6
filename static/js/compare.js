// Cost vs recall: one series per pricing profile, cost per turn on x, recall on y; the
// frontier joined by a line, the best per window drawn as a star (docs/cost.md §6).
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("compare-result").textContent);
  const target = document.getElementById("compare-chart");
  const profiles = [...new Set(data.rows.map((r) => r.pricing))];
  const traces = [];
  for (const name of profiles) {
    const rows = data.rows.filter((r) => r.pricing === name);
    const label = (r) => `${r.preset}, ${r.context_window} tokens`;
    traces.push({
      name, type: "scatter", mode: "markers",
      x: rows.map((r) => r.usd_per_turn), y: rows.map((r) => r.recall),
      text: rows.map(label),
      marker: { size: rows.map((r) => (r.best ? 16 : 10)),
                symbol: rows.map((r) => (r.best ? "star" : r.frontier ? "diamond" : "circle")) },
      hovertemplate: "%{text}<br>$%{x:.6f} per turn<br>recall %{y:.0%}<extra>" + name + "</extra>",
    });
    const frontier = rows.filter((r) => r.frontier && r.recall !== null)
      .sort((a, b) => a.usd_per_turn - b.usd_per_turn);
    if (frontier.length > 1) {
      traces.push({ name: `${name} frontier`, type: "scatter", mode: "lines", hoverinfo: "skip",
        x: frontier.map((r) => r.usd_per_turn), y: frontier.map((r) => r.recall),
        line: { dash: "dot", width: 1 }, showlegend: false });
    }
  }
  const layout = {
    margin: { l: 56, r: 16, t: 16, b: 48 }, height: 380,
    xaxis: { title: { text: "USD per turn" }, rangemode: "tozero" },
    yaxis: { title: { text: "recall success" }, range: [-0.05, 1.05], tickformat: ".0%" },
    legend: { orientation: "h" },
  };
  const draw = () => window.Plotly.newPlot(target, traces, layout,
    { responsive: true, displaylogo: false }).then(() => target.setAttribute("data-ready", "1"));
  if (window.Plotly) draw(); else window.addEventListener("load", draw);
})();
