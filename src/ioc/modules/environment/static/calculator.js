// The staff AQI calculator: shows the inputs the chosen index and period accept, posts the form as JSON to
// the calculator endpoint, and renders the answer (or the bilingual 422 problems) without reloading.
// Data comes from two <script type="application/json"> blocks of the page (the CSP forbids inline scripts).

import { lang } from "/static/js/shell.js";

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

const config = readJson("aqi-calculator-config");
const strings = readJson("aqi-calculator-strings");
const form = document.querySelector("[data-aqi-form]");
const resultBox = document.querySelector("[data-result]");
const emptyBox = document.querySelector("[data-result-empty]");
const errorBox = document.querySelector("[data-result-error]");

const MISSING = new Set(["", "null", "-", "na", "n/a"]);

class SeriesError extends Error {}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function localised(object, base) {
  return object[`${base}_${lang}`] || object[`${base}_vi`] || "";
}

// Black or white text, whichever contrasts more with the category colour (WCAG relative luminance).
function textColour(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#FFFFFF";
}

function parseSeries(text, pollutant) {
  const trimmed = text.trim();
  if (!trimmed) {
    return null;
  }
  const tokens = /[,;]/.test(trimmed) ? trimmed.split(/[,;]/) : trimmed.split(/\s+/);
  return tokens.map((token) => {
    const value = token.trim();
    if (MISSING.has(value.toLowerCase())) {
      return null;
    }
    const number = Number(value);
    if (!Number.isFinite(number)) {
      throw new SeriesError(strings.bad_number.replace("{value}", value).replace("{pollutant}", pollutant));
    }
    return number;
  });
}

function currentChoice() {
  return { standard: form.elements.standard.value, period: form.elements.period.value };
}

function showAllowedInputs() {
  const { standard, period } = currentChoice();
  const allowed = new Set(config.inputs[standard][period]);
  for (const field of form.querySelectorAll("[data-input-field]")) {
    field.hidden = !allowed.has(field.dataset.inputField);
  }
  const units = config.units[standard];
  for (const span of form.querySelectorAll("[data-unit-for]")) {
    const unit = units[span.dataset.unitFor];
    span.textContent = unit ? `(${unit})` : "";
  }
}

function buildRequest() {
  const { standard, period } = currentChoice();
  const body = { standard, period, hourly: {}, values: {} };
  for (const input of form.querySelectorAll("[data-input]")) {
    if (!input.closest("[data-input-field]").hidden && input.value.trim() !== "") {
      body.values[input.dataset.input] = Number(input.value);
    }
  }
  for (const area of form.querySelectorAll("[data-series]")) {
    const series = parseSeries(area.value, area.dataset.series);
    if (series) {
      body.hourly[area.dataset.series] = series;
    }
  }
  return body;
}

function table(caption, headers, rows) {
  const wrap = element("div", null, "table-wrap");
  const tableNode = element("table", null, "data-table");
  tableNode.append(element("caption", caption));
  const head = element("tr");
  for (const header of headers) {
    const th = element("th", header);
    th.scope = "col";
    head.append(th);
  }
  const thead = element("thead");
  thead.append(head);
  const tbody = element("tbody");
  for (const row of rows) {
    const tr = element("tr");
    row.forEach((cell, index) => tr.append(element("td", cell, index > 0 ? "num" : "")));
    tbody.append(tr);
  }
  tableNode.append(thead, tbody);
  wrap.append(tableNode);
  return wrap;
}

