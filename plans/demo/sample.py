"""The demo's sample room: Acme Corp's finance automation deal, its six people on both
sides, a plan of five milestones in a chain with their tasks (some done, one blocked,
two late), criteria and a risk; the plan made four weeks ago and worked through since
(its history moved back in time)."""

import datetime
import zoneinfo

from django.utils import timezone

from rooms.models import Room, Stage, Weekday
from rooms.services import room_create
from stakeholders.models import DecisionRole, Influence, Side, Track
from stakeholders.services import stakeholder_create

from .. import services as plan_services
from ..models import Milestone, Plan, Task, TaskStatus
from . import DEMO_EMAIL


def sample_room_create(*, membership, actor):
    """The sample room, written through the services by the demo seller (``actor``)."""
    room = Room(timezone="America/New_York")
    today = room.today()
    close = today + datetime.timedelta(days=45)
    room = room_create(
        membership=membership,
        actor=actor,
        name="Acme Corp — Finance automation",
        buyer_company="Acme Corp",
        value=84000,
        currency="USD",
        stage=Stage.EVALUATION,
        target_close_date=close,
        close_reason="Budget is released with the new fiscal year; rollout must start in Q1.",
        go_live_date=close + datetime.timedelta(days=30),
        goal="Cut month-end close from 10 days to 4 by the end of Q2, without new headcount.",
        timezone="America/New_York",
        review_weekday=Weekday.MONDAY,
        review_time=datetime.time(10, 0),
        review_duration_minutes=15,
    )

    def person(
        name,
        side,
        role,
        title,
        email,
        track=Track.BUSINESS,
        influence=Influence.MEDIUM,
        approves=False,
    ):
        return stakeholder_create(
            actor=actor,
            room=room,
            name=name,
            side=side,
            role=role,
            title=title,
            email=email,
            track=track,
            influence=influence,
            approval_authority=approves,
        )

    maria = person(
        "Maria Lopez",
        Side.BUYER,
        DecisionRole.CHAMPION,
        "VP Finance Operations",
        "maria.lopez@acme.example",
        influence=Influence.HIGH,
    )
    david = person(
        "David Chen",
        Side.BUYER,
        DecisionRole.ECONOMIC_BUYER,
        "CFO",
        "david.chen@acme.example",
        influence=Influence.HIGH,
        approves=True,
    )
    priya = person(
        "Priya Nair",
        Side.BUYER,
        DecisionRole.SECURITY,
        "Head of Information Security",
        "priya.nair@acme.example",
        track=Track.SECURITY,
        approves=True,
    )
    sarah = person(
        "Sarah Kim",
        Side.SELLER,
        DecisionRole.ACCOUNT_EXECUTIVE,
        "Account Executive",
        DEMO_EMAIL,
        influence=Influence.HIGH,
    )
    tom = person(
        "Tom Becker",
        Side.SELLER,
        DecisionRole.SALES_ENGINEER,
        "Solutions Engineer",
        "tom.becker@northwind.example",
        track=Track.TECHNICAL,
    )
    lena = person(
        "Lena Fischer",
        Side.SELLER,
        DecisionRole.OTHER,
        "Deal Desk & Legal",
        "lena.fischer@northwind.example",
        track=Track.LEGAL,
    )

    plan = plan_services.plan_start(actor=actor, room=room, template_slug="empty")

    def day(offset):
        return today + datetime.timedelta(days=offset)

    outline = [
        (
            "Technical validation complete",
            day(-5),
            Side.BUYER,
            Track.TECHNICAL,
            "Evaluation summary signed off by Maria",
            [
                (
                    "Kick-off call and agree evaluation criteria",
                    sarah,
                    day(-20),
                    "done",
                    "Criteria doc shared",
                    "Criteria doc v2 in the shared folder",
                ),
                ("Set up sandbox with Acme sample data", tom, day(-14), "done", "", ""),
                (
                    "Run evaluation against agreed criteria",
                    maria,
                    day(-6),
                    "done",
                    "All 9 criteria met",
                    "Evaluation summary PDF, signed off by Maria",
                ),
            ],
        ),
        (
            "Security review complete",
            day(10),
            Side.BUYER,
            Track.SECURITY,
            "Sign-off email from Priya Nair (infosec)",
            [
                (
                    "Send SOC 2 report and questionnaire answers",
                    tom,
                    day(-9),
                    "done",
                    "SOC 2 Type II sent",
                    "Email to Priya with SOC 2 report",
                ),
                (
                    "Review security documentation",
                    priya,
                    day(-5),
                    "in_progress",
                    "Two questions open on data residency",
                    "",
                ),
                (
                    "Answer follow-up security questions",
                    tom,
                    day(4),
                    "blocked",
                    "Waiting for Priya's list of questions",
                    "",
                ),
            ],
        ),
        (
            "Business case approved",
            day(20),
            Side.BUYER,
            Track.BUSINESS,
            "David Chen's written approval of the business case",
            [
                (
                    "Draft business case with ROI model",
                    sarah,
                    day(-9),
                    "in_progress",
                    "Needs Acme's close-cost numbers",
                    "",
                ),
                (
                    "Present business case to the CFO",
                    maria,
                    day(18),
                    "not_started",
                    "Meeting requested",
                    "",
                ),
            ],
        ),
        (
            "Legal review complete",
            day(35),
            Side.BUYER,
            Track.LEGAL,
            "Redlined MSA agreed by both legal teams",
            [
                (
                    "Send MSA and order form",
                    lena,
                    day(15),
                    "not_started",
                    "MSA template ready",
                    "",
                ),
                ("Return redlines", maria, day(28), "not_started", "", ""),
            ],
        ),
        (
            "Contract signed",
            close,
            Side.BUYER,
            Track.PROCUREMENT,
            "Countersigned contract and purchase order",
            [
                (
                    "Send contract for e-signature",
                    lena,
                    close - datetime.timedelta(days=2),
                    "not_started",
                    "e-signature",
                    "",
                ),
                ("Sign the contract", david, close, "not_started", "", ""),
            ],
        ),
    ]
    previous = None
    for title, target, lead, track, condition, tasks in outline:
        milestone = plan_services.milestone_create(
            actor=actor,
            room=room,
            plan=plan,
            title=title,
            target_date=target,
            lead_side=lead,
            track=track,
            completion_condition=condition,
        )
        if previous is not None:
            plan_services.milestone_update(
                actor=actor,
                room=room,
                milestone_id=milestone.pk,
                base_version=milestone.version,
                changes={},
                depends_on=[previous],
            )
        previous = milestone
        for t_title, owner, due, status, notes, evidence in tasks:
            task = plan_services.task_create(
                actor=actor,
                room=room,
                milestone=milestone,
                title=t_title,
                owner=owner,
                due_date=due,
                notes=notes,
                evidence=evidence,
            )
            if status != TaskStatus.NOT_STARTED:
                plan_services.task_update(
                    actor=actor,
                    room=room,
                    task_id=task.pk,
                    base_version=task.version,
                    changes={"status": status},
                )
    _backdate_plan(room, plan, days=28)
    plan_services.criterion_create(
        actor=actor,
        room=room,
        plan=plan,
        title="Integrates with NetSuite without custom code",
        notes="Shown in the evaluation sandbox",
    )
    plan_services.criterion_create(
        actor=actor,
        room=room,
        plan=plan,
        title="Close time of 4 days or less in the pilot month",
    )
    plan_services.risk_create(
        actor=actor,
        room=room,
        plan=plan,
        title="CFO travels most of December",
        impact="high",
        mitigation="Book the presentation slot now; prepare a 10-minute recorded walkthrough",
        owner=maria,
    )


