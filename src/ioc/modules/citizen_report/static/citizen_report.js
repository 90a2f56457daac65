// The report forms (public and hotline console): category questions, location by GPS, map pin or photo EXIF,
// similar reports nearby before saving; no inline scripts.

const form = document.querySelector("[data-cr-form]");

function setup(root) {
  const category = root.querySelector("[data-cr-category]");
  const groups = [...root.querySelectorAll("[data-cr-questions]")];
  const lat = root.querySelector("[data-cr-lat]");
  const lon = root.querySelector("[data-cr-lon]");
  const status = root.querySelector("[data-cr-locate-status]");
  const locateButton = root.querySelector("[data-cr-locate]");
  const photos = root.querySelector("[data-cr-photos]");
  const suggestion = root.querySelector("[data-cr-suggestion]");
  const usePhotoLocation = root.querySelector("[data-cr-use-photo-location]");
  const messages = root.dataset;
  let map = null;
  let leaflet = null;
  let pin = null;
  let photoPoint = null;

  // Only the chosen category's questions are shown and sent (disabled fieldsets are not submitted).
  function showQuestions() {
    for (const group of groups) {
      const active = group.dataset.crQuestions === category.value;
      group.hidden = !active;
      group.disabled = !active;
    }
  }
  category.addEventListener("change", () => {
    showQuestions();
    findNearby();
  });
  showQuestions();

  // Similar open reports within 250 m of the same category, so that a duplicate is noticed before it is saved.
  const nearby = root.querySelector("[data-cr-nearby]");
  const nearbyList = root.querySelector("[data-cr-nearby-list]");
  let nearbyRequest = 0;
  async function findNearby() {
    if (!nearby || !category.value || !lat.value || !lon.value) return;
    const request = ++nearbyRequest;
    const query = new URLSearchParams({ category: category.value, lat: lat.value, lon: lon.value });
    try {
      const response = await fetch(`/api/v1/citizen-reports/nearby?${query}`, { headers: { Accept: "application/json" } });
      if (!response.ok || request !== nearbyRequest) return;
      const found = await response.json();
      nearbyList.replaceChildren(
        ...found.map((candidate) => {
          const item = document.createElement("li");
          const link = document.createElement("a");
          link.href = candidate.id ? `/citizen-reports/${candidate.id}` : `/phan-anh/${candidate.tracking_code}`;
          link.textContent = candidate.tracking_code;
          item.append(link, ` (${Math.round(candidate.distance_m)} m)`);
          return item;
        }),
      );
      nearby.hidden = found.length === 0;
    } catch {
      // Suggestions are a help, not a condition: the report can be sent without them.
    }
  }

  function place(latitude, longitude, pan) {
    lat.value = latitude.toFixed(6);
    lon.value = longitude.toFixed(6);
    findNearby();
    if (map && leaflet) {
      const point = [latitude, longitude];
      if (pin) pin.setLatLng(point);
      else pin = leaflet.circleMarker(point, { radius: 9, weight: 3, color: "#b42318", fillOpacity: 0.6 }).addTo(map);
      if (pan) map.setView(point, Math.max(map.getZoom(), 14));
    }
  }

  // The shell starts the map; it may be ready before this script runs, so ask for it rather than wait for
  // its "ioc:map-ready" event (initMap returns the same map when called again).
  const mapElement = root.querySelector("#cr-map");
  if (mapElement) {
    Promise.all([import("/static/js/map.js"), import("/static/vendor/leaflet/leaflet-src.esm.js")]).then(
      async ([{ initMap }, L]) => {
        map = await initMap(mapElement);
        leaflet = L;
        // "preclick": commune shapes open their popup on "click" and stop it before it reaches the map.
        map.on("preclick", (event) => {
          place(event.latlng.lat, event.latlng.lng, false);
          status.textContent = messages.msgPinned || "";
        });
        if (lat.value && lon.value) place(Number(lat.value), Number(lon.value), true);
      },
    );
  }

  for (const input of [lat, lon]) {
    input.addEventListener("change", () => {
      if (lat.value && lon.value) place(Number(lat.value), Number(lon.value), true);
    });
  }

  locateButton?.addEventListener("click", () => {
    if (!("geolocation" in navigator)) {
      status.textContent = messages.msgUnsupported || "";
      return;
    }
    status.textContent = messages.msgLocating || "";
    navigator.geolocation.getCurrentPosition(
      (position) => {
        place(position.coords.latitude, position.coords.longitude, true);
        status.textContent = messages.msgLocated || "";
      },
      () => {
        status.textContent = messages.msgDenied || "";
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });

  // A photo taken on the spot often carries its GPS position: offer it before it is stripped on the server.
  photos?.addEventListener("change", async () => {
    suggestion.hidden = true;
    photoPoint = null;
    const file = photos.files && photos.files[0];
    if (!file || (lat.value && lon.value)) return;
    const body = new FormData();
    body.append("photo", file);
    try {
      const response = await fetch("/api/v1/citizen-reports/photo-location", { method: "POST", body });
      if (!response.ok) return;
      photoPoint = await response.json();
      suggestion.hidden = !photoPoint;
    } catch {
      // No suggestion when offline; the reporter can still pick the place.
    }
  });

  usePhotoLocation?.addEventListener("click", () => {
    if (!photoPoint) return;
    place(photoPoint.lat, photoPoint.lon, true);
    suggestion.hidden = true;
  });
}

if (form) setup(form);
