// Alarm console: every alarm event from the shared live stream refreshes the figures and the table, so that an
// operator sees a new critical alarm without reloading the page.
import { onLive } from "/static/js/shell.js";

const live = document.querySelector("[data-alarm-live]");
const announce = document.querySelector("[data-alarm-announce]");
let pending = null;

async function refresh() {
  pending = null;
  const response = await fetch(live.dataset.url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (response.ok) {
    live.innerHTML = await response.text();
  }
}

function schedule(data) {
  const alarm = data && data.payload ? data.payload : null;
  if (announce && alarm && alarm.title) {
    announce.textContent = alarm.title;
  }
  // Bursts of events (a storm of readings) refresh the table once.
  if (!pending) {
    pending = setTimeout(refresh, 150);
  }
}

if (live) {
  for (const name of ["alarm.raised", "alarm.acknowledged", "alarm.cleared", "alarm.escalated", "alarm.repeated"]) {
    onLive(name, schedule);
  }
}
