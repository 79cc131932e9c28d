// Small behaviours on top of htmx. Everything works without this file, only less smoothly.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
    const first = form.querySelector("input[type=text]");
    if (first) first.focus();
  }
});
