// The chart wrapper: a uPlot time-series chart that follows the theme (desk or wall), resizes with its
// box, formats axes in the page language and the province's time zone, and shows empty and error states.
//
//   import { lineChart } from "/static/js/components/chart.js";
//   const chart = lineChart(element, { times, series: [{ label, values }], bucketSeconds, title });
//   chart.update(newData);  chart.destroy();
//
// `times` are Unix seconds; `values` may hold null for gaps. uPlot's stylesheet must be on the page:
// <link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css">.

import uPlot from "../../vendor/uplot/uPlot.esm.js";
import { strings } from "../shell.js";
import { formatBucket, formatNumber } from "./format.js";
import { showState } from "./states.js";

const PALETTE_VARS = ["--chart-1", "--chart-2", "--chart-3", "--chart-4", "--chart-5"];
const FALLBACK = ["#2f7bbf", "#d9822b", "#2e9d5b", "#b8336a", "#7a5cc2"];
const MIN_HEIGHT = 160;

function cssVar(element, name, fallback) {
  const value = getComputedStyle(element).getPropertyValue(name).trim();
  return value || fallback;
}

function options(element, data, width, height) {
  const text = cssVar(element, "--color-muted", "#4a5a6c");
  const grid = cssVar(element, "--color-border", "#d3dbe4");
  const axis = {
    stroke: text,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    font: `${cssVar(element, "--chart-font-size", "12px")} ${cssVar(element, "--font-sans", "sans-serif")}`,
  };
  return {
    width,
    height,
    legend: { show: data.series.length > 1 },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.15)] } },
    axes: [
      { ...axis, values: (_u, ticks) => ticks.map((t) => formatBucket(t, data.bucketSeconds || 86400)) },
      { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => formatNumber(t)) },
    ],
    series: [
      { value: (_u, t) => (t == null ? "" : formatBucket(t, data.bucketSeconds || 86400)) },
      ...data.series.map((serie, index) => {
        const colour = cssVar(element, PALETTE_VARS[index % PALETTE_VARS.length], FALLBACK[index % FALLBACK.length]);
        return {
          label: serie.label,
          stroke: colour,
          width: 2.5,
          fill: `${colour}22`,
          points: { show: data.times.length <= 31, size: 6 },
          value: (_u, v) => (v == null ? "—" : formatNumber(v)),
        };
      }),
    ],
  };
}

function isEmpty(data) {
  return !data || !data.times || data.times.length === 0 || data.series.every((s) => s.values.every((v) => !v));
}

/** Draw a line chart in `element`; returns {update(data), destroy()}. */
export function lineChart(element, data) {
  let plot = null;
  let observer = null;
  let current = data;

  const size = () => ({
    width: Math.max(element.clientWidth, 200),
    height: Math.max(element.clientHeight || 0, MIN_HEIGHT),
  });

  const draw = () => {
    if (plot) {
      plot.destroy();
      plot = null;
    }
    element.replaceChildren();
    if (isEmpty(current)) {
      showState(element, "empty", strings["chart.empty"] || element.dataset.emptyText || "No data");
      element.dataset.chartState = "empty";
      return;
    }
    const { width, height } = size();
    const series = [current.times, ...current.series.map((s) => s.values)];
    plot = new uPlot(options(element, current, width, height), series, element);
    element.dataset.chartState = "ready";
  };

  draw();
  if ("ResizeObserver" in window) {
    let pending = 0;
    observer = new ResizeObserver(() => {
      window.cancelAnimationFrame(pending);
      pending = window.requestAnimationFrame(() => {
        if (plot) {
          const { width, height } = size();
          if (Math.abs(plot.width - width) > 2 || Math.abs(plot.height - height) > 2) {
            plot.setSize({ width, height });
          }
        }
      });
    });
    observer.observe(element);
  }

  return {
    update(next) {
      const sameShape =
        plot && !isEmpty(next) && next.bucketSeconds === current.bucketSeconds && next.series.length === current.series.length && next.series.every((s, i) => s.label === current.series[i].label);
      current = next;
      if (sameShape) {
        plot.setData([next.times, ...next.series.map((s) => s.values)]);
      } else {
        draw();
      }
    },
    destroy() {
      if (observer) {
        observer.disconnect();
      }
      if (plot) {
        plot.destroy();
      }
      plot = null;
      element.replaceChildren();
    },
  };
}

/** Show an error state in a chart's box (e.g. when its data could not be loaded). */
export function chartError(element, message) {
  element.replaceChildren();
  showState(element, "error", message || strings["chart.error"] || "Error");
  element.dataset.chartState = "error";
}
