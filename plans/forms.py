from django import forms

from rooms.forms import DateInput, PlausibleDatesMixin
from stakeholders.models import Stakeholder

from .models import DecisionCriterion, Milestone, Risk, Task


class RoomScopedForm(PlausibleDatesMixin, forms.ModelForm):
    """A form whose choices of people and milestones come from one room only."""

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room
        if "owner" in self.fields:
            self.fields["owner"].queryset = Stakeholder.objects.for_room(room)
        if "depends_on" in self.fields:
            self.fields["depends_on"].queryset = Milestone.objects.for_room(room)
        if "milestone" in self.fields:
            self.fields["milestone"].queryset = Milestone.objects.for_room(room)


class MilestoneForm(RoomScopedForm):
    class Meta:
        model = Milestone
        fields = [
            "title",
            "target_date",
            "lead_side",
            "track",
            "completion_condition",
            "depends_on",
        ]
        widgets = {"target_date": DateInput()}


class TaskForm(RoomScopedForm):
    class Meta:
        model = Task
        fields = ["title", "owner", "due_date", "status", "notes", "evidence", "milestone"]
        widgets = {
            "due_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 1}),
            "evidence": forms.Textarea(attrs={"rows": 2}),
        }


class TaskAddForm(RoomScopedForm):
    class Meta:
        model = Task
        fields = ["title", "owner", "due_date"]
        widgets = {"due_date": DateInput()}


class MilestoneAddForm(RoomScopedForm):
    class Meta:
        model = Milestone
        fields = ["title", "target_date", "lead_side"]
        widgets = {"target_date": DateInput()}


class CriterionForm(RoomScopedForm):
    class Meta:
        model = DecisionCriterion
        fields = ["title", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 1})}


class RiskForm(RoomScopedForm):
    class Meta:
        model = Risk
        fields = ["title", "impact", "mitigation", "owner"]
        widgets = {"mitigation": forms.Textarea(attrs={"rows": 1})}


class BuyerTaskForm(RoomScopedForm):
    """What a buyer changes on their side's tasks."""

    class Meta:
        model = Task
        fields = ["status", "notes", "evidence"]


class BuyerTaskAddForm(RoomScopedForm):
    class Meta:
        model = Task
        fields = ["title", "owner", "due_date"]
        widgets = {"due_date": DateInput()}

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, room=room, **kwargs)
        self.fields["owner"].queryset = Stakeholder.objects.for_room(room).filter(side="buyer")


class BuyerMilestoneAddForm(RoomScopedForm):
    class Meta:
        model = Milestone
        fields = ["title", "target_date"]
        widgets = {"target_date": DateInput()}
