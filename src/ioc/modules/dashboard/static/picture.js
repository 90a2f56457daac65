// The pieces of the operations picture, shared by the desk page, the unit drill-down and the video wall:
// KPI tiles, the live map with its layers, the live feed and the charts. Every piece refreshes itself
// from the live event stream (debounced) and on a slow timer, reuses its DOM and never grows without a
// bound, so that a wall can run for days without a reload.

import { lang, onLive } from "/static/js/shell.js";
import { initMap } from "/static/js/map.js";
import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { chartError, lineChart } from "/static/js/components/chart.js";
import { formatNumber, formatTime } from "/static/js/components/format.js";
import { showState } from "/static/js/components/states.js";

function readJson(id) {
  const node = document.getElementById(id);
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
}

export const config = readJson("dashboard-config");
export const text = readJson("dashboard-strings");

const CHANGE_DEBOUNCE_MS = 1200;
const PERIODIC_REFRESH_MS = 60_000;
const REQUEST_TIMEOUT_MS = 20_000;
export const FEED_CAP = 50;
const FLASH_MS = 4000;
const SOUND_KEY = "ioc.dashboard.sound";
const TEXT_FIELDS = ["title", "headline", "tracking_code", "code", "station_code", "name"];
const SEVERITY_COLOURS = {
  critical: "#c62828", extreme: "#c62828", severe: "#e65100", high: "#e65100", major: "#e65100",
  warning: "#f9a825", medium: "#f9a825", moderate: "#f9a825", minor: "#1e88e5", low: "#1e88e5", info: "#1e88e5",
  indeterminate: "#78909c", unknown: "#78909c",
};
const LAYER_COLOURS = ["#1565c0", "#ef6c00", "#2e7d32", "#ad1457", "#6a1b9a", "#00838f", "#5d4037"];

// ---------- requests ----------

function withQuery(url, params) {
  const target = new URL(url, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") {
      target.searchParams.set(key, String(value));
    }
  }
  return target.pathname + target.search;
}

export async function getJson(url, params = {}) {
  const target = withQuery(url, params);
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(target, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    });
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    return await response.json();
  } finally {
    window.clearTimeout(timer);
  }
}

// ---------- refresh bus: live events and a slow timer ----------

const refreshers = new Set();
let changeTimer = 0;

/** Call `refresh` after the picture changed (debounced live events) and every minute. */
export function onPictureChange(refresh) {
  refreshers.add(refresh);
  return () => refreshers.delete(refresh);
}

function pictureChanged() {
  window.clearTimeout(changeTimer);
  changeTimer = window.setTimeout(() => refreshers.forEach((refresh) => refresh()), CHANGE_DEBOUNCE_MS);
}

const feedListeners = new Set();
for (const name of config.feedEvents || []) {
  onLive(name, (data) => {
    feedListeners.forEach((listener) => listener(data));
    pictureChanged();
  });
}
window.setInterval(() => refreshers.forEach((refresh) => refresh()), PERIODIC_REFRESH_MS);

// The page is "ready" once every piece has drawn its first data (browser tests measure the first load).
const pending = new Set();
let tracked = 0;
export function track(label, promise) {
  const name = `${label}-${++tracked}`;
  pending.add(name);
  return Promise.resolve(promise)
    .catch(() => undefined)
    .finally(() => {
      pending.delete(name);
      if (pending.size === 0 && !document.documentElement.dataset.dashboardReady) {
        document.documentElement.dataset.dashboardReady = "true";
        document.documentElement.dataset.dashboardReadyMs = String(Math.round(performance.now()));
      }
    });
}

// ---------- KPI tiles ----------

function trendText(tile) {
  if (!tile.trend) {
    return null;
  }
  const arrow = tile.trend === "up" ? "▲" : tile.trend === "down" ? "▼" : "▶";
  const sign = tile.change > 0 ? "+" : "";
  const good = tile.trend === "flat" ? "flat" : (tile.trend === "up") === tile.higher_is_better ? "good" : "bad";
  return {
    good,
    label: `${arrow} ${sign}${formatNumber(tile.change)}`,
    title: `${text[`trend.${tile.trend}`] || tile.trend} · ${text.previous || ""} ${formatNumber(tile.previous)}`,
  };
}

