// The dispositions-over-time chart of a campaign's page (Chart.js, vendored). The canvas names
// its data's URL in data-source (JSON: {bucket_seconds, labels: [ISO-8601 UTC], series: {name: [n]}});
// the chart is refetched each time htmx refreshes the funnel (#progress, every 2 s) and updated in
// place; data-points on the canvas counts the dispositions drawn.
(function () {
  "use strict";
  const COLORS = {
    booked: "#1a7f4b", callback: "#2456d6", not_interested: "#8a94a6", not_now: "#b0b8c9",
    wrong_person: "#6b4fbb", dnc: "#c0392b", machine: "#b26b00", no_answer: "#d9a441",
    busy: "#e67e22", failed: "#7f1d1d", canceled: "#5d6677", agent_error: "#e74c3c",
    skipped_compliance: "#34495e",
  };

  function label(iso, bucketSeconds) {
    const when = new Date(iso);
    return bucketSeconds >= 86400 ? when.toISOString().slice(0, 10) : when.toISOString().slice(5, 16).replace("T", " ");
  }

  function datasets(series) {
    return Object.keys(series).map(function (name) {
      return { label: name, data: series[name], backgroundColor: COLORS[name] || "#999", stack: "dispositions" };
    });
  }

  async function load(canvas, chart) {
    const answer = await fetch(canvas.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!answer.ok) return chart;
    const data = await answer.json();
    canvas.dataset.points = String(Object.values(data.series).flat().reduce(function (a, b) { return a + b; }, 0));
    const labels = data.labels.map(function (iso) { return label(iso, data.bucket_seconds); });
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets = datasets(data.series);
      chart.update("none");
      return chart;
    }
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets(data.series) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: true, title: { display: true, text: "UTC" } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const canvas = document.getElementById("dispositions-chart");
    if (!canvas || !window.Chart) return;
    let chart = null;
    let busy = false;
    const refresh = async function () {
      if (busy) return;
      busy = true;
      try { chart = await load(canvas, chart); } finally { busy = false; }
    };
    refresh();
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target && event.target.id === "progress") refresh();
    });
  });
})();
