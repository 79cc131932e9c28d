"""The organisation's alert settings form (settings page and Django admin)."""

from django import forms
from django.core.validators import URLValidator

from mapsite import outbound_rule

from .models import AlertSettings


class AlertSettingsForm(forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = ["slack_webhook_url", "slack_enabled", "email_enabled", "sender_email"]
        widgets = {
            "slack_webhook_url": forms.URLInput(
                attrs={
                    "placeholder": "https://hooks.slack.com/services/…",
                    "autocomplete": "off",
                    "spellcheck": "false",
                }
            ),
            "sender_email": forms.EmailInput(
                attrs={"placeholder": "alerts@yourcompany.com", "autocomplete": "off"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Whether a URL may be used is mapsite.outbound_rule alone (below), so every
        # spelling of an internal address gets the same answer; Django's URL syntax
        # check would turn some of them (https://0x7f000001/) away as "not a URL".
        field = self.fields["slack_webhook_url"]
        field.validators = [v for v in field.validators if not isinstance(v, URLValidator)]

    def clean_slack_webhook_url(self):
        url = (self.cleaned_data.get("slack_webhook_url") or "").strip()
        if url:
            problem = outbound_rule.url_problem(url)
            if problem:
                raise forms.ValidationError(problem, code="url_not_allowed")
        return url

    def clean_sender_email(self):
        return (self.cleaned_data.get("sender_email") or "").strip().lower()
