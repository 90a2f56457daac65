// Incident pages: live refresh of the workspace, list and task inbox from the shared SSE stream, and the
// incident markers on the maps. No inline scripts (CSP); everything is driven by data- attributes.
import { onLive, lang, startComponents } from "/static/js/shell.js";

const EVENTS = [
  "incident.opened",
  "incident.updated",
  "incident.closed",
  "incident.task_assigned",
  "incident.task_updated",
  "incident.task_reassigned",
  "incident.task_overdue",
  "incident.task_escalated",
  "incident.log_appended",
  "incident.checklist_ticked",
];
const REFRESH_DELAY_MS = 250;
const POINT_ZOOM = 13;
const MAX_FIT_ZOOM = 13;

const workspace = document.querySelector("[data-incident-id]");
const incidentId = workspace ? Number(workspace.dataset.incidentId) : null;
const liveNote = document.getElementById("incident-live-note");

function severityColor(element, severity) {
  const name = severity === "critical" ? "--color-danger" : severity === "major" ? "--color-warning" : "--color-info";
  return getComputedStyle(element).getPropertyValue(name).trim() || "#b42318";
}

// A region with text being typed into, or an open form (a task being reassigned), is left alone: replacing
// it would lose what the user wrote or chose.
function busy(region) {
  if (region.contains(document.activeElement) && document.activeElement !== document.body) return true;
  if (region.querySelector("details[open] form")) return true;
  return [...region.querySelectorAll("textarea, input[type=text], input[type=number]")].some((el) => el.value);
}

let timer = null;
async function refresh() {
  timer = null;
  const regions = [...document.querySelectorAll("[data-live-region][id], [data-live-refresh][id]")];
  if (!regions.length) return;
  let response;
  try {
    response = await fetch(window.location.pathname + window.location.search, { headers: { Accept: "text/html" } });
  } catch {
    return;
  }
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  let changed = 0;
  for (const region of regions) {
    const replacement = fresh.getElementById(region.id);
    if (!replacement || busy(region) || replacement.innerHTML === region.innerHTML) continue;
    region.innerHTML = replacement.innerHTML;
    // Fresh markup has plain inputs: start its components (the reassign forms' user pickers) again.
    startComponents(region);
    changed += 1;
  }
  if (changed && liveNote) {
    liveNote.textContent = lang === "en" ? "Updated" : "Đã cập nhật";
  }
  document.dispatchEvent(new CustomEvent("incident:refreshed", { detail: { changed } }));
}

function schedule() {
  if (timer === null) timer = setTimeout(refresh, REFRESH_DELAY_MS);
}

if (document.querySelector("[data-live-region], [data-live-refresh]")) {
  for (const name of EVENTS) {
    onLive(name, (data) => {
      const payload = (data && data.payload) || {};
      if (incidentId !== null && Number(payload.incident_id) !== incidentId) return;
      schedule();
    });
  }
}

function addPopup(L, marker, label, url) {
  marker.bindTooltip(label, { sticky: true, direction: "top" });
  if (url && url.startsWith("/")) {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = label;
    marker.bindPopup(link);
  }
}

document.addEventListener("ioc:map-ready", async ({ target, detail: { map, L } }) => {
  const single = target.closest("[data-incident-point]");
  if (single) {
    const [lat, lon] = single.dataset.incidentPoint.split(",").map(Number);
    const color = severityColor(target, single.dataset.incidentSeverity);
    const marker = L.circleMarker([lat, lon], { radius: 10, color, fillColor: color, fillOpacity: 0.85, weight: 2 });
    addPopup(L, marker, single.dataset.incidentLabel, "");
    marker.addTo(map);
    map.setView([lat, lon], POINT_ZOOM);
    target.dataset.incidentMarkers = "1";
    return;
  }
  const many = target.closest("[data-incident-points]");
  if (!many) return;
  try {
    const response = await fetch(many.dataset.incidentPoints, { headers: { Accept: "application/geo+json, application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    const layer = L.geoJSON(data, {
      pointToLayer: (feature, latlng) => {
        const color = severityColor(target, feature.properties.severity);
        return L.circleMarker(latlng, { radius: 9, color, fillColor: color, fillOpacity: 0.85, weight: 2 });
      },
      onEachFeature: (feature, marker) => addPopup(L, marker, String(feature.properties.name || ""), feature.properties.url),
    }).addTo(map);
    target.dataset.incidentMarkers = String((data.features || []).length);
    const bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: MAX_FIT_ZOOM });
  } catch {
    // The markers are an extra on top of the commune map; the list beside it holds the same incidents.
  }
});
