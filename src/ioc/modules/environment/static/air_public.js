// The public air-quality page: station points coloured by index, and each station's badge updated live
// from the public event stream when its index changes (environment.index_computed).

import { lang, onLive } from "/static/js/shell.js";
import { formatTime } from "/static/js/components/format.js";
import "./stations.js";

const configNode = document.getElementById("env-air-config");
const categories = configNode ? JSON.parse(configNode.textContent) : {};

function textColour(hex) {
  const value = (hex || "#999999").replace("#", "");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(value.slice(i, i + 2), 16) / 255);
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.5 ? "#000000" : "#ffffff";
}

function paint(badge, payload, category) {
  badge.textContent = String(payload.value);
  badge.classList.remove("env-index-none");
  badge.style.backgroundColor = category.hex || "";
  badge.style.color = textColour(category.hex);
}

onLive("environment.index_computed", (message) => {
  const payload = message && message.payload;
  if (!payload) {
    return;
  }
  const item = document.querySelector(`#env-air [data-station="${CSS.escape(payload.station_code)}"]`);
  if (!item) {
    return;
  }
  const category = (categories[payload.standard] || {})[payload.category] || {};
  // The daily VN_AQI and the US AQI have their own small badges; the big one is the hourly VN_AQI.
  const slot = payload.period === "day" ? "[data-air-day]" : payload.standard === "US_AQI" ? "[data-air-us]" : null;
  if (slot) {
    const small = item.querySelector(`${slot} [data-index-badge]`);
    if (small && (payload.standard === "VN_AQI" || slot === "[data-air-us]")) {
      paint(small, payload, category);
    }
    return;
  }
  if (payload.standard !== "VN_AQI") {
    return;
  }
  const badge = item.querySelector(":scope > [data-index-badge]");
  if (badge) {
    badge.textContent = String(payload.value);
    badge.classList.remove("env-index-none");
    badge.style.backgroundColor = category.hex || "";
    badge.style.color = textColour(category.hex);
  }
  const detail = item.querySelector("[data-air-detail]");
  if (detail) {
    const name = lang === "en" ? category.en : category.vi;
    detail.textContent = `${name || payload.category} · ${formatTime(payload.computed_for)}`;
  }
  item.dataset.updated = String(Date.now());
});
