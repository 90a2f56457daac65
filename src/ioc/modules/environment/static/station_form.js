// The station form: show only the settings and parameters of the chosen kind of station (the server reads
// only those), so that an air station is not offered QCVN 08 levels or water parameters. Hidden choices are
// kept and still sent, so switching the kind back and forth loses nothing.

const form = document.querySelector("[data-station-form]");

function showKind() {
  const select = form.querySelector("[data-kind-select]");
  const kind = select ? select.value : "";
  for (const node of form.querySelectorAll("[data-kinds]")) {
    const visible = node.dataset.kinds.split(" ").includes(kind);
    node.hidden = !visible;
  }
}

if (form) {
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-kind-select]")) {
      showKind();
    }
  });
  showKind();
}
