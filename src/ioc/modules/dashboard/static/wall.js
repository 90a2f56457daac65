// The video wall: builds the screens of the saved layout, rotates between them, and keeps every piece
// live. Screens are built once; rotation only shows and hides them, so nothing accumulates over days.

import { config, mountCharts, mountFeed, mountKpis, mountMap, text, track } from "./picture.js";

const root = document.querySelector("[data-wall-screens]");
const dots = document.querySelector("[data-wall-dots]");
const screenTitle = document.querySelector("[data-wall-screen-title]");
const layout = config.layout || { screens: [], rotate_seconds: 0 };
const screens = [];
let current = -1;
let rotation = 0;
let paused = false;

const AUTO_HEIGHT = new Set(["kpis", "kpi"]);

// Place the cells as CSS grid auto-placement would, to know which rows hold only tiles: those rows take
// the tiles' own height, the others share what is left of the screen.
function place(screen) {
  const taken = [];
  const isFree = (row, col, width, height) => {
    for (let r = row; r < row + height; r += 1) {
      for (let c = col; c < col + width; c += 1) {
        if (taken[r] && taken[r][c]) {
          return false;
        }
      }
    }
    return true;
  };
  let row = 0;
  let col = 0;
  const placed = screen.cells.map((cell) => {
    const width = Math.min(cell.span || 1, screen.columns);
    const height = cell.rows || 1;
    for (;;) {
      if (col + width > screen.columns) {
        row += 1;
        col = 0;
      } else if (isFree(row, col, width, height)) {
        break;
      } else {
        col += 1;
      }
    }
    for (let r = row; r < row + height; r += 1) {
      taken[r] = taken[r] || [];
      for (let c = col; c < col + width; c += 1) {
        taken[r][c] = cell.kind;
      }
    }
    const spot = { row, col, width, height };
    col += width;
    return spot;
  });
  const rows = taken.map((kinds) => (kinds.every((kind) => !kind || AUTO_HEIGHT.has(kind)) ? "auto" : "minmax(0, 1fr)"));
  return { placed, rows };
}

function cellElement(cell, screenIndex, cellIndex, spot) {
  const box = document.createElement("section");
  box.className = `wall-cell wall-cell-${cell.kind}`;
  box.dataset.kind = cell.kind;
  box.style.gridColumn = `${spot.col + 1} / span ${spot.width}`;
  box.style.gridRow = `${spot.row + 1} / span ${spot.height}`;
  const heading = document.createElement("h2");
  heading.className = "wall-cell-title";
  box.append(heading);
  if (cell.kind === "kpis" || cell.kind === "kpi") {
    heading.textContent = text[`cell.${cell.kind}`];
    heading.classList.add("visually-hidden");
    const tiles = document.createElement("div");
    tiles.className = "dash-kpis";
    box.append(tiles);
    mountKpis(tiles, { keys: cell.kind === "kpi" ? [cell.key] : null });
  } else if (cell.kind === "map") {
    heading.textContent = text["cell.map"];
    heading.classList.add("visually-hidden");
    const wrap = document.createElement("div");
    wrap.className = "dash-map-wrap is-wall";
    const map = document.createElement("div");
    map.className = "map dash-map";
    map.id = `wall-map-${screenIndex}-${cellIndex}`;
    map.dataset.map = "";
    map.dataset.geojsonUrl = config.boundaries || "";
    map.dataset.legend = "off";
    map.setAttribute("role", "region");
    map.setAttribute("aria-label", text["cell.map"]);
    const switcher = document.createElement("fieldset");
    switcher.className = "dash-layers";
    const legend = document.createElement("legend");
    legend.textContent = text["cell.map"];
    switcher.append(legend);
    wrap.append(map, switcher);
    box.append(wrap);
    mountMap(map, switcher);
  } else if (cell.kind === "feed") {
    heading.textContent = text["cell.feed"];
    const list = document.createElement("ol");
    list.className = "dash-feed";
    list.setAttribute("aria-live", "polite");
    box.append(list);
    mountFeed(list);
  } else if (cell.kind === "chart") {
    heading.classList.add("visually-hidden");
    heading.textContent = text["cell.chart"];
    const holder = document.createElement("div");
    holder.className = "dash-charts is-single";
    box.append(holder);
    const chart = mountCharts(holder, () => cell.range || "7d", [cell.key]);
    if (screenIndex === 0) {
      track("chart", chart.ready);
    }
  }
  return box;
}

function show(index) {
  if (!screens.length) {
    return;
  }
  current = (index + screens.length) % screens.length;
  screens.forEach((screen, i) => {
    screen.hidden = i !== current;
  });
  const title = layout.screens[current].title;
  if (screenTitle) {
    screenTitle.textContent = title || `${text.screen || ""} ${current + 1}/${screens.length}`;
  }
  [...dots.children].forEach((dot, i) => dot.setAttribute("aria-current", String(i === current)));
  root.dataset.currentScreen = String(current);
  // Maps drawn while hidden have no size: let them measure again.
  window.dispatchEvent(new Event("resize"));
}

function schedule() {
  window.clearInterval(rotation);
  rotation = 0;
  if (layout.rotate_seconds > 0 && screens.length > 1 && !paused) {
    rotation = window.setInterval(() => show(current + 1), layout.rotate_seconds * 1000);
  }
}

layout.screens.forEach((screen, screenIndex) => {
  const element = document.createElement("div");
  element.className = "wall-screen";
  element.dataset.screen = String(screenIndex);
  element.style.gridTemplateColumns = `repeat(${screen.columns}, minmax(0, 1fr))`;
  const { placed, rows } = place(screen);
  element.style.gridTemplateRows = rows.join(" ");
  element.hidden = true;
  screen.cells.forEach((cell, cellIndex) => element.append(cellElement(cell, screenIndex, cellIndex, placed[cellIndex])));
  root.append(element);
  screens.push(element);
  const dot = document.createElement("button");
  dot.type = "button";
  dot.className = "wall-dot";
  dot.textContent = String(screenIndex + 1);
  dot.setAttribute("aria-label", `${text.screen || ""} ${screenIndex + 1}`);
  dot.addEventListener("click", () => {
    show(screenIndex);
    schedule();
  });
  dots.append(dot);
});

// Keyboard: arrows change screen, space pauses the rotation.
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLElement && event.target.closest("input, select, textarea")) {
    return;
  }
  if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
    show(current + (event.key === "ArrowRight" ? 1 : -1));
    schedule();
  } else if (event.key === " ") {
    event.preventDefault();
    paused = !paused;
    root.dataset.paused = String(paused);
    schedule();
  }
});

show(0);
schedule();
