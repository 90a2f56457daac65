// The public map of reports: on every move (debounced) it asks the server for the view's reports, with the
// view's box and zoom, and draws the answer: clusters (grid cells of a zoomed-out view, with their count and
// the colour of their most frequent status; a click zooms in) or points (a popup links to the report's page).
// The server decides which: every matching report is in the answer, as itself or in its cell's count.
//
// The page marks the layer with:
//   data-cr-map-layer="#map-id"      the map element (map.js) to draw on
//   data-cr-layer-url="…geojson?…"   the layer's URL with the page's filters; bbox and zoom are added
//   data-cr-text-*                   texts in the page's language (zoom-in, truncated, open, reports, empty)
// The map element gets data-cr-layer-state = loading | ready | empty | error, data-feature-count,
// data-cr-clusters, data-cr-points, data-cr-count (how many reports the drawn layer stands for) and
// data-cr-bbox and data-cr-zoom (the box and zoom of the view the answer covers).
import { initMap } from "/static/js/map.js";
import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";

// Moves in a row (dragging, wheel zooming) ask once, when the map settles.
const SETTLE_MS = 250;
const FIT_PADDING = [16, 16];
const FIT_MAX_ZOOM = 15;
// The zooms the layer answers (0-19); a map without tiles may zoom further.
const MAX_ZOOM = 19;
const CLUSTER_ZOOM_STEP = 2;
const POINT_RADIUS = 7;
// Dark enough for white digits (contrast of 4.5:1 at least).
const STATUS_COLOURS = {
  accepted: "#1d4ed8",
  assigned: "#6d28d9",
  returned: "#9a3412",
  in_progress: "#92400e",
  reopened: "#b42318",
  resolved: "#15803d",
  closed: "#166534",
  merged: "#4b5563",
};
const OTHER_COLOUR = "#0b4a82";

const holder = document.querySelector("[data-cr-map-layer]");
if (holder) {
  const element = document.querySelector(holder.dataset.crMapLayer);
  if (element) {
    start(element, holder);
  }
}

function colourOf(status) {
  return STATUS_COLOURS[status] || OTHER_COLOUR;
}

function safePath(value) {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : null;
}

function formatCount(count, lang) {
  return new Intl.NumberFormat(lang === "en" ? "en-GB" : "vi-VN").format(count);
}

function clusterIcon(count, colour, lang) {
  // Cells are 32 px apart (8 per 256-px tile): small circles overlap less.
  const size = count < 10 ? 26 : count < 100 ? 32 : count < 1000 ? 40 : 48;
  const node = document.createElement("div");
  node.className = "cr-cluster";
  node.style.setProperty("--cr-cluster-colour", colour);
  node.style.width = `${size}px`;
  node.style.height = `${size}px`;
  node.textContent = count >= 10000 ? `${Math.round(count / 1000)}k` : formatCount(count, lang);
  return L.divIcon({ html: node, className: "cr-cluster-icon", iconSize: [size, size] });
}

function clusterTooltip(properties, labels, texts, lang) {
  const box = document.createElement("div");
  const title = document.createElement("strong");
  title.textContent = `${formatCount(properties.count, lang)} ${texts.reports}`;
  box.append(title);
  const list = document.createElement("ul");
  list.className = "cr-cluster-groups";
  for (const [status, count] of Object.entries(properties.groups || {})) {
    const item = document.createElement("li");
    item.textContent = `${labels[status] || status}: ${formatCount(count, lang)}`;
    list.append(item);
  }
  box.append(list);
  const hint = document.createElement("div");
  hint.className = "muted";
  hint.textContent = texts.zoomIn;
  box.append(hint);
  return box;
}

function pointPopup(properties, texts) {
  const box = document.createElement("div");
  const title = document.createElement("span");
  title.className = "popup-title";
  title.textContent = properties.name || properties.code || "";
  box.append(title);
  if (properties.status_label) {
    const status = document.createElement("div");
    status.textContent = properties.status_label;
    box.append(status);
  }
  const url = safePath(properties.url);
  if (url) {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = texts.open;
    const line = document.createElement("div");
    line.append(link);
    box.append(line);
  }
  return box;
}

function layerUrl(base, params) {
  const url = new URL(base, window.location.href);
  for (const [key, value] of Object.entries(params)) {
    url.searchParams.set(key, value);
  }
  return url.href;
}

