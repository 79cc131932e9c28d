"""Live updates for everyone in a room (sellers and buyers).

A viewer polls about once a second with the room revision its page shows and the
signed "live ticket" its page was given (who it is, for which room). Nothing changed:
204, after one SQL query (which also re-checks access: a revoked link or a removed
member is refused at once) and no session read. Every fourth poll also refreshes
"who's here" in the shared cache. Something changed:
200 with fresh HTML of just the rows and sections that changed since that revision
(read from the activity log), the new revision in ``X-Room-Revision`` and who made
each change in ``X-Live-Changed-By``. static/js/live.js swaps them in, except where
the viewer is typing or has a conflict card open. A missed poll heals itself: the next
one asks from the revision the page has. Who is here is kept in the shared cache, never
in process memory.

Each page names its window (``w``, see rooms/actors.py): a change made from that window
is not sent back to it, and every other window gets it, the same person's included.

The package, by concern: the signed tickets and the one query of a "nothing changed"
poll (``tickets``), who is here (``presence``), what changed since a revision, read
from the activity log (``changes``), the fragments each side's page gets redrawn with
(``fragments``), and the two poll views that put them together (``polls``).
"""
