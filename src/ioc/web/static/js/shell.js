// The shell's behaviour on every page: CSRF header on htmx and fetch requests, the language
// switch, the mobile navigation, the shared live event stream and its indicator, the wall clock,
// and lazy start of components (maps) found in the page or in content swapped in by htmx.
//
// Other scripts import what they need:
//   import { onLive, strings, csrfToken } from "/static/js/shell.js";

const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const PROVINCE_TIMEZONE = "Asia/Ho_Chi_Minh";

/** Return the translated strings the server put in the page (see partials/head.html). */
export const strings = (() => {
  const node = document.getElementById("ioc-strings");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
})();

/** Return the page language ("vi" or "en"). */
export const lang = document.documentElement.lang || "vi";

/** Return the CSRF token of the session (empty when anonymous). */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

// htmx: every request of the page carries the token (htmx only talks to this origin).
document.addEventListener("htmx:configRequest", (event) => {
  const token = csrfToken();
  if (token && !SAFE_METHODS.has(String(event.detail.verb).toUpperCase())) {
    event.detail.headers[CSRF_HEADER] = token;
  }
});

// fetch: unsafe requests to this origin carry the token unless the caller set one.
const nativeFetch = window.fetch.bind(window);
window.fetch = function fetchWithCsrf(input, init) {
  const isRequest = input instanceof Request;
  const method = String((init && init.method) || (isRequest ? input.method : "GET")).toUpperCase();
  const url = isRequest ? input.url : String(input);
  const token = csrfToken();
  if (!token || SAFE_METHODS.has(method) || !sameOrigin(url)) {
    return nativeFetch(input, init);
  }
  const headers = new Headers((init && init.headers) || (isRequest ? input.headers : undefined));
  if (!headers.has(CSRF_HEADER)) {
    headers.set(CSRF_HEADER, token);
  }
  return nativeFetch(input, { ...(init || {}), headers });
};

// Language switch: the server fills next= with the path and query; keep the #fragment too.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("[data-lang-switch] a") : null;
  if (!link || !window.location.hash) {
    return;
  }
  const url = new URL(link.href, window.location.href);
  url.searchParams.set("next", (url.searchParams.get("next") || "/") + window.location.hash);
  link.href = url.toString();
});

// Mobile navigation toggle.
function setUpNavigation() {
  const toggle = document.querySelector("[data-nav-toggle]");
  const nav = document.querySelector("[data-sidenav]");
  if (!toggle || !nav) {
    return;
  }
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("is-open", open);
    if (open) {
      const first = nav.querySelector("a");
      if (first) {
        first.focus();
      }
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("is-open")) {
      nav.classList.remove("is-open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
}

// ---------- toasts (request errors) ----------

/** Show a short message in the corner; it stays until closed or for `seconds`. */
export function toast(message, seconds = 8) {
  const region = document.querySelector("[data-toasts]");
  if (!region) {
    return;
  }
  const item = document.createElement("div");
  item.className = "toast";
  item.setAttribute("role", "alert");
  const text = document.createElement("span");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.setAttribute("aria-label", strings.close || "Close");
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  region.append(item);
  window.setTimeout(() => item.remove(), seconds * 1000);
}

document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  let message = strings["request.failed"] || "Request failed";
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && typeof body.message === "string") {
      message = body.message;
    }
  } catch {
    // The body was not JSON; the generic message is the right one.
  }
  toast(message);
});
document.addEventListener("htmx:sendError", () => toast(strings["request.offline"] || "Offline"));

// ---------- live event stream ----------

const liveListeners = new Map();
let liveSource = null;

function setLiveState(state) {
  document.documentElement.dataset.live = state;
  for (const indicator of document.querySelectorAll("[data-live-status]")) {
    indicator.dataset.state = state;
    const label = indicator.querySelector(".live-label");
    if (label) {
      label.textContent = strings[`live.${state}`] || state;
    }
  }
}

// The id of the last event received: a new connection asks the server for what came after it.
let lastLiveId = "";
const LIVE_RETRY_MIN_MS = 2000;
const LIVE_RETRY_MAX_MS = 60000;
let liveRetryMs = LIVE_RETRY_MIN_MS;

async function liveStillAllowed(base) {
  if (base.includes("/public")) {
    return true;
  }
  try {
    const response = await fetch("/api/v1/live/access", { headers: { Accept: "application/json" } });
    if (!response.ok) {
      return true; // the server is in trouble, not the session: keep trying
    }
    return Boolean((await response.json()).staff);
  } catch {
    return true;
  }
}

