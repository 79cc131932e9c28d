from django import forms

from .models import Stakeholder


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = [
            "name",
            "email",
            "title",
            "side",
            "role",
            "influence",
            "approval_authority",
            "track",
            "scope",
        ]

    def __init__(self, *args, room=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if name.lower() in {"tbd", "tba", "legal", "security", "procurement", "it", "?"}:
            raise forms.ValidationError("Name a person, not a team or a placeholder.")
        return name


class StakeholderAddForm(StakeholderForm):
    class Meta(StakeholderForm.Meta):
        fields = ["name", "email", "title", "side", "role"]
