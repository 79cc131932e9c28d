"""The organisation's alert settings form (settings page and Django admin)."""

from django import forms

from .delivery import webhook_url_problem
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

    def clean_slack_webhook_url(self):
        url = (self.cleaned_data.get("slack_webhook_url") or "").strip()
        if url:
            problem = webhook_url_problem(url)
            if problem:
                raise forms.ValidationError(problem, code="webhook_url")
        return url

    def clean_sender_email(self):
        return (self.cleaned_data.get("sender_email") or "").strip().lower()
