// Colour the station points of the environment maps by their current index (the layer's `colour` property).

function colourLayer(event) {
  const { layer } = event.detail || {};
  if (!layer || !layer.eachLayer) {
    return;
  }
  layer.eachLayer((item) => {
    const colour = item.feature && item.feature.properties && item.feature.properties.colour;
    if (colour && item.setStyle) {
      item.setStyle({ fillColor: colour, color: "#333333", weight: 1, fillOpacity: 0.9, radius: 9 });
    }
  });
  // Keep the colours when hovering ends (the map resets to its base style otherwise).
  layer.resetStyle = (item) => {
    const colour = item.feature && item.feature.properties && item.feature.properties.colour;
    item.setStyle({ fillColor: colour, color: "#333333", weight: 1, fillOpacity: 0.9 });
  };
}

document.addEventListener("ioc:map-ready", colourLayer);