function renderResult(answer) {
  const info = answer.category_info;
  resultBox.replaceChildren();
  const badge = element("div", null, "aqi-badge");
  badge.style.backgroundColor = info.hex;
  badge.style.color = textColour(info.hex);
  badge.dataset.category = answer.category;
  badge.append(element("span", strings.aqi, "aqi-badge-label"));
  const value = element("span", answer.aqi, "aqi-badge-value");
  value.dataset.aqiValue = "";
  badge.append(value, element("span", localised(info, "name"), "aqi-badge-name"));
  resultBox.append(badge);

  const facts = element("dl", null, "aqi-facts");
  facts.append(element("dt", strings.dominant), element("dd", answer.dominant));
  facts.append(element("dt", strings.meaning), element("dd", localised(info, "meaning")));
  const general = localised(info, "advice_general");
  if (general) {
    facts.append(element("dt", strings.advice_general), element("dd", general));
    facts.append(element("dt", strings.advice_sensitive), element("dd", localised(info, "advice_sensitive")));
  }
  resultBox.append(facts);
  if (answer.beyond_scale) {
    resultBox.append(element("p", strings.beyond_scale, "alert alert-warning"));
  }
  resultBox.append(
    table(
      strings.sub_indices,
      [strings.pollutant, strings.aqi],
      Object.entries(answer.sub_indices).map(([pollutant, index]) => [pollutant, index]),
    ),
  );
  resultBox.append(
    table(
      strings.inputs_used,
      [strings.input, strings.value],
      Object.entries(answer.inputs_used).map(([name, amount]) => [name, `${amount} ${answer.units[name] || ""}`]),
    ),
  );
  if (answer.notes.length) {
    resultBox.append(element("h3", strings.notes));
    const list = element("ul", null, "aqi-notes");
    for (const note of answer.notes) {
      list.append(element("li", localised(note, "message")));
    }
    resultBox.append(list);
  }
  emptyBox.hidden = true;
  resultBox.hidden = false;
}

function showError(message, problems = []) {
  errorBox.replaceChildren(element("p", message));
  if (problems.length) {
    const list = element("ul");
    for (const problem of problems) {
      list.append(element("li", localised(problem, "message")));
    }
    errorBox.append(element("p", strings.problems), list);
  }
  errorBox.hidden = false;
}

async function submit(event) {
  event.preventDefault();
  errorBox.hidden = true;
  let body;
  try {
    body = buildRequest();
  } catch (error) {
    if (error instanceof SeriesError) {
      showError(error.message);
      return;
    }
    throw error;
  }
  let response;
  try {
    response = await fetch(config.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    showError(strings.failed);
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problems = (answer.detail && answer.detail.problems) || [];
    const fields = Array.isArray(answer.detail) ? answer.detail.map((d) => ({ message_vi: `${d.field}: ${d.message}` })) : [];
    showError(answer.message || strings.failed, problems.length ? problems : fields);
    resultBox.hidden = true;
    emptyBox.hidden = false;
    return;
  }
  renderResult(answer);
}

function fillExample(name) {
  const example = config.examples[name];
  if (!example) {
    return;
  }
  form.reset();
  form.elements.standard.value = example.standard;
  form.elements.period.value = example.period;
  showAllowedInputs();
  for (const [key, amount] of Object.entries(example.values)) {
    const input = form.querySelector(`[data-input="${CSS.escape(key)}"]`);
    if (input) {
      input.value = String(amount);
    }
  }
  for (const [pollutant, series] of Object.entries(example.hourly)) {
    const area = form.querySelector(`[data-series="${CSS.escape(pollutant)}"]`);
    if (area) {
      area.value = series.map((v) => (v === null ? "null" : String(v))).join(", ");
    }
  }
}

if (form) {
  form.elements.standard.addEventListener("change", showAllowedInputs);
  form.elements.period.addEventListener("change", showAllowedInputs);
  form.addEventListener("submit", submit);
  form.addEventListener("reset", () => {
    // The reset event fires before the fields are cleared; update after it.
    window.setTimeout(showAllowedInputs, 0);
    errorBox.hidden = true;
    resultBox.hidden = true;
    emptyBox.hidden = false;
  });
  for (const button of document.querySelectorAll("[data-example]")) {
    button.addEventListener("click", () => fillExample(button.dataset.example));
  }
  showAllowedInputs();
}
