// The station page: the newest reading of each parameter, updated live when telemetry announces a batch for
// one of the station's datastreams; the index and parameter charts (uPlot through the shared chart
// component); the current index badge, updated when the station's index changes.

import { lang, onLive, strings, toast } from "/static/js/shell.js";
import { lineChart, chartError } from "/static/js/components/chart.js";
import { formatNumber, formatTime } from "/static/js/components/format.js";

const configNode = document.getElementById("env-station-config");
const config = configNode ? JSON.parse(configNode.textContent) : null;
const CHART_REFRESH_MS = 30000;
const LATEST_DEBOUNCE_MS = 150;

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  return response.json();
}

async function refreshLatest() {
  const rows = await getJson(config.latest);
  for (const item of rows) {
    const row = document.querySelector(`#env-latest tr[data-parameter="${CSS.escape(item.parameter)}"]`);
    if (!row) {
      continue;
    }
    const value = row.querySelector("[data-value]");
    const time = row.querySelector("[data-time]");
    if (value) {
      value.textContent = item.value === null ? "—" : `${formatNumber(item.value, 2)} ${item.unit}`.trim();
    }
    if (time && item.time) {
      const node = document.createElement("time");
      node.dateTime = item.time;
      node.textContent = formatTime(item.time);
      time.replaceChildren(node);
    }
    row.dataset.updated = item.time || "";
  }
  document.body.dataset.latestRefreshed = String(Date.now());
}

const charts = new Map();

function chartBox(key, label) {
  let box = document.querySelector(`[data-chart="${CSS.escape(key)}"]`);
  if (!box) {
    const holder = document.querySelector('[data-chart="parameters"]');
    box = document.createElement("div");
    box.className = "env-chart env-chart-small";
    box.dataset.chart = key;
    box.setAttribute("aria-label", label);
    const title = document.createElement("h4");
    title.textContent = label;
    holder.append(title, box);
  }
  return box;
}

async function refreshCharts() {
  let data;
  try {
    data = await getJson(config.chart);
  } catch (error) {
    for (const box of document.querySelectorAll("[data-chart]")) {
      chartError(box, strings["chart.error"] || String(error));
    }
    return;
  }
  const sets = [["index", data.index.label, [data.index]]];
  for (const serie of data.parameters) {
    sets.push([`p:${serie.label}`, serie.label, [serie]]);
  }
  for (const [key, label, series] of sets) {
    const chartData = { times: data.times, bucketSeconds: data.bucketSeconds, series, title: label };
    if (charts.has(key)) {
      charts.get(key).update(chartData);
    } else {
      charts.set(key, lineChart(chartBox(key, label), chartData));
    }
  }
}

function textColour(hex) {
  const value = (hex || "#999999").replace("#", "");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(value.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 ? "#000000" : "#ffffff";
}

function paint(badge, payload, category) {
  if (badge) {
    badge.textContent = String(payload.value);
    badge.classList.remove("env-index-none");
    badge.style.backgroundColor = category.hex || "";
    badge.style.color = textColour(category.hex);
  }
}

function showIndex(payload) {
  const category = ((config.categories || {})[payload.standard] || {})[payload.category] || {};
  // The daily VN_AQI and the US AQI have their own badges; the big one is the station's hourly index.
  if (payload.period === "day") {
    paint(document.querySelector("[data-day-index] [data-index-badge]"), payload, category);
    return;
  }
  if (payload.standard !== config.standard) {
    paint(document.querySelector("[data-us-index] [data-index-badge]"), payload, category);
    return;
  }
  paint(document.querySelector("[data-current] > [data-index-badge]"), payload, category);
  const name = document.querySelector("[data-current-name]");
  if (name) {
    name.textContent = `${payload.standard} · ${(lang === "en" ? category.en : category.vi) || payload.category}`;
  }
  const at = document.querySelector("[data-current-at]");
  if (at) {
    at.textContent = formatTime(payload.computed_for);
  }
}

function throttle(fn, ms) {
  let last = 0;
  let timer = 0;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = window.setTimeout(() => {
        timer = 0;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

function debounce(fn, ms) {
  let timer = 0;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fn, ms);
  };
}

if (config) {
  const mine = new Set(config.datastreams);
  const latestSoon = debounce(() => refreshLatest().catch(() => {}), LATEST_DEBOUNCE_MS);
  const chartsSoon = throttle(() => refreshCharts(), CHART_REFRESH_MS);
  refreshCharts();
  onLive("telemetry.observations_received", (message) => {
    const ids = (message && message.payload && message.payload.datastream_ids) || [];
    if (ids.some((id) => mine.has(id))) {
      latestSoon();
      chartsSoon();
    }
  });
  onLive("environment.index_computed", (message) => {
    const payload = message && message.payload;
    if (payload && payload.station_id === config.station_id) {
      showIndex(payload);
      chartsSoon();
    }
  });
  const announce = (message, key) => {
    const payload = message && message.payload;
    if (payload && payload.station_id === config.station_id) {
      toast(`${strings[key] || key}: ${payload.parameter} (${payload.period})`);
    }
  };
  onLive("environment.exceedance_detected", (m) => announce(m, lang === "en" ? "Limit exceeded" : "Vượt ngưỡng"));
  onLive("environment.exceedance_cleared", (m) => announce(m, lang === "en" ? "Back within limit" : "Hết vượt ngưỡng"));
}
