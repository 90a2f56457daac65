// Live refresh of the staff inbox and of the public map: when a report changes (an event on the page's
// live stream), the page fetches itself again and swaps the changed parts in, keeping filters and paging.
//
// The page marks what to refresh:
//   data-cr-live="name,name,…"      the events to follow (on the element holding the other attributes)
//   data-cr-live-parts="#id,#id"     parts replaced by their new version
//   data-cr-live-map="#map-id"       a map (map.js) whose GeoJSON layer is fetched again (or its crRefresh())
//   data-cr-live-updated="text"      announced to screen readers after a refresh
//   data-cr-live-pending="text"      shown instead of refreshing while the user is choosing rows (inbox)
import { onLive } from "/static/js/shell.js";

// Several changes in a row (bulk assignment, the demo) give one refresh.
const SETTLE_MS = 1200;

const root = document.querySelector("[data-cr-live]");

function announce(text) {
  let region = document.querySelector("[data-cr-live-status]");
  if (!region) {
    region = document.createElement("p");
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.dataset.crLiveStatus = "";
    root.append(region);
  }
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function busy(parts) {
  // Never pull rows away while someone is ticking them for a bulk assignment or typing in the part.
  return parts.some((part) => {
    const element = document.querySelector(part);
    return element && (element.querySelector("input[type=checkbox]:checked") || element.contains(document.activeElement));
  });
}

function showPending(text) {
  if (!text || document.querySelector("[data-cr-live-reload]")) {
    return;
  }
  const notice = document.createElement("p");
  notice.className = "alert alert-info";
  notice.setAttribute("role", "status");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn";
  button.dataset.crLiveReload = "";
  button.textContent = text;
  button.addEventListener("click", () => window.location.reload());
  notice.append(button);
  root.prepend(notice);
}

async function refreshParts(parts) {
  const response = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) {
    return false;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const part of parts) {
    const current = document.querySelector(part);
    const fresh = page.querySelector(part);
    if (current && fresh) {
      current.replaceWith(document.importNode(fresh, true));
    }
  }
  return true;
}

const layers = new Map();
document.addEventListener("ioc:map-ready", ({ target, detail }) => {
  if (target instanceof Element && target.id) {
    layers.set(`#${target.id}`, detail.layer);
  }
});

async function refreshMap(selector) {
  const element = document.querySelector(selector);
  // A map whose layer follows the view (public_map.js) fetches it again itself, for the view it shows.
  if (element && typeof element.crRefresh === "function") {
    await element.crRefresh();
    return;
  }
  const layer = layers.get(selector);
  if (!element || !layer || !element.dataset.geojsonUrl) {
    return;
  }
  const response = await fetch(element.dataset.geojsonUrl, { headers: { Accept: "application/geo+json, application/json" } });
  if (!response.ok) {
    return;
  }
  const data = await response.json();
  layer.clearLayers();
  layer.addData(data);
  element.dataset.featureCount = String((data.features || []).length);
}

if (root) {
  const names = (root.dataset.crLive || "").split(",").filter(Boolean);
  const parts = (root.dataset.crLiveParts || "").split(",").filter(Boolean);
  const mapSelector = root.dataset.crLiveMap || "";
  let timer = null;

  const refresh = async () => {
    timer = null;
    if (busy(parts)) {
      showPending(root.dataset.crLivePending);
      return;
    }
    try {
      const refreshed = await refreshParts(parts);
      if (mapSelector) {
        await refreshMap(mapSelector);
      }
      if (refreshed) {
        root.dataset.crLiveRefreshed = String(Number(root.dataset.crLiveRefreshed || "0") + 1);
        announce(root.dataset.crLiveUpdated || "");
      }
    } catch {
      // Offline for a moment: the next event refreshes again.
    }
  };

  for (const name of names) {
    onLive(name, () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, SETTLE_MS);
    });
  }
}
