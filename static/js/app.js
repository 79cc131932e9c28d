// Small behaviours on top of htmx. Everything works without this file, only less smoothly.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
    const first = form.querySelector("input[type=text]");
    if (first) first.focus();
  }
});

// A half-typed or impossible date (31 Feb) reads as "" in a date input; sending it would
// clear the saved date. Keep the saved value and say what is wrong instead.
document.addEventListener("htmx:beforeRequest", (event) => {
  const config = event.detail.requestConfig;
  const input = config && config.triggeringEvent && config.triggeringEvent.target;
  if (!input || !input.validity || !input.validity.badInput) return;
  event.preventDefault();
  const meta = input.closest("form") && input.closest("form").querySelector(".row-meta");
  if (!meta) return;
  meta.querySelectorAll(".client-error, .saved").forEach((el) => el.remove());
  const note = document.createElement("span");
  note.className = "errorlist client-error";
  note.setAttribute("role", "alert");
  note.textContent = "That is not a valid date; nothing was saved.";
  meta.appendChild(note);
});

// Rows that save one field at a time: tell the server which input changed.
document.addEventListener("htmx:configRequest", (event) => {
  const elt = event.detail.elt;
  const trigger = event.detail.triggeringEvent;
  if (!elt.hasAttribute("data-field-save") || !trigger || !trigger.target) return;
  const name = trigger.target.name;
  if (name && !event.detail.parameters.has("_field")) {
    event.detail.parameters._field = name;
  }
});

// Buttons that close a card ("Use theirs"), without inline script.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dismiss]");
  if (button) {
    const target = button.closest(button.getAttribute("data-dismiss"));
    if (target) target.remove();
  }
});

// Selects that submit their form on change (e.g. the organisation switcher).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// "Copy" buttons next to a read-only field (e.g. a freshly issued buyer link).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    document.execCommand("copy");
  }
  button.textContent = "Copied";
});

// A milestone's "Depends on" summary follows its checkboxes as they are ticked.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.matches("details.deps input[name=depends_on]")) return;
  const details = box.closest("details.deps");
  const summary = details.querySelector("summary");
  const chosen = Array.from(details.querySelectorAll("input[name=depends_on]:checked"))
    .map((input) => input.closest("label").textContent.trim());
  summary.textContent = `Depends on: ${chosen.length ? chosen.join(", ") : "nothing"}`;
});