function connectLive() {
  const base = document.body && document.body.dataset.liveUrl;
  if (!base || !("EventSource" in window)) {
    return;
  }
  setLiveState("connecting");
  const url = lastLiveId ? `${base}${base.includes("?") ? "&" : "?"}last_event_id=${encodeURIComponent(lastLiveId)}` : base;
  const source = new EventSource(url);
  liveSource = source;
  source.addEventListener("open", () => {
    liveRetryMs = LIVE_RETRY_MIN_MS;
    setLiveState("online");
  });
  source.addEventListener("error", () => {
    // EventSource retries by itself while CONNECTING (sending Last-Event-ID); CLOSED means the server
    // refused or a proxy failed: open a new connection later, which catches up from the last id.
    if (source.readyState !== EventSource.CLOSED) {
      setLiveState("connecting");
      return;
    }
    setLiveState("offline");
    window.setTimeout(async () => {
      // A session that ended (logged out, expired) must not be retried for ever against a 401.
      if (liveSource === source && (await liveStillAllowed(base))) {
        connectLive();
      }
    }, liveRetryMs);
    liveRetryMs = Math.min(liveRetryMs * 2, LIVE_RETRY_MAX_MS);
  });
  for (const [name, handlers] of liveListeners) {
    for (const handler of handlers) {
      source.addEventListener(name, handler);
    }
  }
}
window.addEventListener("offline", () => setLiveState("offline"));

/**
 * Call `handler(data, event)` for every live event named `name` (e.g. "citizen_report.submitted").
 * All scripts share the page's one connection. Returns a function that stops listening.
 */
export function onLive(name, handler) {
  const wrapped = (event) => {
    if (event.lastEventId) {
      lastLiveId = event.lastEventId;
    }
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      data = event.data;
    }
    handler(data, event);
  };
  if (!liveListeners.has(name)) {
    liveListeners.set(name, new Set());
  }
  liveListeners.get(name).add(wrapped);
  if (liveSource) {
    liveSource.addEventListener(name, wrapped);
  }
  return () => {
    liveListeners.get(name).delete(wrapped);
    if (liveSource) {
      liveSource.removeEventListener(name, wrapped);
    }
  };
}

// ---------- wall clock ----------

function startClock() {
  const clock = document.querySelector("[data-wall-clock]");
  if (!clock) {
    return;
  }
  const timeZone = clock.dataset.timezone || PROVINCE_TIMEZONE;
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  const timeFormat = new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", hour12: false });
  const dateFormat = new Intl.DateTimeFormat(locale, { timeZone, weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" });
  const dateNode = document.querySelector("[data-wall-date]");
  const tick = () => {
    const now = new Date();
    clock.textContent = timeFormat.format(now);
    clock.setAttribute("datetime", now.toISOString());
    if (dateNode) {
      dateNode.textContent = dateFormat.format(now);
    }
  };
  tick();
  window.setInterval(tick, 15000);
}

// ---------- components ----------

/** Start the components found inside `root` (maps load their library only when a page has one). */
export async function startComponents(root = document) {
  const hasMap = (root instanceof Element && root.matches("[data-map]")) || Boolean(root.querySelector("[data-map]"));
  if (hasMap) {
    const { initMaps } = await import("./map.js");
    initMaps(root);
  }
  // Shared components (docs/ui.md), each loaded only by pages that use it.
  const has = (selector) => (root instanceof Element && root.matches(selector)) || Boolean(root.querySelector(selector));
  if (has("table[data-table-enhance]")) {
    import("./components/table.js").then(({ enhanceTables }) => enhanceTables(root instanceof Element ? root.parentElement || root : root));
  }
  if (has("form[data-validate]")) {
    import("./components/forms.js").then(({ enhanceForms }) => enhanceForms(root));
  }
  if (has("[data-map-picker]")) {
    import("./components/map-picker.js").then(({ enhancePickers }) => enhancePickers(root instanceof Element ? root.parentElement || root : root));
  }
  if (has("[data-user-picker]")) {
    import("./components/user-picker.js").then(({ enhanceUserPickers }) => enhanceUserPickers(root instanceof Element ? root.parentElement || root : root));
  }
}

document.addEventListener("htmx:load", (event) => {
  if (event.target instanceof Element && event.target !== document.body) {
    startComponents(event.target);
  }
});

setUpNavigation();
startClock();
connectLive();
startComponents(document);
