from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def money(value, currency=""):
    """48000 → "48,000 USD"; cents shown only when there are any."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    text = f"{amount:,.0f}" if amount == amount.to_integral() else f"{amount:,.2f}"
    return f"{text} {currency}".strip()


@register.filter
def ago(value):
    """A past moment as people say it: "just now" within a minute, else "5 minutes ago"."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"
