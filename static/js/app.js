// Small behaviours on top of htmx, for every page (seller.js adds the sellers' own).
// Everything works without this file, only less smoothly.
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

// "Keep mine" on a conflict card posts what the card holds (its hx-vals), not the inputs
// of the row around it: they show the other person's values now, and a list emptied in
// the draft (no dependencies) would otherwise be sent with theirs.
document.addEventListener("htmx:configRequest", (event) => {
  const elt = event.detail.elt;
  if (!elt.closest(".conflict") || !elt.hasAttribute("hx-vals")) return;
  const data = event.detail.formData;
  for (const key of Array.from(data.keys())) if (key !== "csrfmiddlewaretoken") data.delete(key);
  for (const [key, value] of Object.entries(JSON.parse(elt.getAttribute("hx-vals")))) {
    for (const one of Array.isArray(value) ? value : [value]) data.append(key, one);
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

// A select of a row that saves as you go, chosen with the keyboard: each arrow key (or
// letter) is a change to the browser, and saving each would log "In progress", then
// "Blocked", then "Done" for one decision. So a keyboard choice saves once it is made,
// on Enter or when focus leaves; Escape puts the saved value back. A pick with the
// mouse, or from the open list, saves at once.
(() => {
  const saved = new WeakMap(); // select -> the value last saved
  const stepping = new WeakSet(); // its last key stepped through the options
  const held = new WeakSet(); // a keyboard choice not saved yet
  const row = (t) => (t instanceof HTMLSelectElement && t.closest("form[data-field-save]") ? t : null);

  function hint(select, text) {
    const meta = select.form.querySelector(".row-meta");
    let note = meta && meta.querySelector(".pending-save");
    if (note && !text) note.remove();
    if (!meta || !text) return;
    if (!note) meta.appendChild((note = Object.assign(document.createElement("span"), { className: "pending-save small" })));
    note.textContent = text;
  }
  function settle(select, save) {
    held.delete(select);
    hint(select, "");
    if (save && select.value !== saved.get(select)) {
      saved.set(select, select.value);
      select.dispatchEvent(new Event("change", { bubbles: true }));
    } else delete select.form.dataset.dirty; // nothing to save (see live.js)
  }

  document.addEventListener("keydown", (e) => {
    const select = row(e.target);
    if (!select) return;
    if (!held.has(select)) saved.set(select, select.value);
    if ((e.key === "Enter" || e.key === "Escape") && held.has(select)) {
      e.preventDefault();
      if (e.key === "Escape") select.value = saved.get(select);
      settle(select, e.key === "Enter");
    } else if ((/^(Arrow|Page)|^(Home|End)$/.test(e.key) && !e.altKey) || (e.key.length === 1 && e.key !== " " && !e.ctrlKey && !e.metaKey)) {
      stepping.add(select);
    } else stepping.delete(select);
  }, true);
  document.addEventListener("pointerdown", (e) => row(e.target) && stepping.delete(e.target), true);
  // Before the row's own listener (htmx's hx-trigger="change" on the form).
  document.addEventListener("change", (e) => {
    const select = row(e.target);
    if (!select || !e.isTrusted) return;
    if (stepping.has(select)) {
      e.stopPropagation();
      held.add(select);
      hint(select, "Press Enter to save");
    } else {
      held.delete(select);
      saved.set(select, select.value);
    }
  }, true);
  document.addEventListener("focusout", (e) => row(e.target) && held.has(e.target) && settle(e.target, true));
})();

// One live region for the whole page (#announce): what a save answered ("Saved", or why
// not) is read out there, since a region swapped in with the answer may never be.
document.addEventListener("htmx:afterSettle", (event) => {
  const region = document.getElementById("announce");
  let scope = event.detail.elt;
  if (scope && !scope.isConnected && scope.id) scope = document.getElementById(scope.id);
  const news = region && scope && scope.querySelector(".row-meta .errorlist, .row-meta .saved, [data-announce]");
  if (!news) return;
  region.textContent = "";
  setTimeout(() => { region.textContent = news.textContent.trim(); }, 50);
});

// Titles wrap as they grow (a textarea) but are one line: Enter saves instead of starting
// a new line, and the browser's own "change" when focus leaves is not sent a second time.
(() => {
  const sent = new WeakMap(); // field -> the value last saved from here (or found on focus)
  document.addEventListener("focusin", (e) => {
    if (e.target instanceof HTMLTextAreaElement && e.target.hasAttribute("data-one-line")) sent.set(e.target, e.target.value);
  });
  document.addEventListener("keydown", (e) => {
    const field = e.target;
    if (e.key !== "Enter" || e.shiftKey || !(field instanceof HTMLTextAreaElement) || !field.hasAttribute("data-one-line")) return;
    e.preventDefault();
    if (sent.get(field) === field.value) return;
    sent.set(field, field.value);
    field.dispatchEvent(new Event("change", { bubbles: true }));
  });
  document.addEventListener("change", (e) => {
    if (e.isTrusted && sent.has(e.target) && sent.get(e.target) === e.target.value) e.stopPropagation();
  }, true);
})();