function tileElement(tile) {
  const box = document.createElement(tile.link ? "a" : "div");
  box.className = `dash-tile is-${tile.error ? "error" : tile.status || "normal"}`;
  box.dataset.tileKey = tile.key;
  if (tile.link) {
    box.href = tile.link;
  }
  const label = document.createElement("span");
  label.className = "dash-tile-label";
  label.textContent = tile.label;
  box.append(label);
  if (tile.error) {
    const error = document.createElement("span");
    error.className = "dash-tile-error";
    error.setAttribute("role", "alert");
    error.textContent = `⚠ ${tile.error}`;
    box.append(error);
    return box;
  }
  const value = document.createElement("span");
  value.className = "dash-tile-value";
  value.textContent = formatNumber(tile.value);
  if (tile.unit) {
    const unit = document.createElement("span");
    unit.className = "dash-tile-unit";
    unit.textContent = ` ${tile.unit}`;
    value.append(unit);
  }
  box.append(value);
  const trend = trendText(tile);
  if (trend) {
    const node = document.createElement("span");
    node.className = `dash-tile-trend is-${trend.good}`;
    node.textContent = trend.label;
    node.title = trend.title;
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ` (${trend.title})`;
    node.append(hidden);
    box.append(node);
  }
  return box;
}

/** Fill `element` with the KPI tiles (all the caller may see, or only `keys`). */
export function mountKpis(element, { keys = null } = {}) {
  const load = async () => {
    try {
      const board = await getJson(config.kpis, { unit: config.unit, keys: keys ? keys.join(",") : null });
      element.removeAttribute("aria-busy");
      if (!board.tiles.length) {
        showState(element, "empty", text.empty_tiles);
        return;
      }
      element.replaceChildren(...board.tiles.map(tileElement));
      element.dataset.tileCount = String(board.tiles.length);
    } catch {
      showState(element, "error", text.error, () => load(), text.retry);
    }
  };
  onPictureChange(load);
  return track("kpis", load());
}

// ---------- the map ----------

function colourOf(properties, index) {
  if (typeof properties.color === "string" && /^#[0-9a-f]{3,8}$/i.test(properties.color)) {
    return properties.color;
  }
  for (const field of ["severity", "level", "status"]) {
    const value = String(properties[field] || "").toLowerCase();
    if (SEVERITY_COLOURS[value]) {
      return SEVERITY_COLOURS[value];
    }
  }
  return LAYER_COLOURS[index % LAYER_COLOURS.length];
}

function safePath(value) {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : null;
}

const HIDDEN_PROPERTIES = new Set(["url", "link", "color", "name", "title", "cluster", "count", "groups", "group", "id"]);

function detailCard(properties, layerLabel) {
  const box = document.createElement("div");
  box.className = "dash-card";
  const kind = document.createElement("div");
  kind.className = "dash-card-kind";
  kind.textContent = layerLabel;
  const title = document.createElement("strong");
  title.className = "dash-card-title";
  title.textContent = properties.name || properties.title || properties.code || "";
  box.append(kind, title);
  const list = document.createElement("dl");
  for (const [key, value] of Object.entries(properties)) {
    if (HIDDEN_PROPERTIES.has(key) || value === null || typeof value === "object" || list.childElementCount >= 12) {
      continue;
    }
    const term = document.createElement("dt");
    term.textContent = key.replaceAll("_", " ");
    const detail = document.createElement("dd");
    detail.textContent = typeof value === "number" ? formatNumber(value) : String(value);
    list.append(term, detail);
  }
  if (list.childElementCount) {
    box.append(list);
  }
  // `url` is the documented property; some layers name it `link`.
  const url = safePath(properties.url) || safePath(properties.link);
  if (url) {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = text.detail || "Detail";
    box.append(link);
  }
  return box;
}

