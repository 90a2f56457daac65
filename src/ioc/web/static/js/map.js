// The province map component: every element with `data-map` becomes a Leaflet map.
//
// Attributes (all optional except data-map):
//   data-geojson-url   GeoJSON (FeatureCollection) to draw; the view fits its bounds
//   data-tile-url      a tile URL template; falls back to <body data-tile-url>; none = plain background
//   data-tile-attribution  attribution text of the tiles
//   data-layer-label   the layer's name in the legend (default: administrative units)
//   data-legend="off"  no legend
//   data-center="lat,lng" and data-zoom   the view before data arrives or when it is empty
// A child element with `data-map-legend` is moved into the legend (the legend slot).
// Feature properties used: name (or title), code, url (a link in the popup), schematic (true marks
// boundaries that are not official, and the legend says so).
// The element gets data-map-state = loading | ready | empty | error and data-feature-count, and
// dispatches "ioc:map-ready" (detail: {map, layer, L, features}) so that other scripts can add layers.

import * as L from "../vendor/leaflet/leaflet-src.esm.js";
import { strings } from "./shell.js";

const LEAFLET_CSS = new URL("../vendor/leaflet/leaflet.css", import.meta.url).href;
const DEFAULT_CENTER = [11.05, 106.2];
const DEFAULT_ZOOM = 8;
const FIT_PADDING = [16, 16];
const POINT_RADIUS = 6;

let cssReady = null;

function loadLeafletCss() {
  if (cssReady) {
    return cssReady;
  }
  cssReady = new Promise((resolve) => {
    if (document.querySelector(`link[href="${LEAFLET_CSS}"], link[data-leaflet-css]`)) {
      resolve();
      return;
    }
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = LEAFLET_CSS;
    link.dataset.leafletCss = "";
    link.addEventListener("load", () => resolve());
    link.addEventListener("error", () => resolve());
    // Before the shell's stylesheet, so that the shell's map rules win.
    const first = document.head.querySelector('link[rel="stylesheet"]');
    document.head.insertBefore(link, first);
  });
  return cssReady;
}

function cssVar(element, name, fallback) {
  const value = getComputedStyle(element).getPropertyValue(name).trim();
  return value || fallback;
}

