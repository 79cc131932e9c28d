"""The managers' dashboard: every open room of the scope with its MAP signals, badges
and health, the KPIs above it, and a CSV export of the filtered list."""

import csv
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.membership import member_required
from plans.health import BADGES

from .charts import line_chart
from .kpis import kpis_for
from .selectors import (
    COLUMNS,
    PAGE_SIZE,
    DashboardFilters,
    dashboard_rooms,
    owners_for,
    rows_of,
)

PAGE = "dashboard/index.html"


def _today(now):
    # The "blocker" sort compares every room with one date (UTC); each row's blocker is
    # decided in its room's own timezone (plans.health.blocker_id).
    return now.date()


def _query(state, **override):
    merged = {**state, **override}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def _state(request, owners):
    form = DashboardFilters(request.GET if request.GET else None, owners=owners)
    return form, form.state()


@require_GET
@member_required
def dashboard(request):
    membership = request.membership
    now = timezone.now()
    today = _today(now)
    owners = owners_for(membership)
    form, state = _state(request, owners)
    rooms = dashboard_rooms(membership, state, now=now, today=today)
    page = Paginator(rooms, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = rows_of(page.object_list, now=now)
    sort = state["sort"]
    columns = []
    for key, label in COLUMNS.items():
        current = sort.lstrip("-") == key
        descending = current and sort.startswith("-")
        columns.append(
            {
                "key": key,
                "label": label,
                "current": current,
                "descending": descending,
                "query": _query(state, sort=f"-{key}" if current and not descending else key),
            }
        )
    context = {
        "form": form,
        "state": state,
        "page": page,
        "rows": rows,
        "columns": columns,
        "page_query": _query(state, page=None),
        "export_query": _query(state, sort=sort),
        "filtered": bool(set(state) - {"sort"}),
        "filter_errors": [
            (str(form.fields[name].label) if name in form.fields else "", error)
            for name, errors in (form.errors.items() if form.is_bound else [])
            for error in errors
        ],
        "org_wide": membership.sees_whole_org,
        "now": now,
    }
    if request.htmx and request.headers.get("HX-Target") == "dashboard-table":
        response = render(request, f"{PAGE}#table", context)
        # The same URL answers a fragment or the page: caches must keep them apart.
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        # The address bar shows the state as used: no empty fields, no ignored ones.
        response["HX-Push-Url"] = f"{request.path}?{_query(state, page=page.number)}"
        return response
    owner_id = None if membership.sees_whole_org else membership.user_id
    context["kpis"] = _kpi_cards(kpis_for(org_id=membership.org_id, owner_id=owner_id, now=now))
    response = render(request, PAGE, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _kpi_cards(kpis):
    s, points, counts = kpis["series"], kpis["points"], kpis["counts"]
    return [
        {
            "title": "MAP coverage",
            "value": s["coverage"][-1],
            "unit": "%",
            "detail": f"{kpis['agreed_now']} of {kpis['open_now']} open rooms have a plan "
            "the buyer agreed to",
            "chart": line_chart([("s-main", "Coverage", s["coverage"])], points=points, top=100),
        },
        {
            "title": "Task completion",
            "value": s["completion"][-1],
            "unit": "%",
            "detail": f"{kpis['tasks_done_now']} of {kpis['tasks_due_now']} tasks due by now "
            "are done",
            "chart": line_chart(
                [("s-main", "Completion", s["completion"])], points=points, top=100
            ),
        },
        {
            "title": "Win rate: engaged vs not",
            "value": s["win_engaged"][-1],
            "unit": "%",
            "second": s["win_other"][-1],
            "detail": f"Last 12 weeks: {counts['engaged'][-1]} closed with buyer engagement, "
            f"{counts['other'][-1]} without",
            "chart": line_chart(
                [
                    ("s-main", "With buyer engagement", s["win_engaged"]),
                    ("s-other", "Without", s["win_other"]),
                ],
                points=points,
                top=100,
            ),
        },
        {
            "title": "Plan to close",
            "value": s["days"][-1],
            "unit": " days",
            "detail": f"Median over {counts['closed'][-1]} deals closed in the last 12 weeks",
            "chart": line_chart([("s-main", "Median days", s["days"])], points=points, unit="d"),
        },
    ]


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "Deal",
    "Buyer",
    "Owner",
    "Value",
    "Currency",
    "Stage",
    "Target close",
    "Projected close",
    "Slip days",
    "Buyer tasks done",
    "Buyer tasks",
    "Seller tasks done",
    "Seller tasks",
    "Flagged",
    "Alerted",
    "Current blocker",
    "Blocker owner",
    "Last buyer activity",
    "Last check-in",
    "Health",
    "Badges",
    "Link",
]


def _cell(value):
    """Spreadsheets run cells that start with = + - @ as formulas: keep them text (a
    number is never one: a negative slip stays a number)."""
    if isinstance(value, int):
        return str(value)
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@require_GET
@member_required
def export_csv(request):
    """The filtered list (every row, not one page), streamed in chunks of 500 rooms."""
    membership = request.membership
    now = timezone.now()
    today = _today(now)
    _, state = _state(request, owners_for(membership))
    rooms = dashboard_rooms(membership, state, now=now, today=today)
    base = settings.SITE_URL  # links from the configured address, never the Host header
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(CSV_HEADER)
        chunk = []
        for room in rooms.iterator(chunk_size=500):
            chunk.append(room)
            if len(chunk) == 500:
                yield from _csv_rows(writer, chunk, now, base)
                chunk = []
        if chunk:
            yield from _csv_rows(writer, chunk, now, base)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = now.strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="deal-dashboard-{stamp}.csv"'
    return response


def _csv_rows(writer, rooms, now, base):
    for row in rows_of(rooms, now=now):
        room, sig = row.room, row.signals
        blocker = sig.current_blocker
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    room.name,
                    room.buyer_company,
                    room.owner.display_name if room.owner else "",
                    room.value,
                    room.currency,
                    room.get_stage_display(),
                    room.target_close_date.isoformat(),
                    room.projected_close_date.isoformat() if room.projected_close_date else "",
                    room.slip_days if room.projected_close_date else "",
                    sig.buyer_tasks_done,
                    sig.buyer_tasks_total,
                    sig.seller_tasks_done,
                    sig.seller_tasks_total,
                    sig.flagged_count,
                    sig.alerted_count,
                    blocker.title if blocker else "",
                    blocker.owner.name if blocker and blocker.owner else "",
                    sig.last_buyer_interaction_at.isoformat(timespec="minutes")
                    if sig.last_buyer_interaction_at
                    else "",
                    sig.last_check_in_at.isoformat(timespec="minutes")
                    if sig.last_check_in_at
                    else "",
                    sig.health_score,
                    "; ".join(BADGES[b] for b in sig.badges),
                    base + reverse("plans:room", args=[room.pk]),
                )
            ]
        )
