// Empty and error states drawn by scripts, matching the server-side macros (macros/states.html).
//
//   import { showState } from "/static/js/components/states.js";
//   showState(box, "empty", "Chưa có dữ liệu");  showState(box, "error", message, retry);

/** Replace `element`'s content with an empty or error state; `retry` adds a button that calls it. */
export function showState(element, kind, message, retry = null, retryLabel = "↻") {
  const box = document.createElement("div");
  box.className = `state state-${kind === "error" ? "error" : "empty"} state-compact`;
  box.dataset.state = kind;
  if (kind === "error") {
    box.setAttribute("role", "alert");
  }
  const icon = document.createElement("span");
  icon.className = "state-icon";
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = kind === "error" ? "⚠" : "○";
  const text = document.createElement("p");
  text.className = "state-title";
  text.textContent = message;
  box.append(icon, text);
  if (retry) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    button.textContent = retryLabel;
    button.addEventListener("click", retry, { once: true });
    box.append(button);
  }
  element.replaceChildren(box);
  return box;
}
