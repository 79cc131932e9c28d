"""Create the demo organisation and its sample room, once.

Re-running keeps everything as it is and prints the demo sign-in again.
"""

import datetime

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Role, User
from accounts.services import org_create
from plans import services as plan_services
from plans.models import TaskStatus
from rooms.models import Room, Stage, Weekday
from rooms.services import Actor, room_create
from stakeholders.models import DecisionRole, Influence, Side, Track
from stakeholders.services import stakeholder_create

DEMO_EMAIL = "demo@northwind.example"
DEMO_PASSWORD = "northwind-demo-2026"
MANAGER_EMAIL = "manager@northwind.example"


class Command(BaseCommand):
    help = "Create the demo organisation (Northwind Software) and a sample room, once."

    def handle(self, *args, **options):
        if User.objects.filter(email=DEMO_EMAIL).exists():
            self.stdout.write("Demo data already present; left as it is.")
        else:
            with transaction.atomic():
                self._create()
            self.stdout.write(self.style.SUCCESS("Demo organisation Northwind Software created."))
        if apps.is_installed("documents"):
            # Shared documents live in an app above this one: run its own step, by name.
            call_command("seed_demo_documents", stdout=self.stdout)
        self.stdout.write(f"Demo seller:  {DEMO_EMAIL}  /  password: {DEMO_PASSWORD}")
        self.stdout.write(f"Demo manager: {MANAGER_EMAIL}  /  password: {DEMO_PASSWORD}")

    def _create(self):
        org, seller = org_create(
            name="Northwind Software",
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            user_name="Sarah Kim",
        )
        manager = User.objects.create_user(
            email=MANAGER_EMAIL, password=DEMO_PASSWORD, name="Morgan Lee"
        )
        Membership.objects.create(org=org, user=manager, role=Role.MANAGER)
        membership = Membership.objects.get(org=org, user=seller)
        actor = Actor(user=seller)

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
