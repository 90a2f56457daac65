// The entry form: checks numbers as they are typed (Vietnamese 1.234,5 or plain 1234.5), saves a cell when
// it is left, moves down with Enter, and runs the approval actions and the Excel upload.

const form = document.getElementById("ind-entry");
const strings = JSON.parse(document.getElementById("ind-strings").textContent);
const message = document.querySelector("[data-message]");
const errors = document.querySelector("[data-errors]");
const WHOLE = new Set(["integer", "positive_integer", "zero_or_positive_integer"]);

/** Read a number the Vietnamese way; return null when the text is not one. */
export function parseNumber(text) {
  let s = text.trim().replace(/\s/g, "");
  if (s === "") return NaN;
  if (s.includes(",") && s.includes(".")) {
    s = s.lastIndexOf(",") > s.lastIndexOf(".") ? s.replace(/\./g, "").replace(",", ".") : s.replace(/,/g, "");
  } else if (s.includes(",")) {
    s = (s.match(/,/g) || []).length === 1 ? s.replace(",", ".") : s.replace(/,/g, "");
  } else if (/^-?\d{1,3}(\.\d{3})+$/.test(s)) {
    s = s.replace(/\./g, "");
  }
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : null;
}

function check(input) {
  const text = input.value;
  if (text.trim() === "" || input.dataset.type === "text") {
    input.removeAttribute("aria-invalid");
    return true;
  }
  const number = parseNumber(text);
  let ok = number !== null;
  if (ok && WHOLE.has(input.dataset.type)) ok = Number.isInteger(number);
  if (ok && input.dataset.type !== "number" && input.dataset.type !== "integer") ok = number >= 0;
  if (ok && input.dataset.type === "positive_integer") ok = number > 0;
  input.setAttribute("aria-invalid", ok ? "false" : "true");
  input.closest("tr").querySelector(".ind-state").textContent = ok ? "" : strings.invalid;
  return ok;
}

async function save(input) {
  if (!check(input) || input.dataset.saved === input.value) return;
  const number = parseNumber(input.value);
  const body = {
    dataSet: form.dataset.ds,
    period: form.dataset.pe,
    orgUnit: form.dataset.ou,
    attributeOptionCombo: form.dataset.agency,
    dataValues: [{ dataElement: input.dataset.de, categoryOptionCombo: input.dataset.coc, value: input.value.trim() === "" ? "" : String(number ?? input.value) }],
  };
  const state = input.closest("tr").querySelector(".ind-state");
  const response = await fetch("/api/v1/data-value-sets", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await response.json();
  if (response.ok) {
    input.dataset.saved = input.value;
    state.textContent = strings.saved;
  } else {
    input.setAttribute("aria-invalid", "true");
    const conflicts = (data.detail && data.detail.conflicts) || [];
    state.textContent = conflicts.length ? conflicts[0].message : data.message;
  }
}

const inputs = Array.from(form.querySelectorAll(".ind-value"));
for (const [index, input] of inputs.entries()) {
  input.dataset.saved = input.value;
  input.addEventListener("input", () => check(input));
  input.addEventListener("change", () => save(input));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      (inputs[index + 1] || inputs[index]).focus();
    }
  });
}

function showResult(data, ok) {
  errors.replaceChildren();
  const conflicts = (data.detail && data.detail.conflicts) || data.conflicts || [];
  for (const conflict of conflicts) {
    const item = document.createElement("li");
    item.textContent = conflict.message;
    item.dataset.row = conflict.row ?? "";
    errors.append(item);
  }
  message.textContent = ok ? strings.done : data.message || strings.refused;
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", async () => {
    const action = button.dataset.action;
    let body;
    if (action === "unlock" || action === "return") {
      const reason = window.prompt(strings.reason);
      if (!reason) return;
      body = JSON.stringify({ reason });
    }
    const url = `/api/v1/indicator/reports/${form.dataset.ds}/${form.dataset.pe}/${form.dataset.ou}/${action}?agency=${encodeURIComponent(form.dataset.agency)}`;
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const data = await response.json();
    showResult(data, response.ok);
    if (response.ok) window.location.reload();
  });
}

const upload = document.querySelector("[data-upload]");
upload.addEventListener("change", async () => {
  const file = upload.files[0];
  if (!file) return;
  const payload = new FormData();
  payload.append("file", file);
  const storeValid = document.querySelector("[data-store-valid]").checked;
  const response = await fetch(`/api/v1/indicator/excel?importStrategy=${storeValid ? "store_valid" : "all_or_nothing"}`, { method: "POST", body: payload });
  const data = await response.json();
  showResult(data, response.ok);
  upload.value = "";
  if (response.ok && !(data.conflicts || []).length) window.location.reload();
});
