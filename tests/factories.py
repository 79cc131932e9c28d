import datetime

import factory
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from plans.models import DecisionCriterion, Milestone, Plan, Risk, Task
from rooms.models import Room
from stakeholders.models import Side, Stakeholder

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    org = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REP


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    org = factory.SubFactory(OrganizationFactory)
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    buyer_company = "Acme Corp"
    value = 48000
    currency = "USD"
    target_close_date = factory.LazyFunction(
        lambda: timezone.now().date() + datetime.timedelta(days=60)
    )
    goal = "Cut month-end close from 10 days to 4"


class StakeholderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stakeholder

    room = factory.SubFactory(RoomFactory)
    org = factory.SelfAttribute("room.org")
    side = Side.BUYER
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"buyer{n}@acme.example")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    room = factory.SubFactory(RoomFactory)
    org = factory.SelfAttribute("room.org")


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    plan = factory.SubFactory(PlanFactory)
    room = factory.SelfAttribute("plan.room")
    org = factory.SelfAttribute("plan.org")
    title = factory.Sequence(lambda n: f"Milestone {n}")
    order = factory.Sequence(lambda n: n)
    completion_condition = "Sign-off email"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    milestone = factory.SubFactory(MilestoneFactory)
    plan = factory.SelfAttribute("milestone.plan")
    room = factory.SelfAttribute("milestone.room")
    org = factory.SelfAttribute("milestone.org")
    title = factory.Sequence(lambda n: f"Task {n}")
    order = factory.Sequence(lambda n: n)
    # Planned before it fell due, as real tasks are (the overdue sweep ignores work that
    # was already late when it was created).
    due_date = None
    created_at = factory.LazyAttribute(lambda o: _planned_before(o.due_date))


def _planned_before(due_date):
    now = timezone.now()
    if due_date is None:
        return now
    start = datetime.datetime.combine(due_date, datetime.time(), tzinfo=datetime.UTC)
    return min(now, start - datetime.timedelta(days=30))


class DecisionCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DecisionCriterion

    plan = factory.SubFactory(PlanFactory)
    room = factory.SelfAttribute("plan.room")
    org = factory.SelfAttribute("plan.org")
    title = "Integrates with SAP"


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk

    plan = factory.SubFactory(PlanFactory)
    room = factory.SelfAttribute("plan.room")
    org = factory.SelfAttribute("plan.org")
    title = "Budget freeze in Q1"
