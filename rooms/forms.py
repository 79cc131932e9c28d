import datetime

from django import forms

from .models import Room, clean_currency, go_live_problem

EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def check_plausible_dates(form):
    """Dates outside 2000–2100 are typos (a year of 0202, 20266); say so."""
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if isinstance(field, forms.DateField) and value and not EARLIEST <= value <= LATEST:
            form.add_error(name, "Enter a date between 2000 and 2100.")


class PlausibleDatesMixin:
    def clean(self):
        cleaned = super().clean()
        check_plausible_dates(self)
        return cleaned


class RoomForm(PlausibleDatesMixin, forms.ModelForm):
    class Meta:
        model = Room
        fields = [
            "name",
            "buyer_company",
            "value",
            "currency",
            "stage",
            "target_close_date",
            "close_reason",
            "go_live_date",
            "goal",
            "timezone",
            "review_weekday",
            "review_time",
            "review_duration_minutes",
        ]
        widgets = {
            "target_close_date": DateInput(),
            "go_live_date": DateInput(),
            "review_time": TimeInput(),
            "goal": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_currency(self):
        return clean_currency(self.cleaned_data.get("currency"))

    def clean(self):
        cleaned = super().clean()
        close = cleaned.get("target_close_date", self.instance.target_close_date)
        live = cleaned.get("go_live_date", self.instance.go_live_date)
        problem = go_live_problem(close, live)
        if problem:
            field = "go_live_date" if "go_live_date" in self.fields else "target_close_date"
            self.add_error(field, problem)
        return cleaned