function clusterCard(properties, layerLabel) {
  const box = document.createElement("div");
  box.className = "dash-card";
  const title = document.createElement("strong");
  title.textContent = `${layerLabel}: ${formatNumber(properties.count)}`;
  box.append(title);
  if (properties.groups) {
    const list = document.createElement("dl");
    for (const [group, count] of Object.entries(properties.groups)) {
      const term = document.createElement("dt");
      term.textContent = group || "—";
      const detail = document.createElement("dd");
      detail.textContent = formatNumber(count);
      list.append(term, detail);
    }
    box.append(list);
  }
  const hint = document.createElement("p");
  hint.className = "muted";
  hint.textContent = text.zoom_in || "";
  box.append(hint);
  return box;
}

function clusterIcon(count, colour) {
  const size = count < 10 ? 30 : count < 100 ? 38 : count < 1000 ? 46 : 54;
  const node = document.createElement("div");
  node.className = "dash-cluster";
  node.style.setProperty("--cluster-colour", colour);
  node.style.width = `${size}px`;
  node.style.height = `${size}px`;
  node.textContent = count >= 10000 ? `${Math.round(count / 1000)}k` : formatNumber(count);
  return L.divIcon({ html: node, className: "dash-cluster-icon", iconSize: [size, size] });
}

function unitPopup(properties) {
  const box = document.createElement("div");
  box.className = "dash-card";
  const title = document.createElement("strong");
  title.className = "dash-card-title";
  title.textContent = (lang === "en" && properties.name_en) || properties.name || properties.code || "";
  const link = document.createElement("a");
  link.href = `${config.unitPage}/${encodeURIComponent(properties.code)}`;
  link.textContent = text.drill || "Open";
  link.dataset.drill = properties.code;
  box.append(title, document.createElement("br"), link);
  return box;
}

/** Start the live map in `element` (a `data-map` element) with a layer switcher in `switcher`. */
export function mountMap(element, switcher) {
  return track("map", startMap(element, switcher));
}

function layerUrl(key) {
  return withQuery(`${config.layers}/${encodeURIComponent(key)}`, { unit: config.unit });
}

function layerEntry(layer, index, map, onToggle) {
  const entry = { ...layer, index, sequence: 0, byZoom: true, group: L.layerGroup(), item: document.createElement("label") };
  entry.url = layerUrl(layer.key);
  entry.item.className = "dash-layer";
  entry.item.dataset.layerKey = layer.key;
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = layer.default_on;
  const swatch = document.createElement("span");
  swatch.className = "dash-swatch";
  swatch.setAttribute("aria-hidden", "true");
  swatch.style.background = LAYER_COLOURS[index % LAYER_COLOURS.length];
  const name = document.createElement("span");
  name.className = "dash-layer-name";
  name.textContent = layer.label;
  const count = document.createElement("span");
  count.className = "dash-layer-count badge";
  count.textContent = "…";
  entry.item.append(box, swatch, name, count);
  box.addEventListener("change", () => onToggle(entry));
  entry.checkbox = box;
  if (box.checked) {
    entry.group.addTo(map);
  }
  return entry;
}

const DEFAULT_ZOOM = 8;

