"""Text as it is stored: names and titles never hold a line break or a control
character, and no text holds a NUL or another invisible control.

A name is shown in headers, lists, calendar invites (.ics) and email subjects, where a
line break is either refused (icalendar and Django's mail refuse it: the page would
fail) or starts a new line of the format (header injection). So every single-line field
— a model ``CharField`` (``TextField`` holds several lines and is left alone) — is
cleaned on its way in by the services that write it, and whatever renders a name into
a line-based format cleans it again on the way out, for rows stored before the rule.

Cleaning, not refusing: a line break pasted into a name or title becomes one space
(with the spaces around it), other control characters are dropped, and the ends are
trimmed. Ordinary Unicode text (accents, scripts, emoji, punctuation) is kept as typed.

Controls are C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F); line breaks are
CR, LF, tab, vertical tab, form feed, the file/group/record separators, NEL (U+0085) and
the Unicode line and paragraph separators (U+2028, U+2029).

Multi-line text (a ``TextField``: notes, evidence, goals, comments) keeps its line
breaks and tabs as typed; only the other C0 controls and DEL are dropped (PostgreSQL
refuses a NUL in text outright: a page would fail).

This module imports nothing of the apps, so every app may use it (see
docs/ARCHITECTURE.md for the order apps depend on each other).
"""

import re

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

BREAKS = "\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK_RUN = re.compile(f"[ {BREAKS}]*[{BREAKS}][ {BREAKS}]*")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def single_line(value, *, space=" "):
    """``value`` as one line of text: each run of line breaks (with the spaces around
    it) becomes ``space``, other control characters are dropped, the ends are trimmed.
    ``space=""`` for values where a space makes no sense either (email addresses).
    ``None`` becomes ""; anything else is turned into text first."""
    if value is None:
        return ""
    text = _BREAK_RUN.sub(space, str(value))
    return _CONTROLS.sub("", text).strip()


def multi_line(value):
    """``value`` with its line breaks (CR, LF) and tabs as they are, the other C0
    controls and DEL dropped. ``None`` becomes ""."""
    if value is None:
        return ""
    return _INVISIBLE.sub("", str(value))


def is_single_line_field(field):
    """Whether a model field holds one line of text: a ``CharField`` (``EmailField``,
    ``SlugField``, ``URLField`` … are ones too); never a ``TextField``."""
    return isinstance(field, models.CharField)


def _space_for(field):
    return "" if isinstance(field, (models.EmailField, models.URLField)) else " "


def _clean(field, value):
    """One field's value cleaned; a required field left empty by the cleaning (it held
    nothing but control characters) is refused."""
    if not is_single_line_field(field):
        return multi_line(value)
    cleaned = single_line(value, space=_space_for(field))
    if value and not cleaned and not field.blank:
        raise ValidationError(
            {field.name: "Enter some text: control characters alone do not count."}
        )
    return cleaned


def _is_text(field):
    return isinstance(field, (models.CharField, models.TextField))


def clean_text_values(model, values):
    """``values`` (field name -> value, as a service receives them) with every text
    field of ``model`` cleaned: single-line ones with ``single_line``, multi-line ones
    with ``multi_line``; other values as they were. ``ValidationError`` when a
    required field is left empty."""
    cleaned = dict(values)
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # not a field of the model: not ours to clean
            continue
        if _is_text(field):
            cleaned[name] = _clean(field, value)
    return cleaned


def clean_text_fields(instance):
    """Clean every text field of a model instance in place (before it is saved), like
    ``clean_text_values``; returns the instance."""
    for field in instance._meta.concrete_fields:
        if not _is_text(field):
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str):
            setattr(instance, field.attname, _clean(field, value))
    return instance


class SingleLineFormMixin:
    """For a ModelForm (the admin's): its text fields are cleaned as the services clean
    them, and a required one left empty is an error on the form, before anything is
    saved."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            try:
                cleaned.update(clean_text_values(self._meta.model, {name: value}))
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned
