"""The activity log's wording: each entry read as a sentence a buyer or seller would say,
with dates as people write them and nothing internal (ids, versions, positions, the
overdue sweep's levels)."""

import datetime
from zoneinfo import ZoneInfo

from rooms.activity_days import day_heading, relative_time
from rooms.activity_text import describe
from rooms.models import ActivityEvent, ActorKind

V = ActivityEvent.Verb
MADE = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC)  # dates of 2027 need no year


def entry(verb, target_type="task", label="Security questionnaire", changes=None, **kw):
    kw.setdefault("actor_kind", ActorKind.USER)
    kw.setdefault("actor_label", "Sarah Kim")
    kw.setdefault("created_at", MADE)
    return ActivityEvent(
        verb=verb,
        target_type=target_type,
        target_id=kw.pop("target_id", "42"),
        target_label=label,
        changes=changes or {},
        **kw,
    )


def change(label, before, after):
    return {"label": label, "from": before, "to": after}


def text(event):
    return describe(event).text


# --- the three entries people complained about -----------------------------------------


def test_a_new_decision_criterion_reads_as_one():
    event = entry(
        V.CREATED,
        "decisioncriterion",
        "SSO support",
        {"title": change("Criterion", "", "SSO support")},
    )
    assert text(event) == "Sarah Kim added the decision criterion SSO support"
    assert describe(event).html == ("Sarah Kim added the decision criterion <em>SSO support</em>")


def test_agreeing_to_the_plan_says_it_once():
    event = entry(
        V.AGREED,
        "plan",
        "the plan",
        actor_kind=ActorKind.STAKEHOLDER,
        actor_label="David Chen (Buyer)",
    )
    line = describe(event)
    assert line.text == "David Chen (buyer) agreed to the plan"
    assert line.actor == "David Chen" and line.actor_side == "buyer"


def test_the_overdue_level_of_a_new_task_is_never_shown():
    event = entry(
        V.CREATED,
        changes={
            "title": change("Action", "", "Security questionnaire"),
            "due_date": change("Due", "", "2027-03-03"),
            "status": change("Status", "", "Not started"),
            "side": change("Side", "", "Buyer"),
            "overdue_level": change("Overdue level", "", "0"),
            "agreed_due_date": change("Agreed due date", "", "2027-03-03"),
        },
    )
    line = describe(event)
    assert line.text == "Sarah Kim added the task Security questionnaire"
    details = " ".join(line.details_text)
    assert "Due 3 Mar" in details and "Buyer" in details
    assert "Overdue" not in details and "0" not in details.replace("2027", "")
    assert "Agreed" not in details and "2027-03-03" not in details


# --- changes of one field -----------------------------------------------------------------


def test_a_moved_due_date_reads_as_a_move_with_short_dates():
    event = entry(
        V.UPDATED,
        label="Legal review",
        changes={"due_date": change("Due", "2027-03-03", "2027-03-10")},
        actor_label="Maria Lopez",
    )
    assert text(event) == "Maria Lopez moved Legal review from 3 Mar to 10 Mar"


def test_a_date_in_another_year_keeps_its_year():
    event = entry(
        V.UPDATED,
        "milestone",
        "Go live",
        {"target_date": change("Target date", "2027-12-20", "2028-01-10")},
    )
    line = text(event)
    assert line.startswith("Sarah Kim moved the milestone Go live from 20 Dec to 10 Jan 2028")


def test_a_task_marked_done():
    event = entry(
        V.UPDATED,
        label="Sign the contract",
        changes={"status": change("Status", "In progress", "Done")},
        actor_label="Maria Lopez",
    )
    assert text(event) == "Maria Lopez marked Sign the contract done"


def test_other_statuses_use_their_labels():
    event = entry(V.UPDATED, changes={"status": change("Status", "Not started", "Blocked")})
    assert text(event) == "Sarah Kim marked Security questionnaire blocked (was not started)"


def test_a_new_owner():
    event = entry(V.UPDATED, changes={"owner": change("Owner", "", "Maria Lopez (Buyer)")})
    assert text(event) == "Sarah Kim made Maria Lopez the owner of Security questionnaire"