async function startMap(element, switcher) {
  // Ask for the layers while the map and its boundaries load, at the zoom the map starts with.
  const startZoom = Number(element.dataset.zoom) || DEFAULT_ZOOM;
  const early = new Map(
    (config.layerList || [])
      .filter((layer) => layer.default_on)
      .map((layer) => [layer.key, getJson(layerUrl(layer.key), { zoom: startZoom }).catch(() => null)]),
  );
  const map = await initMap(element);
  if (!map) {
    return;
  }
  // Communes: a click opens the drill-down card instead of the generic popup.
  map.eachLayer((layer) => {
    if (layer instanceof L.GeoJSON) {
      layer.eachLayer((unitLayer) => {
        const properties = (unitLayer.feature && unitLayer.feature.properties) || {};
        if (properties.code && !config.unit) {
          unitLayer.unbindPopup();
          unitLayer.bindPopup(() => unitPopup(properties));
        }
      });
    }
  });

  const loadLayer = async (entry, prefetched = null) => {
    const sequence = ++entry.sequence;
    const zoom = prefetched ? startZoom : Math.round(map.getZoom());
    try {
      const data = (prefetched && (await prefetched)) || (await getJson(entry.url, { zoom }));
      if (sequence !== entry.sequence) {
        return;
      }
      entry.group.clearLayers();
      L.geoJSON(data, {
        pointToLayer: (feature, latlng) => {
          const properties = feature.properties || {};
          const colour = colourOf(properties, entry.index);
          if (properties.cluster) {
            return L.marker(latlng, { icon: clusterIcon(properties.count, colour), keyboard: true, title: entry.label });
          }
          return L.circleMarker(latlng, { radius: 7, color: "#ffffff", weight: 1.5, fillColor: colour, fillOpacity: 0.92 });
        },
        style: (feature) => {
          const colour = colourOf((feature && feature.properties) || {}, entry.index);
          return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.25 };
        },
        onEachFeature: (feature, featureLayer) => {
          const properties = feature.properties || {};
          if (properties.cluster) {
            featureLayer.bindPopup(() => clusterCard(properties, entry.label));
            featureLayer.on("dblclick", () => map.setView(featureLayer.getLatLng(), Math.min(map.getZoom() + 2, 18)));
          } else {
            featureLayer.bindPopup(() => detailCard(properties, entry.label));
          }
        },
      }).addTo(entry.group);
      entry.item.dataset.state = "ready";
      entry.zoom = zoom;
      // A layer of few points is the same at every zoom: only clustered ones are asked again on zooming.
      entry.byZoom = data.by_zoom !== false;
      if (Number.isFinite(data.count)) {
        showCount(entry, { count: data.count });
      }
    } catch {
      entry.item.dataset.state = "error";
    }
  };

  const toggle = (entry) => {
    if (entry.checkbox.checked) {
      entry.group.addTo(map);
      loadLayer(entry);
    } else {
      entry.group.remove();
    }
  };
  const layers = new Map((config.layerList || []).map((layer, i) => [layer.key, layerEntry(layer, i, map, toggle)]));
  if (switcher) {
    const legend = switcher.querySelector("legend");
    if (layers.size) {
      switcher.replaceChildren(legend, ...[...layers.values()].map((entry) => entry.item));
    } else {
      const note = document.createElement("p");
      note.className = "muted text-small";
      note.textContent = text.empty_layers;
      switcher.replaceChildren(legend, note);
    }
  }

  const showCounts = (answer) => {
    for (const layer of (answer && answer.layers) || []) {
      const entry = layers.get(layer.key);
      if (entry) {
        showCount(entry, layer);
      }
    }
  };
  const loadVisible = () => Promise.all([...layers.values()].filter((e) => e.checkbox.checked).map((e) => loadLayer(e)));
  const refresh = async () => {
    await loadVisible();
    if ([...layers.values()].some((e) => !e.checkbox.checked)) {
      showCounts(await getJson(config.layers, { unit: config.unit }).catch(() => null));
    }
  };

  onPictureChange(refresh);
  await Promise.all([...layers.values()].filter((e) => e.checkbox.checked).map((e) => loadLayer(e, early.get(e.key))));
  element.dataset.dashState = "ready";
  let zoomTimer = 0;
  const reloadStale = () => {
    const zoom = Math.round(map.getZoom());
    [...layers.values()].filter((e) => e.checkbox.checked && e.byZoom && e.zoom !== zoom).forEach((e) => loadLayer(e));
  };
  map.on("zoomend", () => {
    window.clearTimeout(zoomTimer);
    zoomTimer = window.setTimeout(reloadStale, 250);
  });
  // The map fitted the province (or the unit) at another zoom than it started with: redraw for it.
  reloadStale();

  // Layers that are off get their counts once the picture is drawn.
  if ([...layers.values()].some((e) => !e.checkbox.checked)) {
    getJson(config.layers, { unit: config.unit }).then(showCounts, () => undefined);
  }
}

