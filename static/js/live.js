// Live room: ask about once a second "what changed after revision N?" and swap in the
// rows that changed — except where this person is typing: there a quiet marker says
// who changed it, with a button to pull the new version in. Polls only while the tab
// is visible; a missed answer heals on the next poll, which asks from the same N.
(() => {
  const root = document.getElementById("live");
  if (!root) return;
  const url = root.dataset.liveUrl;
  const ticket = root.dataset.liveTicket;
  let revision = root.dataset.revision;
  let count = 0; // every fourth poll also refreshes "who's here"
  const INTERVAL = 1000;
  const pending = new Map(); // element id -> fresh element held back while busy
  let timer = null;
  let inFlight = false;

  // A form with unsaved typing is "dirty" until its save comes back.
  document.addEventListener("input", (event) => {
    const form = event.target.closest("form");
    if (form && form.hasAttribute("data-field-save")) form.dataset.dirty = "1";
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form");
    if (form && event.detail.successful) delete form.dataset.dirty;
  });
  // A swap that htmx made itself (a save, a conflict card) is newer than anything held.
  document.addEventListener("htmx:afterSwap", (event) => {
    const id = event.detail.target && event.detail.target.id;
    if (id) pending.delete(id);
  });

  function busy(element) {
    const active = document.activeElement;
    if (active && active !== document.body && element.contains(active) &&
        active.matches("input, textarea, select")) return true;
    return element.matches("[data-dirty]") || element.querySelector("[data-dirty]") !== null;
  }

  function replace(current, fresh) {
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    pending.delete(fresh.id);
  }

  function hold(current, fresh, who) {
    pending.set(fresh.id, fresh);
    let marker = current.querySelector(":scope > .live-marker");
    if (!marker) {
      marker = document.createElement("div");
      marker.className = "live-marker";
      marker.setAttribute("role", "status");
      const text = document.createElement("span");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = "Show their change";
      button.addEventListener("click", () => {
        const held = pending.get(fresh.id);
        const now = document.getElementById(fresh.id);
        if (held && now) replace(now, held);
      });
      marker.append(text, " ", button);
      current.prepend(marker);
    }
    marker.querySelector("span").textContent = `Changed by ${who || "someone"} just now.`;
  }

  function apply(html, changedBy) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const fresh of Array.from(template.content.children)) {
      if (!fresh.id) continue;
      const current = document.getElementById(fresh.id);
      if (!current) continue;
      if (fresh.id !== "presence" && busy(current)) {
        hold(current, fresh, changedBy[fresh.id]);
      } else {
        replace(current, fresh);
      }
    }
  }

  // Held rows are brought up to date as soon as nobody is typing in them.
  function release() {
    for (const [id, fresh] of pending) {
      const current = document.getElementById(id);
      if (!current) pending.delete(id);
      else if (!busy(current)) replace(current, fresh);
    }
  }

  async function poll() {
    timer = null;
    if (document.visibilityState !== "visible" || inFlight) return schedule();
    inFlight = true;
    try {
      const presence = document.getElementById("presence");
      const here = presence ? presence.dataset.digest || "" : "";
      const withPresence = count++ % 4 === 0 ? "&p=1" : "";
      const response = await fetch(
        `${url}?rev=${encodeURIComponent(revision)}&here=${encodeURIComponent(here)}${withPresence}`,
        { credentials: "same-origin", headers: { "HX-Request": "true", "X-Live-Ticket": ticket } },
      );
      if (response.status === 200) {
        if (response.headers.get("X-Live-Reload") === "1") {
          if (!document.querySelector("[data-dirty]")) window.location.reload();
        } else {
          let changedBy = {};
          try {
            changedBy = JSON.parse(response.headers.get("X-Live-Changed-By") || "{}");
          } catch {
            changedBy = {};
          }
          apply(await response.text(), changedBy);
          revision = response.headers.get("X-Room-Revision") || revision;
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
    if (!timer) timer = setTimeout(poll, INTERVAL);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !timer) poll();
  });
  schedule();
})();