def test_a_renamed_task_names_both():
    event = entry(
        V.UPDATED,
        label="Security review",
        changes={"title": change("Action", "Security questionnaire", "Security review")},
    )
    assert text(event) == "Sarah Kim renamed the task Security questionnaire to Security review"


def test_notes_are_quoted_not_diffed():
    event = entry(V.UPDATED, changes={"notes": change("Notes", "", "Waiting for the CISO")})
    line = describe(event)
    assert line.text == "Sarah Kim edited the notes of Security questionnaire"
    assert line.details_text == ["“Waiting for the CISO”"]


def test_a_choice_field_says_from_and_to_by_its_labels():
    event = entry(
        V.UPDATED, "risk", "Budget freeze", {"impact": change("Impact", "Medium", "High")}
    )
    assert (
        text(event) == "Sarah Kim changed the impact of the risk Budget freeze from Medium to High"
    )


def test_the_deals_own_fields_speak_of_the_deal():
    event = entry(
        V.UPDATED,
        "room",
        "Finance automation (Acme Corp)",
        {"target_close_date": change("Target close date", "2027-01-15", "2027-01-29")},
    )
    assert text(event) == "Sarah Kim moved the target close date from 15 Jan to 29 Jan"


def test_several_fields_are_listed_under_one_sentence():
    event = entry(
        V.UPDATED,
        changes={
            "due_date": change("Due", "2027-03-03", "2027-03-10"),
            "status": change("Status", "Not started", "Blocked"),
            "overdue_level": change("Overdue level", "3", "0"),
        },
    )
    line = describe(event)
    assert line.text == "Sarah Kim changed the due date and status of Security questionnaire"
    assert line.details_text == ["Due date: 3 Mar → 10 Mar", "Status: Not started → Blocked"]


def test_an_update_of_internal_fields_only_says_nothing_internal():
    event = entry(V.UPDATED, changes={"overdue_level": change("Overdue level", "3", "0")})
    line = describe(event)
    assert line.text == "Sarah Kim updated Security questionnaire"
    assert line.details_text == []


# --- other verbs ------------------------------------------------------------------------


def test_moving_in_the_list_says_up_or_down_not_positions():
    event = entry(V.MOVED, "milestone", "Legal", {"order": change("Position", "3", "2")})
    assert text(event) == "Sarah Kim moved the milestone Legal up the list"


def test_removed():
    event = entry(
        V.DELETED, "risk", "Budget freeze", {"title": change("Risk", "Budget freeze", "")}
    )
    assert text(event) == "Sarah Kim removed the risk Budget freeze"


def test_a_comment_is_quoted():
    event = entry(
        V.COMMENTED,
        changes={"comment": change("Comment", "", "Sent to legal")},
        actor_kind=ActorKind.STAKEHOLDER,
        actor_label="Maria Lopez (Buyer)",
    )
    line = describe(event)
    assert line.text == "Maria Lopez (buyer) commented on Security questionnaire"
    assert line.details_text == ["“Sent to legal”"]


def test_the_overdue_sweep_speaks_of_days_late():
    one = entry(
        V.FLAGGED,
        label="Review SOC 2",
        changes={"42": {"label": "Review SOC 2", "to": "4 days late", "days": 4}},
        actor_kind=ActorKind.SYSTEM,
        actor_label="mapsite",
    )
    assert text(one) == "mapsite flagged Review SOC 2 as 4 days late"
    many = entry(
        V.ALERTED,
        label="2 tasks",
        target_id="",
        changes={
            "1": {"label": "Review SOC 2", "to": "8 days late", "days": 8},
            "2": {"label": "Sign the DPA", "to": "7 days late", "days": 7},
        },
        actor_kind=ActorKind.SYSTEM,
        actor_label="mapsite",
    )
    line = describe(many)
    assert line.text == "mapsite sent overdue alerts for 2 tasks, a week or more late"
    assert line.details_text == ["Review SOC 2 — 8 days late", "Sign the DPA — 7 days late"]