function showCount(entry, layer) {
  const count = entry.item.querySelector(".dash-layer-count");
  count.textContent = layer.error ? "⚠" : formatNumber(layer.count);
  count.title = layer.error || "";
  entry.item.dataset.count = layer.error ? "" : String(layer.count);
}

// ---------- the live feed ----------

let audio = null;

function beep() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.18, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.6);
  } catch {
    // No audio device: the visual cue is enough.
  }
}

// The rules of each event come from its module's manifest (`feed` entries), as on the server.
function feedEntry(name) {
  return (config.feedEntries || {})[name] || {};
}

function isCritical(name, payload) {
  const entry = feedEntry(name);
  if (entry.critical) {
    return true;
  }
  const value = entry.field ? payload[entry.field] : undefined;
  return typeof value === "string" && (entry.values || []).includes(value.toLowerCase());
}

function itemText(payload) {
  const main = TEXT_FIELDS.map((field) => payload[field]).find((value) => value !== undefined && value !== null && value !== "");
  if (main && payload.unit_code) {
    return `${main} · ${payload.unit_code}`;
  }
  return String(main || payload.unit_code || "");
}

function itemLink(name, payload) {
  const own = safePath(payload.url);
  if (own) {
    return own;
  }
  const template = feedEntry(name).link;
  if (!template) {
    return "";
  }
  let missing = false;
  const link = template.replace(/\{(\w+)\}/g, (_m, field) => {
    if (payload[field] === undefined) {
      missing = true;
    }
    return encodeURIComponent(String(payload[field] ?? ""));
  });
  return missing ? "" : link;
}

function feedItem(item) {
  const row = document.createElement("li");
  row.className = `dash-feed-item${item.critical ? " is-critical" : ""}`;
  row.dataset.eventId = String(item.id);
  row.dataset.eventName = item.name;
  const time = document.createElement("time");
  time.dateTime = item.occurred_at;
  time.textContent = formatTime(item.occurred_at);
  const label = document.createElement("span");
  label.className = "dash-feed-label";
  label.textContent = item.critical ? `⚠ ${item.label}` : item.label;
  const body = document.createElement(item.link ? "a" : "span");
  body.className = "dash-feed-text";
  body.textContent = item.text;
  if (item.link) {
    body.href = item.link;
  }
  row.append(time, label, body);
  return row;
}

function flash() {
  const overlay = document.createElement("div");
  overlay.className = "dash-flash";
  overlay.setAttribute("aria-hidden", "true");
  document.body.append(overlay);
  window.setTimeout(() => overlay.remove(), FLASH_MS);
}

/** Show the newest events in `list` and add live ones on top (at most FEED_CAP items). */
export function mountFeed(list, soundToggle = null) {
  const seen = new Set();
  if (soundToggle) {
    soundToggle.checked = window.localStorage.getItem(SOUND_KEY) === "on";
    soundToggle.addEventListener("change", () => {
      window.localStorage.setItem(SOUND_KEY, soundToggle.checked ? "on" : "off");
      if (soundToggle.checked) {
        beep();
      }
    });
  }
  const showEmpty = () => {
    if (!list.childElementCount) {
      const empty = document.createElement("li");
      empty.className = "dash-feed-empty muted";
      empty.textContent = text.empty_feed;
      list.append(empty);
    }
  };
  const add = (item, live) => {
    if (seen.has(item.id)) {
      return;
    }
    seen.add(item.id);
    const empty = list.querySelector(".dash-feed-empty");
    if (empty) {
      empty.remove();
    }
    const row = feedItem(item);
    if (live) {
      row.classList.add("is-new");
      list.prepend(row);
    } else {
      list.append(row);
    }
    while (list.childElementCount > FEED_CAP) {
      const last = list.lastElementChild;
      seen.delete(Number(last.dataset.eventId));
      last.remove();
    }
    if (live && item.critical) {
      flash();
      if (soundToggle ? soundToggle.checked : window.localStorage.getItem(SOUND_KEY) === "on") {
        beep();
      }
    }
  };
  feedListeners.add((data) => {
    if (!data || typeof data !== "object") {
      return;
    }
    const payload = data.payload || {};
    const codes = Array.isArray(payload.unit_codes) ? payload.unit_codes : [];
    if (config.unit && payload.unit_code !== config.unit && !codes.includes(config.unit)) {
      return;
    }
    add(
      {
        id: data.id,
        name: data.name,
        label: (config.eventLabels || {})[data.name] || data.name,
        text: itemText(payload),
        critical: isCritical(data.name, payload),
        occurred_at: payload.occurred_at || new Date().toISOString(),
        link: itemLink(data.name, payload),
      },
      true,
    );
  });
  const load = async () => {
    try {
      const items = await getJson(config.feed, { unit: config.unit, limit: 30 });
      items.forEach((item) => add(item, false));
      showEmpty();
    } catch {
      showEmpty();
    }
  };
  return track("feed", load());
}

