import datetime

import pytest
from django.utils import timezone

from plans import services as plan_services
from plans.models import Milestone, MilestoneStatus, Plan, Task, TaskStatus
from rooms.actors import Actor
from rooms.models import Room
from stakeholders.links import BuyerAccess, link_issue, view_record
from stakeholders.models import DecisionRole, Side, Stakeholder, ViewEvent
from stakeholders.services import APPROVER, stakeholder_create


def days(n):
    return timezone.now().date() + datetime.timedelta(days=n)


def expected_columns(room):
    """The signal columns as they should be, computed from the rows in Python."""
    tasks = list(Task.objects.for_room(room).select_related("owner"))
    milestones = list(Milestone.objects.for_room(room))

    def side(t):
        return t.owner.side if t.owner_id else t.side

    open_tasks = [t for t in tasks if t.status != TaskStatus.DONE]
    due = sorted(
        (t for t in open_tasks if t.due_date), key=lambda t: (t.due_date, t.created_at, t.pk)
    )
    blocked = sorted(
        (t for t in open_tasks if t.status == TaskStatus.BLOCKED),
        key=lambda t: (t.due_date is None, t.due_date or datetime.date.min, t.created_at, t.pk),
    )
    approvers = list(Stakeholder.objects.for_room(room).filter(APPROVER))
    views = ViewEvent.objects.filter(room=room, stakeholder__in=approvers)
    done_ms = [m for m in milestones if m.status == MilestoneStatus.DONE]
    plan = Plan.objects.filter(room=room).first()
    return {
        "plan_started_at": plan.created_at if plan else None,
        "plan_agreed_at": plan.agreed_at if plan else None,
        "buyer_tasks_total": sum(side(t) == Side.BUYER for t in tasks),
        "buyer_tasks_done": sum(side(t) == Side.BUYER and t.is_done for t in tasks),
        "seller_tasks_total": sum(side(t) == Side.SELLER for t in tasks),
        "seller_tasks_done": sum(side(t) == Side.SELLER and t.is_done for t in tasks),
        "buyer_milestones_total": sum(m.lead_side == Side.BUYER for m in milestones),
        "buyer_milestones_done": sum(m.lead_side == Side.BUYER for m in done_ms),
        "vague_milestones": sum(not m.completion_condition for m in milestones),
        "last_milestone_completed_at": max((m.completed_at for m in done_ms), default=None),
        "next_due_task_id": due[0].pk if due else None,
        "next_due_date": due[0].due_date if due else None,
        "blocked_task_id": blocked[0].pk if blocked else None,
        "blocked_due_date": blocked[0].due_date if blocked else None,
        "approver_count": len(approvers),
        "approver_opened_at": min((v.created_at for v in views), default=None),
    }


def actual_columns(room):
    return Room.objects.filter(pk=room.pk).values(*expected_columns(room)).get()


class Builder:
    """Builds rooms through the services, as people would."""

    def __init__(self, room):
        self.room = room
        self.actor = Actor(user=room.owner)
        self.plan = None

    def person(self, name="Ann Buyer", side=Side.BUYER, **fields):
        return stakeholder_create(actor=self.actor, room=self.room, name=name, side=side, **fields)

    def approver(self, name="Carl CFO"):
        return self.person(name, role=DecisionRole.ECONOMIC_BUYER, approval_authority=True)

    def start(self):
        self.plan = plan_services.plan_start(
            actor=self.actor, room=self.room, template_slug="empty"
        )
        return self.plan

    def milestone(self, title="Security review", condition="Sign-off email", **fields):
        if self.plan is None:
            self.start()
        return plan_services.milestone_create(
            actor=self.actor,
            room=self.room,
            plan=self.plan,
            title=title,
            completion_condition=condition,
            **fields,
        )

    def task(self, milestone, title="Task", owner=None, due=None, status=None):
        task = plan_services.task_create(
            actor=self.actor,
            room=self.room,
            milestone=milestone,
            title=title,
            owner=owner,
            due_date=due,
        )
        if status:
            task = self.update(task, status=status)
        return task

    def update(self, task, **changes):
        task.refresh_from_db()
        return plan_services.task_update(
            actor=self.actor,
            room=self.room,
            task_id=task.pk,
            base_version=task.version,
            changes=changes,
        )

    def access(self, person):
        link, _ = link_issue(actor=self.actor, room=self.room, stakeholder=person)
        return BuyerAccess(link)

    def view(self, person):
        return view_record(self.access(person), kind=ViewEvent.Kind.ROOM, label="the room")

    def comment(self, task, person):
        return plan_services.comment_create(
            actor=Actor(stakeholder=person), room=self.room, task=task, body="Looks good"
        )


@pytest.fixture
def build(room):
    return Builder(room)