function viewBox(map) {
  const bounds = map.getBounds();
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  return [
    clamp(bounds.getWest(), 180),
    clamp(bounds.getSouth(), 85),
    clamp(bounds.getEast(), 180),
    clamp(bounds.getNorth(), 85),
  ]
    .map((value) => value.toFixed(5))
    .join(",");
}

async function start(element, holder) {
  const map = await initMap(element);
  if (!map) {
    return;
  }
  const lang = holder.dataset.crLang || document.documentElement.lang || "vi";
  const texts = {
    zoomIn: holder.dataset.crTextZoomIn || "",
    truncated: holder.dataset.crTextTruncated || "",
    open: holder.dataset.crTextOpen || "",
    reports: holder.dataset.crTextReports || "",
    empty: holder.dataset.crTextEmpty || "",
  };
  const note = document.querySelector("[data-cr-map-note]");
  const layer = L.layerGroup().addTo(map);
  let sequence = 0;
  let timer = null;
  let fitted = false;

  const showNote = (text) => {
    if (note) {
      note.textContent = text;
      note.hidden = !text;
    }
  };

  const draw = (data) => {
    const labels = data.status_labels || {};
    const features = Array.isArray(data.features) ? data.features : [];
    let clusters = 0;
    layer.clearLayers();
    for (const feature of features) {
      const geometry = (feature && feature.geometry) || {};
      const coordinates = geometry.coordinates || [];
      if (geometry.type !== "Point" || coordinates.length < 2) {
        continue;
      }
      const latlng = L.latLng(coordinates[1], coordinates[0]);
      const properties = feature.properties || {};
      if (properties.cluster) {
        clusters += 1;
        const main = Object.keys(properties.groups || {})[0];
        const marker = L.marker(latlng, {
          icon: clusterIcon(properties.count, colourOf(main), lang),
          keyboard: true,
          title: properties.name || "",
        });
        marker.bindTooltip(() => clusterTooltip(properties, labels, texts, lang), { direction: "top" });
        marker.on("click keypress", () => {
          map.setView(latlng, Math.min(map.getZoom() + CLUSTER_ZOOM_STEP, map.getMaxZoom()));
        });
        marker.addTo(layer);
      } else {
        const colour = colourOf(properties.status);
        const marker = L.circleMarker(latlng, {
          radius: POINT_RADIUS,
          color: "#ffffff",
          weight: 1.5,
          fillColor: colour,
          fillOpacity: 0.9,
        });
        if (properties.name) {
          marker.bindTooltip(String(properties.name), { sticky: true, direction: "top" });
        }
        marker.bindPopup(() => pointPopup(properties, texts));
        marker.addTo(layer);
      }
    }
    element.dataset.featureCount = String(features.length);
    element.dataset.crClusters = String(clusters);
    element.dataset.crPoints = String(features.length - clusters);
    element.dataset.crCount = String(Number.isFinite(data.count) ? data.count : features.length);
    // The box the answer covers (the view widened to whole tiles); none for the first answer.
    element.dataset.crBbox = Array.isArray(data.bbox) ? data.bbox.join(",") : "";
    element.dataset.crZoom = Number.isFinite(data.zoom) ? String(data.zoom) : "";
    showNote(data.truncated ? texts.truncated : features.length ? "" : texts.empty);
    return features;
  };

  const load = async () => {
    const mine = ++sequence;
    // The first answer covers every matching report (no box), so that the view can fit them as before.
    const params = { zoom: String(Math.max(0, Math.min(MAX_ZOOM, Math.round(map.getZoom())))) };
    if (fitted) {
      params.bbox = viewBox(map);
    }
    element.dataset.crLayerState = "loading";
    try {
      const response = await fetch(layerUrl(holder.dataset.crLayerUrl, params), {
        headers: { Accept: "application/geo+json, application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      }
      const data = await response.json();
      if (mine !== sequence) {
        return;
      }
      const features = draw(data);
      element.dataset.crLayerState = features.length ? "ready" : "empty";
      element.dataset.mapState = features.length ? "ready" : "empty";
      if (!fitted) {
        fitted = true;
        const bounds = L.featureGroup(layer.getLayers()).getBounds();
        if (bounds.isValid()) {
          // Fitting moves the map, which asks again for the view it ends on.
          map.fitBounds(bounds, { padding: FIT_PADDING, maxZoom: FIT_MAX_ZOOM });
        }
      }
    } catch {
      if (mine === sequence) {
        element.dataset.crLayerState = "error";
      }
    }
  };

  map.on("moveend", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, SETTLE_MS);
  });
  // The live refresh (live.js) asks the layer again when a report changes.
  element.crRefresh = load;
  await load();
}