// ---------- charts ----------

/** Fill `container` with one figure per chart (all the caller may see, or `only`), fed by one request. */
export function mountCharts(container, range, only = null) {
  // Every chart of the list (the modules' charts and the event counts), or the ones named, which may be a tile's
  // history (the desk's history select, a wall cell).
  const listed = config.chartList || [];
  const named = only ? [...listed, ...(config.kpiCharts || [])].filter((chart) => only.includes(chart.key)) : [];
  const wanted = only ? named.filter((chart, i) => named.findIndex((c) => c.key === chart.key) === i) : listed;
  const charts = new Map();
  if (!wanted.length) {
    showState(container, "empty", text.empty_chart);
    return { load: () => undefined, ready: Promise.resolve(), destroy: () => container.replaceChildren() };
  }
  for (const chart of wanted) {
    const figure = document.createElement("figure");
    figure.className = "dash-chart";
    figure.dataset.chartKey = chart.key;
    const caption = document.createElement("figcaption");
    caption.textContent = chart.unit ? `${chart.label} (${chart.unit})` : chart.label;
    if (chart.link) {
      // The page with the detail behind the chart, as a tile links to its own.
      const more = document.createElement("a");
      more.className = "dash-chart-link";
      more.href = chart.link;
      more.textContent = text.detail || "›";
      caption.append(" ", more);
    }
    const box = document.createElement("div");
    box.className = "dash-chart-box";
    box.dataset.emptyText = text.empty_chart;
    figure.append(caption, box);
    container.append(figure);
    charts.set(chart.key, { box, chart: null });
  }
  const load = async () => {
    try {
      const answers = await getJson(`${config.charts}/data`, {
        range: range(),
        unit: config.unit,
        keys: only ? only.join(",") : null,
      });
      for (const data of answers) {
        const slot = charts.get(data.key);
        if (!slot) {
          continue;
        }
        if (data.error) {
          // One module's chart failed: it shows its error, the other charts still draw.
          if (slot.chart) {
            slot.chart.destroy();
            slot.chart = null;
          }
          chartError(slot.box, data.error);
          slot.box.dataset.chartState = "error";
          continue;
        }
        const shaped = { times: data.times, series: data.series, bucketSeconds: data.bucket_seconds };
        if (slot.chart) {
          slot.chart.update(shaped);
        } else {
          slot.chart = lineChart(slot.box, shaped);
        }
      }
    } catch {
      for (const slot of charts.values()) {
        if (slot.chart) {
          slot.chart.destroy();
          slot.chart = null;
        }
        chartError(slot.box, text.error);
      }
    }
  };
  const stop = onPictureChange(() => visible && load());
  // Charts below the fold or on a hidden wall screen load when they come into view.
  let visible = !("IntersectionObserver" in window);
  const ready = visible
    ? load()
    : new Promise((resolve) => {
        const observer = new IntersectionObserver((entries) => {
          if (entries.some((entry) => entry.isIntersecting)) {
            observer.disconnect();
            visible = true;
            load().then(resolve);
          }
        });
        observer.observe(container);
      });
  const destroy = () => {
    stop();
    for (const slot of charts.values()) {
      if (slot.chart) {
        slot.chart.destroy();
      }
    }
    container.replaceChildren();
  };
  return { load: () => visible && load(), ready, destroy };
}
