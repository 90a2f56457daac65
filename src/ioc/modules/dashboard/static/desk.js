// The desk page and the unit drill-down: tiles, map with layer switcher, live feed and charts on one screen.

import { config, mountCharts, mountFeed, mountKpis, mountMap } from "./picture.js";

const rangeSelect = document.querySelector("[data-dash-range]");
const range = () => (rangeSelect ? rangeSelect.value : "7d");

mountKpis(document.querySelector("[data-dash-kpis]"));
mountMap(document.querySelector("[data-dash-map]"), document.querySelector("[data-dash-layers]"));
mountFeed(document.querySelector("[data-dash-feed]"), document.querySelector("[data-dash-sound]"));
// Charts sit below the fold and load when scrolled to: they are not part of the first picture.
const charts = mountCharts(document.querySelector("[data-dash-charts]"), range);

// One figure's history at a time: the tile chosen in the select.
const kpiSelect = document.querySelector("[data-dash-kpi-chart]");
const kpiHolder = document.querySelector("[data-dash-kpi-charts]");
let kpiChart = null;
const showKpiChart = () => {
  if (kpiChart) {
    kpiChart.destroy();
  }
  kpiChart = kpiSelect && kpiSelect.value ? mountCharts(kpiHolder, range, [kpiSelect.value]) : null;
};
if (kpiSelect) {
  for (const chart of config.kpiCharts || []) {
    const option = document.createElement("option");
    option.value = chart.key;
    option.textContent = chart.label;
    kpiSelect.append(option);
  }
  kpiSelect.addEventListener("change", showKpiChart);
  showKpiChart();
}

if (rangeSelect) {
  rangeSelect.addEventListener("change", () => {
    charts.load();
    if (kpiChart) {
      kpiChart.load();
    }
  });
}

// The unit of a drill-down, for scripts and tests that need to know which picture this is.
document.documentElement.dataset.dashboardUnit = config.unit || "";