def test_a_replan_counts_what_moved():
    event = entry(
        V.REPLANNED,
        "plan",
        "the plan: 2 open items moved 7 days later",
        {
            "r": {
                "label": "Target close date",
                "from": "2027-01-15",
                "to": "2027-01-22",
                "field": "target_close_date",
                "version": 3,
            },
            "m": {
                "label": "Legal",
                "from": "2027-01-01",
                "to": "2027-01-08",
                "field": "target_date",
                "version": 2,
            },
        },
    )
    line = describe(event)
    assert line.text == "Sarah Kim moved the plan's open work 7 days later"
    assert line.details_text == ["Target close date: 15 Jan → 22 Jan", "Legal: 1 Jan → 8 Jan"]


def test_links_uploads_and_outcomes():
    link = entry(
        V.LINK_ISSUED,
        "stakeholder",
        "Maria Lopez (Buyer)",
        {"expires": change("Expires", "", "2027-02-01")},
    )
    assert text(link) == "Sarah Kim gave Maria Lopez a personal link to the room"
    assert describe(link).details_text == ["Expires 1 Feb"]
    upload = entry(
        V.UPLOADED,
        "document",
        "soc2.pdf",
        {
            "name": change("Document", "", "soc2.pdf"),
            "size": change("Size", "", "1.2 MB"),
            "task": change("Evidence for", "", "Review SOC 2"),
        },
    )
    assert text(upload) == "Sarah Kim uploaded soc2.pdf"
    assert describe(upload).details_text == ["Evidence for Review SOC 2 · 1.2 MB"]
    won = entry(V.WON, "room", "Signed at the CFO review")
    assert text(won) == "Sarah Kim marked the deal won"
    assert describe(won).details_text == ["“Signed at the CFO review”"]
    template = entry(V.APPLIED_TEMPLATE, "plan", "Enterprise SaaS template")
    assert text(template) == "Sarah Kim started the plan from the Enterprise SaaS template"


def test_every_verb_has_words_and_no_internal_names():
    for verb in V:
        for target_type in ("task", "milestone", "decisioncriterion", "room", "stakeholder"):
            line = describe(entry(verb, target_type, "Thing", {"x": change("X", "a", "b")}))
            assert line.text.startswith("Sarah Kim ")
            assert "decisioncriterion" not in line.text and "_" not in line.text


def test_labels_are_escaped():
    event = entry(V.CREATED, label="<script>x</script>")
    assert "<script>" not in describe(event).html
    assert "&lt;script&gt;" in describe(event).html


# --- time -------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime.datetime(2027, 3, 10, 15, 0, tzinfo=datetime.UTC)  # 16:00 in Berlin


def test_relative_times():
    def ago(**delta):
        return relative_time(NOW - datetime.timedelta(**delta), now=NOW, tz=BERLIN)

    assert ago(seconds=20) == "just now"
    assert ago(minutes=5) == "5 min ago"
    assert ago(hours=2) == "2 h ago"
    assert ago(hours=15, minutes=30) == "00:30"  # today, past midnight in Berlin
    assert ago(hours=20) == "yesterday 20:00"
    assert ago(days=3) == "16:00"  # under its day's heading


def test_day_headings():
    today = datetime.date(2027, 3, 10)
    assert day_heading(today, today=today) == "Today"
    assert day_heading(datetime.date(2027, 3, 9), today=today) == "Yesterday"
    assert day_heading(datetime.date(2027, 3, 1), today=today) == "Mon 1 Mar"
    assert day_heading(datetime.date(2026, 11, 30), today=today) == "Mon 30 Nov 2026"


def test_a_new_person_is_summed_up_without_the_forms_defaults():
    event = entry(
        V.CREATED,
        "stakeholder",
        "Priya Nair (Buyer)",
        {
            "name": change("Name", "", "Priya Nair"),
            "email": change("Email", "", "priya@acme.example"),
            "title": change("Job title", "", "CISO"),
            "role": change("Role", "", "Security"),
            "influence": change("Influence", "", "Medium"),
            "approval_authority": change("Approval authority", "", "yes"),
            "scope": change("Sees", "", "Whole plan"),
        },
    )
    line = describe(event)
    assert line.text == "Sarah Kim added Priya Nair to the buyer's people"
    assert line.details_text == ["CISO · Role Security · Signs off"]
