// Warning form: filter the commune checklist and draw target polygons on the map (stored as GeoJSON).
const form = document.querySelector("[data-warning-form]");

if (form) {
  const filter = form.querySelector("[data-unit-filter]");
  const units = [...form.querySelectorAll("[data-unit-name]")];
  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").toLowerCase();
  if (filter) {
    filter.addEventListener("input", () => {
      const wanted = fold(filter.value.trim());
      for (const unit of units) unit.hidden = wanted !== "" && !fold(unit.dataset.unitName).includes(wanted);
    });
  }

  const output = form.querySelector("[data-polygons]");
  const tools = form.querySelector("[data-draw-tools]");
  const start = form.querySelector("[data-draw-start]");
  const finish = form.querySelector("[data-draw-finish]");
  const clear = form.querySelector("[data-draw-clear]");

  const readPolygons = () => {
    try {
      const value = JSON.parse(output.value || "[]");
      return Array.isArray(value) ? value : [];
    } catch {
      return [];
    }
  };

  document.addEventListener("ioc:map-ready", ({ target, detail: { map, L } }) => {
    if (target.id !== "warning-draw-map") return;
    const drawn = L.layerGroup().addTo(map);
    let points = [];
    let sketch = null;
    let drawing = false;

    const show = () => {
      drawn.clearLayers();
      for (const polygon of readPolygons()) {
        const rings = polygon.geometry && polygon.geometry.type === "Polygon" ? polygon.geometry.coordinates : [];
        if (rings.length) {
          L.polygon(rings[0].map(([lon, lat]) => [lat, lon]), { color: "#c62828", weight: 2 }).bindTooltip(polygon.name).addTo(drawn);
        }
      }
    };
    show();
    output.addEventListener("change", show);

    start.addEventListener("click", () => {
      drawing = true;
      points = [];
      start.disabled = true;
      finish.disabled = false;
      target.classList.add("wn-drawing");
    });
    // Unit popups would open under every vertex and catch the next clicks.
    map.on("popupopen", () => {
      if (drawing) map.closePopup();
    });
    // "preclick" reaches the map even when a unit's popup handler stops the click itself.
    map.on("preclick", (event) => {
      if (!drawing) return;
      points.push([event.latlng.lng, event.latlng.lat]);
      if (sketch) sketch.remove();
      sketch = L.polyline(points.map(([lon, lat]) => [lat, lon]), { color: "#c62828", dashArray: "4 4" }).addTo(map);
    });
    finish.addEventListener("click", () => {
      drawing = false;
      start.disabled = false;
      finish.disabled = true;
      target.classList.remove("wn-drawing");
      if (sketch) sketch.remove();
      sketch = null;
      if (points.length >= 3) {
        const polygons = readPolygons();
        const ring = [...points, points[0]].map(([lon, lat]) => [Number(lon.toFixed(6)), Number(lat.toFixed(6))]);
        polygons.push({ name: `${tools.dataset.drawName} ${polygons.length + 1}`, name_en: "", geometry: { type: "Polygon", coordinates: [ring] } });
        output.value = JSON.stringify(polygons);
        show();
      }
      points = [];
    });
    clear.addEventListener("click", () => {
      output.value = "";
      show();
    });
  });
}
