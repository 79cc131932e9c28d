"""The rest of the demo organisation's deals, built through the services and then moved
back in time, so the dashboard shows deals of different ages and its 12-week charts
have something to show."""

import datetime

from django.db.models import F
from django.utils import timezone

from rooms.actors import Actor
from rooms.models import Outcome, Room, Stage
from rooms.services import room_close, room_create
from stakeholders.links import BuyerAccess, link_issue, view_record
from stakeholders.models import DecisionRole, Side, ViewEvent
from stakeholders.services import stakeholder_create

from .. import services as plan_services
from ..models import Milestone, OverdueLevel, Plan, Task, TaskStatus


def _backdate_views(room, *, days):
    ViewEvent.objects.filter(room=room).update(
        created_at=F("created_at") - datetime.timedelta(days=days)
    )


class Pipeline:
    """The rest of the demo organisation's deals. Each is built through the services,
    then its history is moved back in time (creation, plan, agreement, completions,
    close), so the dashboard shows deals of different ages and the KPIs have 12 weeks
    of points."""

    def __init__(self, *, membership, rep_membership):
        self.memberships = {"sarah": membership, "jordan": rep_membership}
        self.now = timezone.now()

    def ago(self, days):
        return self.now - datetime.timedelta(days=days)

    def room(self, who, name, buyer, value, stage, close_in, *, started_days_ago):
        membership = self.memberships[who]
        actor = Actor(user=membership.user)
        room = room_create(
            membership=membership,
            actor=actor,
            name=f"{buyer} — {name}",
            buyer_company=buyer,
            value=value,
            stage=stage,
            target_close_date=self.now.date() + datetime.timedelta(days=close_in),
        )
        Room.objects.filter(pk=room.pk).update(created_at=self.ago(started_days_ago))
        return room, actor

    def people(self, room, actor, *, approver=True):
        champion = stakeholder_create(
            actor=actor,
            room=room,
            name="Alex Rivera",
            side=Side.BUYER,
            role=DecisionRole.CHAMPION,
            email=f"alex@{room.buyer_company.lower().split()[0]}.example",
        )
        seller = stakeholder_create(
            actor=actor,
            room=room,
            name=actor.user.display_name,
            side=Side.SELLER,
            role=DecisionRole.ACCOUNT_EXECUTIVE,
            email=actor.user.email,
        )
        boss = None
        if approver:
            boss = stakeholder_create(
                actor=actor,
                room=room,
                name="Jamie Walsh",
                side=Side.BUYER,
                role=DecisionRole.ECONOMIC_BUYER,
                approval_authority=True,
                email=f"jamie@{room.buyer_company.lower().split()[0]}.example",
            )
        return champion, boss, seller

    def plan(self, room, actor, champion, seller, *, days_ago, done=1, vague=False, blocked=False):
        # One recount of the room when its plan is written, not one per write.
        with plan_services.plan_recounts_deferred():
            plan, tasks = self._plan_rows(
                room,
                actor,
                champion,
                seller,
                days_ago=days_ago,
                done=done,
                vague=vague,
                blocked=blocked,
            )
        Plan.objects.filter(pk=plan.pk).update(created_at=self.ago(days_ago))
        Task.objects.for_room(room).update(created_at=self.ago(days_ago))
        for index, task in enumerate(tasks[:done]):
            Task.objects.filter(pk=task.pk).update(
                completed_at=self.ago(max(days_ago - 6 * (index + 1), 1))
            )
        return plan, tasks

    def _plan_rows(self, room, actor, champion, seller, *, days_ago, done, vague, blocked):
        plan = plan_services.plan_start(actor=actor, room=room, template_slug="empty")
        milestones = []
        for index, (title, condition) in enumerate(
            [
                ("Technical validation", "Evaluation summary signed by the champion"),
                ("Security review", "" if vague else "Sign-off email from the CISO"),
                ("Contract signed", "Countersigned order form"),
            ]
        ):
            milestones.append(
                plan_services.milestone_create(
                    actor=actor,
                    room=room,
                    plan=plan,
                    title=title,
                    completion_condition=condition,
                    target_date=room.target_close_date - datetime.timedelta(days=20 - 8 * index),
                )
            )
        tasks = []
        for index, (title, milestone, side_owner, due) in enumerate(
            [
                # Due dates follow the plan's age, so the KPI history has points.
                ("Kick-off and success criteria", milestones[0], seller, -(days_ago * 3 // 4)),
                ("Sandbox with sample data", milestones[0], champion, -(days_ago // 3)),
                ("Security questionnaire", milestones[1], champion, 6),
                ("Order form sent", milestones[2], seller, 14),
            ]
        ):
            task = plan_services.task_create(
                actor=actor,
                room=room,
                milestone=milestone,
                title=title,
                owner=side_owner,
                due_date=self.now.date() + datetime.timedelta(days=due),
            )
            tasks.append(task)
            status = None
            if index < done:
                status = TaskStatus.DONE
            elif blocked and index == done:
                status = TaskStatus.BLOCKED
            if status:
                plan_services.task_update(
                    actor=actor,
                    room=room,
                    task_id=task.pk,
                    base_version=task.version,
                    changes={"status": status},
                )
        return plan, tasks

    def buyer_acts(self, room, actor, person, *, days_ago, agree=False, comment=True):
        link, _ = link_issue(actor=actor, room=room, stakeholder=person)
        access = BuyerAccess(link)
        view_record(access, kind=ViewEvent.Kind.ROOM, label="the room")
        if comment:
            task = Task.objects.for_room(room).first()
            plan_services.comment_create(
                actor=Actor(stakeholder=person),
                room=room,
                task=task,
                body="Looks right to us; we'll confirm the dates on Monday.",
            )
        if agree:
            plan_services.plan_agree(access=access)
            Plan.objects.filter(room=room).update(agreed_at=self.ago(days_ago))
        _backdate_views(room, days=days_ago)
        Room.objects.filter(pk=room.pk).update(
            last_buyer_activity_at=self.ago(days_ago),
            **({"last_buyer_contribution_at": self.ago(days_ago)} if comment or agree else {}),
            approver_opened_at=(
                self.ago(days_ago)
                if person.approval_authority or person.role == DecisionRole.ECONOMIC_BUYER
                else F("approver_opened_at")
            ),
        )

    def stale(self, room, *, days):
        """Nothing completed for ``days``: move completions and the counter back."""
        Task.objects.for_room(room).filter(status=TaskStatus.DONE).update(
            completed_at=self.ago(days)
        )
        Milestone.objects.for_room(room).filter(completed_at__isnull=False).update(
            completed_at=self.ago(days)
        )
        Room.objects.filter(pk=room.pk).update(
            completion_changed_at=self.ago(days),
            last_milestone_completed_at=self.ago(days)
            if Milestone.objects.for_room(room).filter(completed_at__isnull=False).exists()
            else None,
        )

    def close(self, room, actor, outcome, *, days_ago, reason=""):
        who = self.memberships[
            "sarah" if room.owner_id == self.memberships["sarah"].user_id else "jordan"
        ]
        room_close(actor=actor, membership=who, room_id=room.pk, outcome=outcome, reason=reason)
        Room.objects.filter(pk=room.pk).update(closed_at=self.ago(days_ago))

    def create(self):
        # Open deals, one per failure pattern (and one doing well).
        room, actor = self.room(
            "jordan", "Data platform", "Globex", 126000, Stage.PROPOSAL, 30, started_days_ago=60
        )
        champion, boss, seller = self.people(room, actor)
        self.plan(room, actor, champion, seller, days_ago=55, done=2)
        self.buyer_acts(room, actor, champion, days_ago=26, comment=True)
        self.stale(room, days=30)  # zombie: nothing done for a month

        room, actor = self.room(
            "sarah",
            "Payroll migration",
            "Initech",
            58000,
            Stage.NEGOTIATION,
            21,
            started_days_ago=50,
        )
        champion, boss, seller = self.people(room, actor)
        self.plan(room, actor, champion, seller, days_ago=45, done=2)
        self.buyer_acts(room, actor, champion, days_ago=2, agree=True)
        self.buyer_acts(room, actor, boss, days_ago=1, comment=False)
        Plan.objects.filter(room=room).update(agreed_at=self.ago(35))

        room, actor = self.room(
            "jordan",
            "Security suite",
            "Umbrella",
            240000,
            Stage.DISCOVERY,
            75,
            started_days_ago=6,
        )
        self.people(room, actor, approver=False)  # no plan yet

        room, actor = self.room(
            "sarah",
            "Analytics rollout",
            "Hooli",
            36000,
            Stage.EVALUATION,
            40,
            started_days_ago=25,
        )
        champion, boss, seller = self.people(room, actor)
        _, tasks = self.plan(
            room, actor, champion, seller, days_ago=20, done=0, vague=True, blocked=True
        )
        # As the overdue sweep would leave it: the first task is 12 days late, alerted.
        Task.objects.filter(pk=tasks[0].pk).update(
            overdue_level=OverdueLevel.ALERTED, overdue_for=F("due_date")
        )
        plan_services.room_overdue_recount([room.pk])
        plan_services.plan_changed([room.pk])

        # Closed deals over the last 12 weeks: engaged buyers win more often.
        closed = [
            ("sarah", "Expense tool", "Stark Industries", 42000, True, Outcome.WON, 9, 70),
            ("jordan", "Procurement suite", "Wayne Enterprises", 95000, True, Outcome.WON, 24, 52),
            ("sarah", "CRM sync", "Cyberdyne", 27000, True, Outcome.WON, 40, 41),
            ("jordan", "Data warehouse", "Soylent", 88000, True, Outcome.LOST, 55, 64),
            ("sarah", "HR suite", "Tyrell", 51000, False, Outcome.LOST, 16, 38),
            ("jordan", "Billing", "Massive Dynamic", 33000, False, Outcome.WON, 48, 90),
            ("sarah", "Reporting", "Oscorp", 64000, False, Outcome.LOST, 70, 45),
        ]
        for who, name, buyer, value, engaged, outcome, closed_ago, length in closed:
            room, actor = self.room(
                who,
                name,
                buyer,
                value,
                Stage.CLOSING,
                -closed_ago,
                started_days_ago=closed_ago + length + 5,
            )
            champion, boss, seller = self.people(room, actor)
            self.plan(room, actor, champion, seller, days_ago=closed_ago + length, done=3)
            if engaged:
                self.buyer_acts(room, actor, boss, days_ago=closed_ago + 10, agree=True)
            reason = "" if outcome == Outcome.WON else "Budget moved to next fiscal year"
            self.close(room, actor, outcome, days_ago=closed_ago, reason=reason)
        # The rooms' copies of their plans' (moved back) start and agreement times.
        plan_services.plan_changed(Room.objects.values_list("pk", flat=True))