function safeUrl(value) {
  try {
    const url = new URL(String(value), window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function popupContent(properties) {
  const box = document.createElement("div");
  const title = document.createElement("span");
  title.className = "popup-title";
  title.textContent = properties.name || properties.title || properties.code || "";
  box.append(title);
  if (properties.code) {
    const code = document.createElement("div");
    code.textContent = `${strings["map.code"] || "Code"}: ${properties.code}`;
    box.append(code);
  }
  const url = properties.url ? safeUrl(properties.url) : null;
  if (url) {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = strings["map.open"] || "Open";
    const line = document.createElement("div");
    line.append(link);
    box.append(line);
  }
  return box;
}

function showMessage(element, text, kind) {
  let node = element.querySelector(":scope > .map-message");
  if (!text) {
    if (node) {
      node.remove();
    }
    return;
  }
  if (!node) {
    node = document.createElement("div");
    node.className = "map-message";
    element.append(node);
  }
  node.dataset.kind = kind;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
  node.textContent = text;
}

function buildLegend(element, layerLabel, schematic, slot) {
  const control = L.control({ position: "topright" });
  control.onAdd = () => {
    const box = L.DomUtil.create("div", "map-legend");
    L.DomEvent.disableClickPropagation(box);
    const title = document.createElement("div");
    title.className = "map-legend-title";
    title.textContent = strings["map.legend"] || "Legend";
    const list = document.createElement("ul");
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "map-swatch";
    swatch.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.textContent = layerLabel;
    item.append(swatch, label);
    list.append(item);
    box.append(title, list);
    if (schematic) {
      const note = document.createElement("div");
      note.className = "map-note";
      note.dataset.mapSchematic = "";
      note.textContent = strings["map.schematic"] || "Schematic boundaries (not official)";
      box.append(note);
    }
    if (slot) {
      slot.hidden = false;
      box.append(slot);
    }
    return box;
  };
  return control;
}

async function fetchGeoJson(url) {
  const response = await fetch(url, {
    headers: { Accept: "application/geo+json, application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  return response.json();
}

function featuresOf(data) {
  if (!data) {
    return [];
  }
  if (data.type === "FeatureCollection") {
    return Array.isArray(data.features) ? data.features : [];
  }
  return data.type === "Feature" ? [data] : [];
}

/** Turn one `data-map` element into a Leaflet map; calling it again returns the same map. */
export function initMap(element) {
  if (!element.iocMapReady) {
    element.iocMapReady = createMap(element);
  }
  return element.iocMapReady;
}

async function createMap(element) {
  element.dataset.mapState = "loading";
  const slot = element.querySelector("[data-map-legend]");
  if (slot) {
    slot.remove();
  }
  await loadLeafletCss();

  const center = (element.dataset.center || "").split(",").map(Number);
  const view = center.length === 2 && center.every(Number.isFinite) ? center : DEFAULT_CENTER;
  const zoom = Number.isFinite(Number(element.dataset.zoom)) && element.dataset.zoom ? Number(element.dataset.zoom) : DEFAULT_ZOOM;
  const tileUrl = element.dataset.tileUrl || (document.body && document.body.dataset.tileUrl) || "";

  const map = L.map(element, { attributionControl: Boolean(tileUrl), zoomSnap: 0.25 }).setView(view, zoom);
  element.iocMap = map;
  if (tileUrl) {
    L.tileLayer(tileUrl, { attribution: element.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
  }
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => map.invalidateSize()).observe(element);
  }

  const line = cssVar(element, "--color-map-line", "#0b4a82");
  const fill = cssVar(element, "--color-map-fill", "#2f7bbf");
  const baseStyle = { color: line, weight: 1.2, opacity: 0.9, fillColor: fill, fillOpacity: 0.16 };
  const hoverStyle = { weight: 3, fillOpacity: 0.38 };

  let layer = null;
  let features = [];
  const url = element.dataset.geojsonUrl;
  if (url) {
    showMessage(element, strings["map.loading"] || "Loading…", "loading");
    try {
      const data = await fetchGeoJson(url);
      features = featuresOf(data);
      layer = L.geoJSON(data, {
        style: () => baseStyle,
        pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { ...baseStyle, radius: POINT_RADIUS, fillOpacity: 0.8 }),
        onEachFeature: (feature, featureLayer) => {
          const properties = feature.properties || {};
          const name = properties.name || properties.title || properties.code;
          if (name) {
            featureLayer.bindTooltip(String(name), { sticky: true, direction: "top" });
          }
          featureLayer.bindPopup(() => popupContent(properties));
          featureLayer.on("mouseover", () => {
            featureLayer.setStyle(hoverStyle);
            if (featureLayer.bringToFront) {
              featureLayer.bringToFront();
            }
          });
          featureLayer.on("mouseout", () => layer.resetStyle(featureLayer));
        },
      }).addTo(map);
      const bounds = layer.getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: FIT_PADDING });
      }
      showMessage(element, features.length ? "" : strings["map.empty"] || "No data", "empty");
      element.dataset.mapState = features.length ? "ready" : "empty";
    } catch (error) {
      showMessage(element, strings["map.error"] || "The map layer could not be loaded.", "error");
      element.dataset.mapState = "error";
      element.dataset.mapError = String(error && error.message ? error.message : error);
    }
  } else {
    element.dataset.mapState = "ready";
  }
  element.dataset.featureCount = String(features.length);

  const schematic = features.some((feature) => feature.properties && feature.properties.schematic);
  element.dataset.schematic = String(schematic);
  if (element.dataset.legend !== "off") {
    const layerLabel = element.dataset.layerLabel || strings["map.units"] || "";
    buildLegend(element, layerLabel, schematic, slot).addTo(map);
  }
  element.dispatchEvent(new CustomEvent("ioc:map-ready", { bubbles: true, detail: { map, layer, L, features } }));
  return map;
}

/** Start every `data-map` element inside `root` (and `root` itself). */
export function initMaps(root = document) {
  const elements = [];
  if (root instanceof Element && root.matches("[data-map]")) {
    elements.push(root);
  }
  elements.push(...root.querySelectorAll("[data-map]"));
  return Promise.all(elements.map((element) => initMap(element)));
}
