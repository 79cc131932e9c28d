// Behaviours of the sellers' pages only (app.js has those of every page, buyers' too).

// Selects that submit their form on change (e.g. the organisation switcher).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
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
