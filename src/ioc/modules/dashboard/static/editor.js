// The wall layout editor: screens and cells placed with selects (kind, tile or chart, width, height) and
// moved with buttons, so that it works with a keyboard; saved as JSON through the API.

const text = JSON.parse(document.getElementById("dashboard-strings").textContent);
const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const root = document.querySelector("[data-editor]");
const status = document.querySelector("[data-editor-status]");
const rotate = document.querySelector("[data-editor-rotate]");
const KINDS = ["kpis", "kpi", "map", "chart", "feed"];
const layout = structuredClone(config.layout);
let uid = 0;

function control(tag, label, attrs = {}) {
  const wrap = document.createElement("label");
  wrap.className = "dash-editor-field";
  const caption = document.createElement("span");
  caption.textContent = label;
  const input = document.createElement(tag);
  Object.assign(input, attrs);
  wrap.append(caption, input);
  return [wrap, input];
}

function options(select, items, selected) {
  select.replaceChildren(
    ...items.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      option.selected = value === selected;
      return option;
    }),
  );
}

function keysFor(kind) {
  if (kind === "kpi") {
    return config.tiles.map((tile) => [tile.key, tile.label]);
  }
  if (kind === "chart") {
    return config.charts.map((chart) => [chart.key, chart.label]);
  }
  return [["", text["editor.none"]]];
}

function button(label, onClick, className = "btn btn-small") {
  const node = document.createElement("button");
  node.type = "button";
  node.className = className;
  node.textContent = label;
  node.addEventListener("click", onClick);
  return node;
}

function move(list, index, delta) {
  const target = index + delta;
  if (target < 0 || target >= list.length) {
    return;
  }
  [list[index], list[target]] = [list[target], list[index]];
  render();
}

function cellRow(screen, cell, index) {
  const row = document.createElement("li");
  row.className = "dash-editor-cell";
  row.dataset.cell = String(index);
  const [kindWrap, kind] = control("select", text["editor.kind"], { id: `e-kind-${++uid}` });
  options(kind, KINDS.map((k) => [k, text[`cell.${k}`]]), cell.kind);
  kind.dataset.field = "kind";
  const [keyWrap, key] = control("select", text["editor.key"], { id: `e-key-${uid}` });
  key.dataset.field = "key";
  const keys = keysFor(cell.kind);
  if (!keys.some(([value]) => value === cell.key)) {
    cell.key = keys.length ? keys[0][0] : "";
  }
  options(key, keys, cell.key);
  key.disabled = !(cell.kind === "kpi" || cell.kind === "chart");
  const [spanWrap, span] = control("select", text["editor.span"], { id: `e-span-${uid}` });
  span.dataset.field = "span";
  options(span, [1, 2, 3, 4].map((n) => [String(n), String(n)]), String(cell.span || 1));
  const [rowsWrap, rows] = control("select", text["editor.rows"], { id: `e-rows-${uid}` });
  rows.dataset.field = "rows";
  options(rows, [1, 2, 3].map((n) => [String(n), String(n)]), String(cell.rows || 1));
  kind.addEventListener("change", () => {
    cell.kind = kind.value;
    cell.key = "";
    render();
  });
  key.addEventListener("change", () => {
    cell.key = key.value;
  });
  span.addEventListener("change", () => {
    cell.span = Number(span.value);
  });
  rows.addEventListener("change", () => {
    cell.rows = Number(rows.value);
  });
  const actions = document.createElement("div");
  actions.className = "dash-editor-actions";
  actions.append(
    button(`↑ ${text["editor.up"]}`, () => move(screen.cells, index, -1)),
    button(`↓ ${text["editor.down"]}`, () => move(screen.cells, index, 1)),
    button(`✕ ${text["editor.remove"]}`, () => {
      if (screen.cells.length > 1) {
        screen.cells.splice(index, 1);
        render();
      }
    }),
  );
  row.append(kindWrap, keyWrap, spanWrap, rowsWrap, actions);
  return row;
}

