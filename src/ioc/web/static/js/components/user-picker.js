// The user picker: inside an element with `data-user-picker`, a search box finds colleagues by name or
// username (GET /api/v1/staff, which answers only id, name and agency) and puts the chosen ones as chips,
// each carrying a hidden input named `data-name`. `data-multiple` allows several; `data-agency-id` (or
// `data-agency-from`, the selector of an agency <select>, with `data-agency-map`, code → id) narrows the
// search to one agency. The search box is an ARIA combobox: arrows move, Enter picks, Escape closes.

import { lang } from "../shell.js";

const TEXT = {
  vi: {
    none: "Không tìm thấy cán bộ phù hợp.",
    failed: "Không tra cứu được danh bạ cán bộ.",
    remove: "Bỏ chọn",
    typing: "Gõ ít nhất 1 ký tự để tìm.",
    found: "{count} kết quả",
  },
  en: {
    none: "No matching staff member.",
    failed: "The staff directory could not be searched.",
    remove: "Remove",
    typing: "Type at least 1 character to search.",
    found: "{count} results",
  },
}[lang === "en" ? "en" : "vi"];
const DEBOUNCE_MS = 200;
let counter = 0;

function agencyId(picker) {
  if (picker.dataset.agencyId) {
    return picker.dataset.agencyId;
  }
  const source = picker.dataset.agencyFrom ? document.querySelector(picker.dataset.agencyFrom) : null;
  if (!source) {
    return "";
  }
  try {
    const map = JSON.parse(picker.dataset.agencyMap || "{}");
    return String(map[source.value] || "");
  } catch {
    return "";
  }
}

function chip(picker, person) {
  const item = document.createElement("li");
  item.className = "user-picker-chip";
  item.dataset.userId = String(person.id);
  const name = document.createElement("span");
  name.textContent = person.display_name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "btn btn-small";
  remove.textContent = "×";
  remove.setAttribute("aria-label", `${TEXT.remove} ${person.display_name}`);
  remove.addEventListener("click", () => {
    item.remove();
    picker.querySelector("[data-user-search]")?.focus();
  });
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = picker.dataset.name;
  input.value = String(person.id);
  item.append(name, " ", remove, input);
  return item;
}

/** Connect one picker's search box, option list and chosen chips. */
export function enhanceUserPicker(picker) {
  if (picker.dataset.pickerReady) {
    return;
  }
  picker.dataset.pickerReady = "true";
  const search = picker.querySelector("[data-user-search]");
  const list = picker.querySelector("[data-user-options]");
  const chosen = picker.querySelector("[data-user-chosen]");
  const status = picker.querySelector("[data-user-status]");
  if (!search || !list || !chosen) {
    return;
  }
  // Chips the server rendered get their remove button here.
  chosen.querySelectorAll("li[data-user-id]").forEach((item) => {
    item.replaceWith(chip(picker, { id: item.dataset.userId, display_name: item.textContent.trim() }));
  });
  const multiple = picker.dataset.multiple === "true";
  const prefix = `user-picker-${++counter}`;
  let results = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index >= 0 && options[index]) {
      search.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  };
  const pick = (person) => {
    if (!multiple) {
      chosen.replaceChildren();
    }
    if (!chosen.querySelector(`[data-user-id="${person.id}"]`)) {
      chosen.append(chip(picker, person));
    }
    search.value = "";
    close();
    picker.dispatchEvent(new CustomEvent("ioc:user-picked", { bubbles: true, detail: person }));
  };
  const show = (people, message) => {
    list.replaceChildren();
    results = people;
    people.forEach((person, index) => {
      const option = document.createElement("li");
      option.id = `${prefix}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.userId = String(person.id);
      option.textContent = person.display_name;
      option.addEventListener("mousedown", (event) => event.preventDefault());
      option.addEventListener("click", () => pick(person));
      list.append(option);
    });
    if (message) {
      const note = document.createElement("li");
      note.className = "muted";
      note.setAttribute("role", "presentation");
      note.textContent = message;
      list.append(note);
    }
    if (status) {
      status.textContent = message || TEXT.found.replace("{count}", String(people.length));
    }
    list.hidden = false;
    search.setAttribute("aria-expanded", "true");
    active = -1;
  };
  const query = async () => {
    const text = search.value.trim();
    if (!text) {
      close();
      return;
    }
    const ticket = ++asked;
    const params = new URLSearchParams({ q: text });
    const agency = agencyId(picker);
    if (agency) {
      params.set("agency_id", agency);
    }
    try {
      const response = await fetch(`${picker.dataset.url || "/api/v1/staff"}?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (ticket !== asked) {
        return; // a newer search is on its way
      }
      if (!response.ok) {
        show([], TEXT.failed);
        return;
      }
      const people = await response.json();
      show(people, people.length ? "" : TEXT.none);
    } catch {
      if (ticket === asked) {
        show([], TEXT.failed);
      }
    }
  };

  list.id = `${prefix}-list`;
  search.setAttribute("aria-controls", list.id);
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(query, DEBOUNCE_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && results.length) {
      event.preventDefault();
      highlight(Math.min(active + 1, results.length - 1));
    } else if (event.key === "ArrowUp" && results.length) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && !list.hidden) {
      // Enter picks the highlighted person (or the only one found) instead of submitting the form.
      event.preventDefault();
      const person = results[active >= 0 ? active : results.length === 1 ? 0 : -1];
      if (person) {
        pick(person);
      }
    } else if (event.key === "Escape") {
      close();
    }
  });
  search.addEventListener("blur", () => setTimeout(close, 150));
  const source = picker.dataset.agencyFrom ? document.querySelector(picker.dataset.agencyFrom) : null;
  // People of another agency cannot carry out this agency's task: changing the agency empties the choice.
  source?.addEventListener("change", () => chosen.replaceChildren());
}

/** Enhance every `[data-user-picker]` inside `root`. */
export function enhanceUserPickers(root = document) {
  root.querySelectorAll("[data-user-picker]").forEach((picker) => enhanceUserPicker(picker));
}
