// The desk page and the unit drill-down: tiles, map with layer switcher, live feed and charts on one screen.

import { config, getJson, mountCharts, mountFeed, mountKpis, mountMap, onPictureChange, text } from "./picture.js";
import { chartError, lineChart } from "/static/js/components/chart.js";
import { formatNumber } from "/static/js/components/format.js";
import { showState } from "/static/js/components/states.js";

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

// ---------- the drill-down's history: what happened in the unit over the chosen range ----------

function historyRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.event = row.name;
  const name = document.createElement("th");
  name.scope = "row";
  name.textContent = row.label;
  const count = document.createElement("td");
  count.className = "num";
  count.dataset.count = String(row.count);
  count.textContent = formatNumber(row.count);
  const previous = document.createElement("td");
  previous.className = "num";
  previous.textContent = formatNumber(row.previous);
  const change = document.createElement("td");
  change.className = `num dash-history-change is-${row.trend || "flat"}`;
  const arrow = row.trend === "up" ? "▲ " : row.trend === "down" ? "▼ " : "";
  change.textContent = `${arrow}${row.change > 0 ? "+" : ""}${formatNumber(row.change)}`;
  change.title = text[`trend.${row.trend || "flat"}`] || "";
  // The arrow alone says nothing to a screen reader.
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = ` (${change.title})`;
  change.append(hidden);
  tr.append(name, count, previous, change);
  return tr;
}

function mountHistory(card) {
  const select = card.querySelector("[data-dash-history-range]");
  const rows = card.querySelector("[data-dash-history-rows]");
  const box = card.querySelector("[data-dash-history-index] .dash-chart-box");
  let chart = null;
  const load = async () => {
    try {
      const history = await getJson(card.dataset.url, { range: select.value });
      rows.replaceChildren(...history.rows.map(historyRow));
      rows.removeAttribute("aria-busy");
      card.dataset.range = history.range;
      if (!history.index) {
        // No station in the unit computed an index in the range: say so instead of an empty plot.
        if (chart) {
          chart.destroy();
          chart = null;
        }
        showState(box, "empty", text["history.no_index"]);
        return;
      }
      const shaped = { times: history.index.times, series: history.index.series, bucketSeconds: history.index.bucket_seconds };
      if (chart) {
        chart.update(shaped);
      } else {
        box.replaceChildren();
        chart = lineChart(box, shaped);
      }
    } catch {
      const row = document.createElement("tr");
      const cell = document.createElement("td");
      cell.colSpan = 4;
      cell.textContent = text.error;
      row.append(cell);
      rows.replaceChildren(row);
      if (chart) {
        chart.destroy();
        chart = null;
      }
      chartError(box, text.error);
    }
  };
  select.addEventListener("change", load);
  onPictureChange(load);
  return load();
}

const historyCard = document.querySelector("[data-dash-history]");
if (historyCard) {
  mountHistory(historyCard);
}

// The unit of a drill-down, for scripts and tests that need to know which picture this is.
document.documentElement.dataset.dashboardUnit = config.unit || "";
