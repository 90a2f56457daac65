// The map picker: inside an element with `data-map-picker`, a `data-map` map and two inputs
// (`data-lat`, `data-lon`). Clicking the map puts the point there and fills the inputs; typing
// coordinates moves the point. The inputs stay the accessible way to enter a place.

import * as L from "../../vendor/leaflet/leaflet-src.esm.js";
import { initMap } from "../map.js";

const DIGITS = 6;

/** Connect one picker's map and inputs. */
export async function enhancePicker(picker) {
  if (picker.dataset.pickerReady) {
    return;
  }
  picker.dataset.pickerReady = "true";
  const element = picker.querySelector("[data-map]");
  const lat = picker.querySelector("[data-lat]");
  const lon = picker.querySelector("[data-lon]");
  if (!element || !lat || !lon) {
    return;
  }
  const map = await initMap(element);
  let marker = null;
  const put = (point, pan) => {
    if (!marker) {
      marker = L.circleMarker(point, { radius: 9, weight: 3, color: "#c8102e", fillOpacity: 0.6 }).addTo(map);
    } else {
      marker.setLatLng(point);
    }
    if (pan) {
      map.panTo(point);
    }
  };
  map.on("click", (event) => {
    lat.value = event.latlng.lat.toFixed(DIGITS);
    lon.value = event.latlng.lng.toFixed(DIGITS);
    put(event.latlng, false);
    lat.dispatchEvent(new Event("change", { bubbles: true }));
    picker.dispatchEvent(new CustomEvent("ioc:point-picked", { bubbles: true, detail: { lat: event.latlng.lat, lon: event.latlng.lng } }));
  });
  const fromInputs = () => {
    const point = [Number(lat.value), Number(lon.value)];
    if (lat.value && lon.value && point.every(Number.isFinite) && Math.abs(point[0]) <= 90 && Math.abs(point[1]) <= 180) {
      put(point, true);
    }
  };
  lat.addEventListener("change", fromInputs);
  lon.addEventListener("change", fromInputs);
  fromInputs();
}

/** Enhance every `[data-map-picker]` inside `root`. */
export function enhancePickers(root = document) {
  root.querySelectorAll("[data-map-picker]").forEach((picker) => enhancePicker(picker));
}
