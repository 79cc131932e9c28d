"""Outgoing email: two parts from a template pair, in a seller's name.

Every email the product sends is built here (``build``): a plain-text part from
``templates/emails/<name>.txt`` and a simple HTML part from ``templates/emails/<name>.html``
(lang attribute, a real heading, inline CSS only, no images, no scripts, no remote
resources), as one ``EmailMultiAlternatives``.

The sender rule (``from_address``): an email on behalf of a seller is *from* "Sarah Kim
(Northwind)" at the server's own address (DEFAULT_FROM_EMAIL's, or the organisation's
sender address when it set one), so it passes the domain's SPF/DKIM, and *Reply-To* the
seller, so a reply reaches a person. Display names lose control characters (no header
injection) and are quoted by the email library; non-ASCII names are encoded by Django
when the message is written.
"""

import re
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
NAME_MAX = 120


def clean_name(value):
    """A display name without control characters or runs of spaces, at most NAME_MAX."""
    return " ".join(_CONTROL.sub(" ", str(value or "")).split())[:NAME_MAX].strip()


def server_address():
    """The address part of DEFAULT_FROM_EMAIL ("mapsite <no-reply@…>" → "no-reply@…")."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL


def from_address(*, person="", org="", address=None):
    """'"Sarah Kim (Northwind)" <no-reply@…>'; without a person, the organisation's name
    alone; without either, DEFAULT_FROM_EMAIL as configured."""
    address = (address or "").strip() or server_address()
    person, org = clean_name(person), clean_name(org)
    name = f"{person} ({org})" if person and org else person or org
    if not name:
        return settings.DEFAULT_FROM_EMAIL if address == server_address() else address
    return str(Address(display_name=name, addr_spec=address))


def build(
    name,
    context,
    *,
    subject,
    to,
    sender=None,
    reply_to=None,
    headers=None,
):
    """An EmailMultiAlternatives from the template pair ``emails/<name>.txt|.html``.

    ``sender``: (person, org name, address or None) for an email on behalf of a seller;
    ``reply_to``: the seller's address."""
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", {**context, "subject": subject})
    person, org, address = sender or ("", "", None)
    message = EmailMultiAlternatives(
        subject=clean_name(subject)[:250] if subject else "mapsite",
        body=text,
        from_email=from_address(person=person, org=org, address=address),
        to=list(to),
        reply_to=[reply_to] if reply_to else [],
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    return message
