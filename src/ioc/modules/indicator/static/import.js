// Progress bar of a background import: polls the import record until it is done, then reloads for the report.
const section = document.querySelector("[data-import]");
const strings = JSON.parse(document.getElementById("import-strings")?.textContent || "{}");

async function poll() {
  const id = section.dataset.import;
  const response = await fetch(`/api/v1/data-value-sets/imports/${id}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const record = await response.json();
  const bar = section.querySelector("progress");
  bar.max = record.total || 1;
  bar.value = record.processed;
  bar.textContent = `${record.percent}%`;
  section.querySelector("[data-import-text]").textContent =
    `${strings[record.status] || record.status} · ${record.processed}/${record.total} (${record.percent}%)`;
  if (record.status === "done" || record.status === "failed") {
    window.location.reload();
    return;
  }
  window.setTimeout(poll, 1000);
}

if (section && !["done", "failed"].includes(section.dataset.status)) window.setTimeout(poll, 1000);
