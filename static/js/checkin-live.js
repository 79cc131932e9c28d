// The check-in page follows the room: every few seconds it asks the room's live poll
// "anything after revision N?"; when the answer is yes (a mark made here or on another
// screen, a task done in the buyer's room), the page is fetched again and its review
// and check-ins list are swapped in. A part the person is in (focus, typing) is left
// alone until focus leaves it. See docs/CHECKINS.md.
(() => {
  const root = document.getElementById("ci-live");
  if (!root) return;
  const PARTS = ["ci-review", "history"];
  let revision = Number(root.dataset.revision);
  let stale = false;

  function inUse() {
    const active = document.activeElement;
    return PARTS.some((id) => {
      const part = document.getElementById(id);
      return part && active && active !== document.body && part.contains(active);
    });
  }

  async function refresh() {
    if (inUse()) {
      stale = true;
      return;
    }
    stale = false;
    // The same page as seen from when the call began: the finish form's "since" is the
    // room's revision then, so what changed during the call stays in it.
    const url = new URL(window.location.href);
    url.hash = "";
    const since = document.querySelector(".ci-finish input[name=since]");
    if (since) url.searchParams.set("since", since.value);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    if (inUse()) {
      // Focus moved into the part while the page was on its way: swap it later.
      stale = true;
      return;
    }
    for (const id of PARTS) {
      const fresh = page.getElementById(id);
      const current = document.getElementById(id);
      if (!fresh || !current) continue;
      const adopted = document.importNode(fresh, true);
      current.replaceWith(adopted);
      if (window.htmx) window.htmx.process(adopted);
    }
    const announce = document.getElementById("announce");
    if (announce) announce.textContent = "The check-in was updated.";
  }

  async function poll() {
    try {
      const response = await fetch(`${root.dataset.liveUrl}?rev=${revision}`, {
        credentials: "same-origin",
        headers: { "X-Live-Ticket": root.dataset.liveTicket },
      });
      if (response.status === 200) {
        revision = Number(response.headers.get("X-Room-Revision")) || revision;
        await refresh();
      } else if (response.status !== 204) {
        return; // the ticket expired or the link was revoked: a reload says what next
      }
    } catch (error) {
      // offline for a moment: try again on the next beat
    }
    window.setTimeout(poll, Number(root.dataset.every || 3000));
  }

  document.addEventListener("focusout", () => {
    window.setTimeout(() => {
      if (stale && !inUse()) refresh();
    }, 0);
  });
  window.setTimeout(poll, Number(root.dataset.every || 3000));
})();
