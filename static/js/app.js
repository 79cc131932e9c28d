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
