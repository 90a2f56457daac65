// Inline validation in the user's language for any <form data-validate>: each control is checked when
// it loses focus (and again while it is being corrected), its message shown under it and linked with
// aria-describedby; submitting focuses the first invalid control. The server validates again.
//
// A control may carry its own message: data-error-value-missing="…", data-error-pattern-mismatch="…".

import { lang } from "../shell.js";

const MESSAGES = {
  vi: {
    valueMissing: "Vui lòng nhập trường này.",
    typeMismatch: "Giá trị không đúng định dạng.",
    patternMismatch: "Giá trị không đúng định dạng yêu cầu.",
    tooShort: "Cần ít nhất {min} ký tự.",
    tooLong: "Tối đa {max} ký tự.",
    rangeUnderflow: "Giá trị nhỏ nhất là {min}.",
    rangeOverflow: "Giá trị lớn nhất là {max}.",
    stepMismatch: "Giá trị không hợp lệ.",
    badInput: "Giá trị không hợp lệ.",
  },
  en: {
    valueMissing: "Please fill in this field.",
    typeMismatch: "The value is not in the right format.",
    patternMismatch: "The value does not match the required format.",
    tooShort: "At least {min} characters.",
    tooLong: "At most {max} characters.",
    rangeUnderflow: "The smallest value is {min}.",
    rangeOverflow: "The largest value is {max}.",
    stepMismatch: "The value is not valid.",
    badInput: "The value is not valid.",
  },
}[lang === "en" ? "en" : "vi"];
const STATES = Object.keys(MESSAGES);

function messageFor(control) {
  const state = STATES.find((name) => control.validity[name]);
  if (!state) {
    return "";
  }
  const own = control.dataset[`error${state[0].toUpperCase()}${state.slice(1)}`];
  const min = control.getAttribute("minlength") || control.getAttribute("min") || "";
  const max = control.getAttribute("maxlength") || control.getAttribute("max") || "";
  return (own || MESSAGES[state]).replace("{min}", min).replace("{max}", max);
}

function errorNode(control) {
  const id = `${control.id || control.name}-inline-error`;
  let node = document.getElementById(id);
  if (!node) {
    node = document.createElement("p");
    node.id = id;
    node.className = "error";
    node.hidden = true;
    (control.closest(".form-field") || control.parentElement).append(node);
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    control.setAttribute("aria-describedby", [...described, id].join(" "));
  }
  return node;
}

/** Check one control and show or clear its message; return whether it is valid. */
export function checkControl(control) {
  const message = messageFor(control);
  const node = errorNode(control);
  node.textContent = message;
  node.hidden = !message;
  if (message) {
    control.setAttribute("aria-invalid", "true");
  } else {
    control.removeAttribute("aria-invalid");
  }
  return !message;
}

/** Validate one form inline (the browser's own bubbles are replaced by messages in the page language). */
export function enhanceForm(form) {
  if (form.dataset.validateReady) {
    return;
  }
  form.dataset.validateReady = "true";
  form.noValidate = true;
  const controls = () => [...form.elements].filter((el) => el.willValidate);
  form.addEventListener("focusout", (event) => {
    if (event.target.willValidate) {
      checkControl(event.target);
    }
  });
  form.addEventListener("input", (event) => {
    if (event.target.getAttribute("aria-invalid") === "true") {
      checkControl(event.target);
    }
  });
  form.addEventListener("submit", (event) => {
    const invalid = controls().filter((control) => !checkControl(control));
    if (invalid.length) {
      event.preventDefault();
      event.stopImmediatePropagation();
      invalid[0].focus();
    }
  });
}

/** Enhance every `form[data-validate]` inside `root`. */
export function enhanceForms(root = document) {
  const forms = root instanceof HTMLFormElement ? [root] : [...root.querySelectorAll("form[data-validate]")];
  forms.filter((form) => form.matches("[data-validate]")).forEach(enhanceForm);
}
