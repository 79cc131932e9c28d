"""The activity log by day, in the room's timezone: a heading per day ("Today",
"Mon 30 Nov"), each entry's relative time ("5 min ago", "yesterday 14:05") and its
sentence (rooms/activity_text.py).
"""

import datetime
from dataclasses import dataclass

from .activity_text import describe
from .activity_words import Line
from .models import ActivityEvent


def relative_time(moment, *, now, tz) -> str:
    """When, as people say it beside a day heading: "just now", "5 min ago", "2 h ago"
    (today), "yesterday 14:05"; otherwise the clock time ("14:05") under its day."""
    local, local_now = moment.astimezone(tz), now.astimezone(tz)
    seconds = (now - moment).total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if 0 <= seconds < 12 * 3600 and local.date() == local_now.date():
        return f"{int(seconds // 3600)} h ago"
    if local.date() == local_now.date() - datetime.timedelta(days=1):
        return f"yesterday {local:%H:%M}"
    return f"{local:%H:%M}"


def day_heading(day, *, today) -> str:
    """ "Today", "Yesterday", "Mon 30 Nov" (with its year when not this year's)."""
    if day == today:
        return "Today"
    if day == today - datetime.timedelta(days=1):
        return "Yesterday"
    year = "" if day.year == today.year else f" {day.year}"
    return f"{day:%a} {day.day} {day:%b}{year}"


@dataclass
class Entry:
    event: ActivityEvent
    line: Line
    when: str  # relative
    at: datetime.datetime  # in the room's timezone

    @property
    def iso(self):
        return self.at.isoformat(timespec="minutes")

    @property
    def title(self):
        return f"{self.at:%a} {self.at.day} {self.at:%b %Y, %H:%M} ({self.at.tzname()})"


@dataclass
class Day:
    heading: str
    date: datetime.date
    entries: list


def activity_days(events, *, tz, now, room_name="") -> list:
    """``events`` (newest first) as days, each with its heading and entries in words."""
    today = now.astimezone(tz).date()
    days = []
    for event in events:
        at = event.created_at.astimezone(tz)
        if not days or days[-1].date != at.date():
            days.append(Day(day_heading(at.date(), today=today), at.date(), []))
        line = describe(event, room_name=room_name)
        days[-1].entries.append(
            Entry(event, line, relative_time(event.created_at, now=now, tz=tz), at)
        )
    return days
