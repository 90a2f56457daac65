// Public and staff warning lists: colour warning areas by severity and reload when a warning changes.
import { onLive } from "/static/js/shell.js";

const SEVERITY_COLOURS = { Extreme: "#7e0023", Severe: "#c62828", Moderate: "#e65100", Minor: "#f9a825", Unknown: "#546e7a" };

document.addEventListener("ioc:map-ready", ({ target, detail: { layer } }) => {
  if (target.id !== "warning-map" || !layer) return;
  layer.setStyle((feature) => {
    const colour = SEVERITY_COLOURS[(feature.properties || {}).severity] || SEVERITY_COLOURS.Unknown;
    return { color: colour, fillColor: colour, weight: 2, fillOpacity: 0.3 };
  });
});

// Every warning change reaches the page through the live stream; a reload shows the new state.
let timer = null;
function refreshSoon() {
  clearTimeout(timer);
  timer = setTimeout(() => window.location.reload(), 1500);
}
for (const name of ["warning.published", "warning.expired", "warning.submitted", "warning.rejected", "warning.drafted"]) {
  onLive(name, refreshSoon);
}
