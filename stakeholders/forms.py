from django import forms
from django.conf import settings

from .models import PERSON_FIELDS, Stakeholder, clean_person_name


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = list(PERSON_FIELDS)

    def __init__(self, *args, room=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room

    def clean_name(self):
        return clean_person_name(self.cleaned_data["name"])


class StakeholderAddForm(StakeholderForm):
    class Meta(StakeholderForm.Meta):
        fields = ["name", "email", "title", "side", "role"]


class LinkIssueForm(forms.Form):
    days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=365, initial=settings.BUYER_LINK_TTL_DAYS
    )
    revoke_others = forms.BooleanField(
        label="Revoke this person's earlier links", required=False, initial=True
    )
    send_email = forms.BooleanField(label="Email it to them", required=False, initial=True)
    note = forms.CharField(
        label="Short note in the email",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ScopeForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = ["scope", "track"]
        widgets = {"scope": forms.RadioSelect}