def _backdate_plan(room, plan, *, days):
    """The plan was made ``days`` ago and worked through since: its items were created
    then (so the overdue sweep flags what is late today, as it never flags work that was
    late when it was planned), and each done task was done on its due date (its
    milestone when its last task was)."""
    started = timezone.now() - datetime.timedelta(days=days)
    Plan.objects.filter(pk=plan.pk).update(created_at=started)
    Milestone.objects.for_room(room).update(created_at=started)
    Task.objects.for_room(room).update(created_at=started)
    zone = zoneinfo.ZoneInfo(room.timezone)
    done_on = {}
    for task in Task.objects.for_room(room).filter(status=TaskStatus.DONE):
        moment = datetime.datetime.combine(task.due_date, datetime.time(15), zone)
        Task.objects.filter(pk=task.pk).update(completed_at=moment)
        done_on[task.milestone_id] = max(done_on.get(task.milestone_id, moment), moment)
    last = None
    for milestone in Milestone.objects.for_room(room).filter(completed_at__isnull=False):
        moment = done_on.get(milestone.pk, milestone.completed_at)
        Milestone.objects.filter(pk=milestone.pk).update(completed_at=moment)
        last = max(last or moment, moment)
    if last is not None:
        Room.objects.filter(pk=room.pk).update(last_milestone_completed_at=last)
