// Data tables: any <table data-table-enhance> gets a filter box, sortable headers, paging and a CSV
// export, all in the browser (for tables the server already rendered in full; long lists page on the
// server with macros/tables.html instead).
//
// Attributes: data-page-size (default 25), data-export-name (file name, default "bang"), and on a <th>
// data-sort="number" | "text" | "none" (default: guessed from the cells).

import { lang } from "../shell.js";

const TEXT = {
  vi: { filter: "Lọc bảng", export: "Xuất CSV", previous: "Trang trước", next: "Trang sau", range: "{from}–{to} trên tổng số {total}", none: "Không có dòng nào khớp." },
  en: { filter: "Filter the table", export: "Export CSV", previous: "Previous page", next: "Next page", range: "{from}–{to} of {total}", none: "No row matches." },
}[lang === "en" ? "en" : "vi"];
const collator = new Intl.Collator(lang === "en" ? "en" : "vi", { numeric: true, sensitivity: "base" });

function cellText(row, index) {
  const cell = row.cells[index];
  return cell ? cell.textContent.trim() : "";
}

function asNumber(value) {
  // Vietnamese numbers use "." for thousands and "," for decimals.
  const normalised = lang === "en" ? value.replace(/,/g, "") : value.replace(/\./g, "").replace(",", ".");
  const number = Number.parseFloat(normalised.replace(/[^\d.-]/g, ""));
  return Number.isFinite(number) ? number : null;
}

function csvField(value) {
  return /[",\n;]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Enhance one table; calling it twice does nothing more. */
export function enhanceTable(table) {
  if (table.dataset.tableReady) {
    return;
  }
  table.dataset.tableReady = "true";
  const body = table.tBodies[0];
  if (!body) {
    return;
  }
  const rows = [...body.rows];
  const pageSize = Number(table.dataset.pageSize) || 25;
  let page = 0;
  let filter = "";
  let sort = { index: -1, direction: 1 };

  const toolbar = document.createElement("div");
  toolbar.className = "table-tools";
  const search = document.createElement("input");
  search.type = "search";
  search.className = "table-filter";
  search.setAttribute("aria-label", TEXT.filter);
  search.placeholder = TEXT.filter;
  const exportButton = document.createElement("button");
  exportButton.type = "button";
  exportButton.className = "btn btn-small";
  exportButton.textContent = TEXT.export;
  toolbar.append(search, exportButton);
  const wrap = table.closest(".table-wrap") || table;
  wrap.before(toolbar);
  const footer = document.createElement("div");
  footer.className = "table-footer";
  const range = document.createElement("span");
  range.setAttribute("aria-live", "polite");
  const previous = document.createElement("button");
  previous.type = "button";
  previous.className = "btn btn-small";
  previous.textContent = `‹ ${TEXT.previous}`;
  const next = document.createElement("button");
  next.type = "button";
  next.className = "btn btn-small";
  next.textContent = `${TEXT.next} ›`;
  footer.append(range, previous, next);
  wrap.after(footer);

  const visibleRows = () => {
    const matching = filter ? rows.filter((row) => row.textContent.toLowerCase().includes(filter)) : [...rows];
    if (sort.index >= 0) {
      const numeric = table.tHead.rows[0].cells[sort.index].dataset.sort === "number";
      matching.sort((a, b) => {
        const x = cellText(a, sort.index);
        const y = cellText(b, sort.index);
        const order = numeric ? (asNumber(x) ?? -Infinity) - (asNumber(y) ?? -Infinity) : collator.compare(x, y);
        return order * sort.direction;
      });
    }
    return matching;
  };

  const render = () => {
    const matching = visibleRows();
    const pages = Math.max(1, Math.ceil(matching.length / pageSize));
    page = Math.min(page, pages - 1);
    const shown = matching.slice(page * pageSize, (page + 1) * pageSize);
    body.replaceChildren(...shown);
    range.textContent = matching.length
      ? TEXT.range.replace("{from}", page * pageSize + 1).replace("{to}", page * pageSize + shown.length).replace("{total}", matching.length)
      : TEXT.none;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
    footer.hidden = rows.length <= pageSize && !filter;
  };

  const headers = table.tHead ? [...table.tHead.rows[0].cells] : [];
  headers.forEach((th, index) => {
    if (th.dataset.sort === "none" || th.querySelector("a, button")) {
      return;
    }
    if (!th.dataset.sort) {
      const sample = rows.slice(0, 20).map((row) => cellText(row, index)).filter(Boolean);
      th.dataset.sort = sample.length && sample.every((value) => asNumber(value) !== null && /^[\d.,\s%-]+$/.test(value)) ? "number" : "text";
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "table-sort";
    button.append(...th.childNodes);
    th.append(button);
    button.addEventListener("click", () => {
      sort = { index, direction: sort.index === index ? -sort.direction : 1 };
      headers.forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", sort.direction > 0 ? "ascending" : "descending");
      render();
    });
  });

  search.addEventListener("input", () => {
    filter = search.value.trim().toLowerCase();
    page = 0;
    render();
  });
  previous.addEventListener("click", () => {
    page -= 1;
    render();
  });
  next.addEventListener("click", () => {
    page += 1;
    render();
  });
  exportButton.addEventListener("click", () => {
    const lines = [headers.map((th) => csvField(th.textContent.trim())).join(",")];
    for (const row of visibleRows()) {
      lines.push([...row.cells].map((cell) => csvField(cell.textContent.trim())).join(","));
    }
    // A byte-order mark, so that spreadsheet programs read the Vietnamese letters as UTF-8.
    const blob = new Blob(["\ufeff", lines.join("\r\n")], { type: "text/csv;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${table.dataset.exportName || "bang"}.csv`;
    link.click();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  render();
}

/** Enhance every `table[data-table-enhance]` inside `root`. */
export function enhanceTables(root = document) {
  root.querySelectorAll("table[data-table-enhance]").forEach(enhanceTable);
}
