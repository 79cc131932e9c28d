"""The table's rows as HTML, built in Python: 50 rows with a dozen cells each are the
bulk of the page, and Django's template engine resolving ~60 variables per row took
several times longer than the queries behind them. Every value goes through
``escape``; the markup is the same the template would write."""

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe

from plans.health import SLIPPING_DAYS
from rooms.templatetags.humanize_lite import money


def _progress(p, side):
    if not p["total"]:
        return '<span class="muted small">none</span>'
    return (
        f'<div class="progress-cell" title="{p["done"]} of {p["total"]} {side}-side tasks done">'
        f'<span class="progress-num">{p["done"]}/{p["total"]}</span>'
        # An SVG bar: its width is an attribute, not an inline style (which the
        # Content-Security-Policy refuses).
        '<svg class="progress" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect class="progress-bar progress-{side}" width="{p["pct"]}" height="1"></rect>'
        "</svg></div>"
    )


def _day(d):
    return f"{d:%b} {d.day}, {d.year}"


def _schedule(row):
    """The projected close and slip cells."""
    room = row.room
    if row.slip is None:
        dash = '<td class="muted">—</td>'
        return dash + dash
    days = room.slip_days
    css = "slip-on-time"
    if days > SLIPPING_DAYS:
        css = "slip-bad"
    elif days > 0:
        css = "slip-late"
    title = f"Target close {_day(room.target_close_date)}"
    return (
        f'<td class="nowrap">{_day(room.projected_close_date)}</td>'
        f'<td class="nowrap"><span class="slip {css}" title="{title}">{row.slip}</span></td>'
    )


def row_html(row):
    room, sig = row.room, row.signals
    css = "dash-row"
    if room.alerted_count:
        css += " attention-alerted"
    elif room.flagged_count:
        css += " attention-flagged"
    badges = ""
    if sig.badges:
        badges = (
            '<div class="dash-badges">'
            + "".join(
                f'<span class="badge badge-{key}" title="{escape(help)}">{escape(label)}</span>'
                for key, label, help in sig.badge_items
            )
            + "</div>"
        )
    if sig.has_map:
        progress = (
            f"<td>{_progress(row.buyer, 'buyer')}</td><td>{_progress(row.seller, 'seller')}</td>"
        )
    else:
        progress = '<td colspan="2" class="muted small">No plan yet</td>'
    overdue = ""
    if room.alerted_count:
        overdue += (
            f'<span class="badge badge-bad" title="Tasks 7+ days overdue">'
            f"{room.alerted_count} alerted</span> "
        )
    if room.flagged_count:
        overdue += (
            f'<span class="badge badge-warn" title="Tasks 3+ days overdue">'
            f"{room.flagged_count} flagged</span>"
        )
    overdue = overdue or '<span class="muted">—</span>'
    blocker = '<span class="muted">—</span>'
    if row.blocker is not None:
        blocked = (
            ' · <strong class="blocked">blocked</strong>' if row.blocker.status == "blocked" else ""
        )
        blocker = (
            f'<span class="blocker-title">{escape(row.blocker.title)}</span>'
            f'<div class="muted small">{escape(row.blocker_detail)}{blocked}</div>'
        )
    if row.activity:
        at = date_format(sig.last_buyer_interaction_at, "M j, Y H:i")
        activity = f'<span title="{at}">{row.activity}</span>'
    else:
        activity = '<span class="muted">never</span>'
    if row.check_in:
        at = date_format(sig.last_check_in_at, "M j, Y H:i")
        check_in = f'<span title="{at}">{row.check_in}</span>'
    else:
        check_in = '<span class="muted">never</span>'
    owner = escape(room.owner.display_name) if room.owner else "—"
    return mark_safe(
        f'<tr class="{css}">'
        f'<td class="col-deal"><a href="{reverse("plans:room", args=[room.pk])}" '
        f'class="deal-link">{escape(room.name)}</a>'
        f'<div class="muted small">{escape(room.buyer_company)}</div>{badges}</td>'
        f'<td><span class="health health-{sig.health_band}" title="{escape(sig.health_explained)}" '
        f'tabindex="0"><span class="visually-hidden">Health </span>{sig.health_score}'
        f'<span class="visually-hidden"> of 100, {sig.health_band_label}</span></span></td>'
        f"<td>{owner}</td>"
        f'<td class="num">{escape(money(room.value, room.currency))}</td>'
        f"<td>{escape(room.get_stage_display())}</td>"
        f'<td class="nowrap">{_day(room.target_close_date)}</td>'
        f"{_schedule(row)}"
        f"{progress}"
        f'<td class="nowrap">{overdue}</td>'
        f'<td class="col-blocker">{blocker}</td>'
        f'<td class="nowrap">{activity}</td>'
        f'<td class="nowrap">{check_in}</td>'
        "</tr>"
    )
