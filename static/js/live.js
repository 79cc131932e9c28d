// Live room: about once a second ask "what changed after revision N?" and swap in the
// changed rows, except where this person types (a marker offers the change) or has a
// conflict card open (it stays until answered, showing the newest value). The page's
// random window id goes with its writes and polls: only this page's own changes are
// left out, so the person's other windows get them. See docs/ARCHITECTURE.md.
(() => {
  const root = document.getElementById("live");
  if (!root) return;
  const url = root.dataset.liveUrl;
  const ticket = root.dataset.liveTicket;
  const win = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  let revision = Number(root.dataset.revision);
  let count = 0; // every fourth poll also refreshes "who's here"
  const pending = new Map(); // id -> {fresh, who, since}: held back while busy
  let writes = 0; // this page's writes answered so far
  let timer = null;
  let inFlight = false;

  document.addEventListener("htmx:configRequest", (e) => {
    e.detail.headers["X-Live-Window"] = win;
  });
  // A form with unsaved typing is "dirty" until its save comes back.
  document.addEventListener("input", (e) => {
    const form = e.target.closest("form");
    if (form && form.hasAttribute("data-field-save")) form.dataset.dirty = "1";
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    const form = e.detail.elt.closest && e.detail.elt.closest("form");
    if (form && e.detail.successful) delete form.dataset.dirty;
    if (e.detail.requestConfig && e.detail.requestConfig.verb !== "get") {
      // What is held predates this save, which won't come back here: ask again from
      // before the oldest held change, for those rows as they are now.
      writes += 1;
      for (const held of pending.values()) revision = Math.min(revision, held.since);
      pending.clear();
    }
  });

  function busy(el) {
    if (el.querySelector(".conflict")) return true;
    const active = document.activeElement;
    if (active && el.contains(active) && active.matches("input, textarea, select")) return true;
    return el.matches("[data-dirty]") || el.querySelector("[data-dirty]") !== null;
  }

  function replace(current, fresh) {
    // A section the person folded (or opened) stays so.
    for (const details of fresh.querySelectorAll("details[id]")) {
      const before = document.getElementById(details.id);
      if (before && current.contains(before)) details.open = before.open;
    }
    // Focus inside the swapped part (a button, a link) stays on the same control.
    const active = document.activeElement;
    const focused = active && active !== document.body && current.contains(active) ? active.id : "";
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    pending.delete(fresh.id);
  }

  function hold(current, fresh, who, since) {
    const before = pending.get(fresh.id);
    pending.set(fresh.id, { fresh, who, since: before ? Math.min(before.since, since) : since });
    const cards = current.querySelectorAll(".conflict");
    if (cards.length) return cards.forEach((card) => updateCard(card, fresh, who)); // one notice
    let marker = current.querySelector(":scope > .live-marker");
    if (!marker) {
      marker = document.createElement("div");
      marker.className = "live-marker";
      marker.setAttribute("role", "status");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = "Show their change";
      button.addEventListener("click", () => {
        const held = pending.get(fresh.id);
        const now = document.getElementById(fresh.id);
        if (held && now) replace(now, held.fresh);
      });
      marker.append(document.createElement("span"), " ", button);
      current.prepend(marker);
    }
    marker.querySelector("span").textContent = `Changed by ${who || "someone"} just now.`;
  }

  // --- conflict cards: data-field, and data-value as the form posts it ---------------
  function inputs(scope, name) {
    return Array.from(scope.querySelectorAll(`[name="${CSS.escape(name)}"]`)).filter((el) => el.type !== "hidden");
  }
  function chosen(el) {
    return el.type === "checkbox" || el.type === "radio" ? el.checked : true;
  }
  // [value, shown] of a field; several values sorted and comma-joined, like the server.
  function read(scope, name) {
    const found = inputs(scope, name);
    if (!found.length) return null;
    const values = [];
    const shown = [];
    for (const el of found) {
      if (el instanceof HTMLSelectElement) {
        for (const o of el.selectedOptions) {
          values.push(o.value);
          if (o.value) shown.push(o.textContent.trim());
        }
      } else if (chosen(el)) {
        values.push(el.value);
        const label = el.type === "checkbox" && el.closest("label");
        if (el.value) shown.push(label ? label.textContent.trim() : el.value);
      }
    }
    if (found.length === 1 && found[0].type === "checkbox" && found[0].value === "on") {
      return [values.join(), found[0].checked ? "yes" : "no"];
    }
    return [values.sort().join(","), shown.join(", ")];
  }

  // A newer version of the card's row arrived: show the other person's newest value,
  // and let "Keep mine" write over that version.
  function updateCard(card, fresh, who) {
    const id = card.dataset.row;
    const row = fresh.id === id ? fresh : fresh.querySelector(`#${CSS.escape(id)}`);
    if (!row) return;
    for (const entry of card.querySelectorAll("[data-field]")) {
      const now = read(row, entry.dataset.field);
      if (!now || now[0] === entry.dataset.value) continue;
      entry.dataset.value = now[0];
      entry.querySelector(":scope > b").textContent = now[1] || "(empty)";
      const by = who || "someone";
      entry.querySelector("[data-by]").textContent = by.charAt(0).toUpperCase() + by.slice(1);
      entry.querySelector("[data-when]").textContent = "just now";
    }
    const version = row.querySelector("input[name=version]");
    const keep = card.querySelector("[hx-vals]");
    if (version && keep) {
      const vals = JSON.parse(keep.getAttribute("hx-vals"));
      vals.version = version.value;
      keep.setAttribute("hx-vals", JSON.stringify(vals));
    }
  }

  // "Use theirs" (before app.js's handler): show the newest version held for the row,
  // and put focus on the field.
  document.addEventListener("click", (e) => {
    const button = e.target.closest(".conflict [data-dismiss]");
    if (!button) return;
    const card = button.closest(".conflict");
    const entry = card.querySelector("[data-field]");
    card.remove();
    const row = document.getElementById(card.dataset.row);
    if (!row) return;
    for (const [id, held] of pending) {
      const current = document.getElementById(id);
      if (current && current.contains(row) && !busy(current)) replace(current, held.fresh);
    }
    const now = document.getElementById(card.dataset.row);
    const field = now && entry && inputs(now, entry.dataset.field)[0];
    if (!field) return;
    field.focus();
    // Whatever this click sets off next (app.js closing the card, a poll answering)
    // must not leave focus on the page itself.
    setTimeout(() => {
      const again = field.id && document.getElementById(field.id);
      if (again && (!document.activeElement || document.activeElement === document.body)) again.focus();
    }, 0);
  }, true);

  function apply(html, changedBy, since) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const fresh of Array.from(template.content.children)) {
      const current = fresh.id && document.getElementById(fresh.id);
      if (!current) continue;
      if (fresh.id !== "presence" && busy(current)) hold(current, fresh, changedBy[fresh.id], since);
      else replace(current, fresh);
    }
  }

  // Held rows are brought up to date as soon as nobody is busy in them.
  function release() {
    for (const [id, held] of pending) {
      const current = document.getElementById(id);
      if (!current) pending.delete(id);
      else if (!busy(current)) replace(current, held.fresh);
    }
  }

  async function poll() {
    timer = null;
    if (document.visibilityState !== "visible" || inFlight) return schedule();
    inFlight = true;
    const since = revision;
    const writesBefore = writes;
    try {
      const presence = document.getElementById("presence");
      const here = presence ? presence.dataset.digest || "" : "";
      const withPresence = count++ % 4 === 0 ? "&p=1" : "";
      const response = await fetch(
        `${url}?rev=${since}&w=${win}&here=${encodeURIComponent(here)}${withPresence}`,
        { credentials: "same-origin", headers: { "HX-Request": "true", "X-Live-Ticket": ticket } },
      );
      const body = response.status === 200 ? await response.text() : "";
      if (writes !== writesBefore) {
        // This page saved something meanwhile: the answer may predate it. Ask again.
      } else if (response.status === 200) {
        if (response.headers.get("X-Live-Reload") === "1") {
          if (!document.querySelector("[data-dirty], .conflict")) window.location.reload();
        } else {
          let changedBy = {};
          try {
            changedBy = JSON.parse(response.headers.get("X-Live-Changed-By") || "{}");
          } catch {
            changedBy = {};
          }
          apply(body, changedBy, since);
          revision = Number(response.headers.get("X-Room-Revision")) || revision;
          root.dataset.revision = revision;
        }
      } else if ([403, 404, 410].includes(response.status)) {
        window.location.reload(); // access ended: show the page that says so
        return;
      }
    } catch {
      // Offline for a moment: the next poll asks again from the same revision.
    } finally {
      inFlight = false;
    }
    release();
    schedule();
  }

  function schedule() {
    if (!timer) timer = setTimeout(poll, 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !timer) poll();
  });
  schedule();
})();
