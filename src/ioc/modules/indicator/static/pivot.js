// The pivot builder's chart: one line per table row (totals first, at most eight), periods along the axis.
// The figures are those of the table, rendered by the server from the analytics service; the chart only
// draws them (uPlot, vendored), in the page's number format, and follows its box when resized.

import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { strings } from "/static/js/shell.js";
import { formatNumber } from "/static/js/components/format.js";
import { showState } from "/static/js/components/states.js";

const PALETTE_VARS = ["--chart-1", "--chart-2", "--chart-3", "--chart-4", "--chart-5"];
const FALLBACK = ["#2f7bbf", "#d9822b", "#2e9d5b", "#b8336a", "#7a5cc2", "#4a5a6c", "#c29a00", "#00838f"];
const HEIGHT = 280;

function cssVar(element, name, fallback) {
  const value = getComputedStyle(element).getPropertyValue(name).trim();
  return value || fallback;
}

function draw(box, data) {
  const hasValues = data.series.some((s) => s.values.some((v) => v !== null));
  if (!data.periods.length || !hasValues) {
    showState(box, "empty", strings["chart.empty"] || box.dataset.emptyText || "—");
    box.dataset.chartState = "empty";
    return null;
  }
  const text = cssVar(box, "--color-muted", "#4a5a6c");
  const grid = cssVar(box, "--color-border", "#d3dbe4");
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const xs = data.periods.map((_p, i) => i);
  const options = {
    width: Math.max(box.clientWidth, 240),
    height: HEIGHT,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] } },
    axes: [
      { ...axis, splits: () => xs, values: (_u, ticks) => ticks.map((t) => data.periods[t] ?? "") },
      { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => formatNumber(t)) },
    ],
    series: [
      { label: "", value: (_u, i) => (i == null ? "" : data.periods[i] ?? "") },
      ...data.series.map((serie, index) => ({
        label: serie.label,
        stroke: cssVar(box, PALETTE_VARS[index % PALETTE_VARS.length], FALLBACK[index % FALLBACK.length]),
        width: 2,
        points: { show: true, size: 5 },
        spanGaps: false,
        value: (_u, v) => (v == null ? "—" : formatNumber(v)),
      })),
    ],
  };
  box.replaceChildren();
  const plot = new uPlot(options, [xs, ...data.series.map((s) => s.values)], box);
  box.dataset.chartState = "ready";
  return plot;
}

const node = document.getElementById("ind-pivot-data");
const box = document.getElementById("ind-pivot-chart");
if (node && box) {
  const data = JSON.parse(node.textContent);
  const plot = draw(box, data);
  if (plot && "ResizeObserver" in window) {
    let pending = 0;
    new ResizeObserver(() => {
      window.cancelAnimationFrame(pending);
      pending = window.requestAnimationFrame(() => {
        const width = Math.max(box.clientWidth, 240);
        if (plot && Math.abs(plot.width - width) > 2) {
          plot.setSize({ width, height: HEIGHT });
        }
      });
    }).observe(box);
  }
}