function screenBox(screen, index) {
  const box = document.createElement("fieldset");
  box.className = "dash-editor-screen";
  box.dataset.screen = String(index);
  const legend = document.createElement("legend");
  legend.textContent = `${text.screen} ${index + 1}`;
  const head = document.createElement("div");
  head.className = "dash-editor-head";
  const [titleWrap, title] = control("input", text["editor.title"], { id: `e-title-${++uid}`, value: screen.title || "", maxLength: 80 });
  title.addEventListener("input", () => {
    screen.title = title.value;
  });
  const [columnsWrap, columns] = control("select", text["editor.columns"], { id: `e-cols-${uid}` });
  options(columns, [1, 2, 3, 4].map((n) => [String(n), String(n)]), String(screen.columns));
  columns.addEventListener("change", () => {
    screen.columns = Number(columns.value);
    render();
  });
  head.append(titleWrap, columnsWrap);
  const list = document.createElement("ol");
  list.className = "dash-editor-cells";
  screen.cells.forEach((cell, cellIndex) => list.append(cellRow(screen, cell, cellIndex)));
  const preview = document.createElement("div");
  preview.className = "dash-editor-preview";
  preview.setAttribute("aria-hidden", "true");
  preview.style.gridTemplateColumns = `repeat(${screen.columns}, 1fr)`;
  for (const cell of screen.cells) {
    const block = document.createElement("span");
    block.className = `dash-editor-block is-${cell.kind}`;
    block.style.gridColumn = `span ${Math.min(cell.span || 1, screen.columns)}`;
    block.style.gridRow = `span ${cell.rows || 1}`;
    block.textContent = text[`cell.${cell.kind}`];
    preview.append(block);
  }
  const actions = document.createElement("div");
  actions.className = "dash-editor-actions";
  actions.append(
    button(`+ ${text["editor.add_cell"]}`, () => {
      if (screen.cells.length < 12) {
        screen.cells.push({ kind: "kpis", key: "", span: screen.columns, rows: 1 });
        render();
      }
    }),
    button(`↑ ${text["editor.up"]}`, () => move(layout.screens, index, -1)),
    button(`↓ ${text["editor.down"]}`, () => move(layout.screens, index, 1)),
    button(`✕ ${text["editor.remove_screen"]}`, () => {
      if (layout.screens.length > 1) {
        layout.screens.splice(index, 1);
        render();
      }
    }),
  );
  box.append(legend, head, list, preview, actions);
  return box;
}

function render() {
  root.replaceChildren(...layout.screens.map(screenBox));
}

rotate.value = String(layout.rotate_seconds);
rotate.setAttribute("aria-label", rotate.closest("label").textContent.trim());
rotate.addEventListener("change", () => {
  layout.rotate_seconds = Number(rotate.value) || 0;
});

document.querySelector("[data-editor-add-screen]").addEventListener("click", () => {
  if (layout.screens.length < 8) {
    layout.screens.push({ title: "", columns: 2, cells: [{ kind: "kpis", key: "", span: 2, rows: 1 }] });
    render();
  }
});

document.querySelector("[data-editor-save]").addEventListener("click", async () => {
  status.textContent = "";
  status.dataset.state = "saving";
  const url = new URL(config.save, window.location.origin);
  if (config.role) {
    url.searchParams.set("role", config.role);
  }
  const body = {
    rotate_seconds: layout.rotate_seconds,
    screens: layout.screens.map((screen) => ({
      title: screen.title || "",
      columns: screen.columns,
      cells: screen.cells.map((cell) => ({ kind: cell.kind, key: cell.key || "", span: Math.min(cell.span || 1, screen.columns), rows: cell.rows || 1 })),
    })),
  };
  try {
    const response = await fetch(url.pathname + url.search, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = Array.isArray(answer.detail) ? answer.detail.map((d) => d.msg).join("; ") : "";
      throw new Error(answer.message || detail || `HTTP ${response.status}`);
    }
    status.textContent = text["editor.saved"];
    status.dataset.state = "saved";
  } catch (error) {
    status.textContent = `${text["editor.failed"]} ${error.message}`;
    status.dataset.state = "error";
  }
});

render();
