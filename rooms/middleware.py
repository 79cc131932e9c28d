"""A write refused because the room is read-only answers 409 with the reason, never 500.

Any view may let ``RoomReadOnly`` escape from a service: the person gets a clear message.
An htmx request gets 409 plus ``HX-Refresh`` so the page reloads and shows the notice
(the read-only banner and the message); a plain form post gets a short 409 page with a
way back.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from .revision import RoomReadOnly


def read_only_response(
    request, exc, *, back_url, template="rooms/read_only.html", message=None, context=None
):
    message = message or str(exc)
    if getattr(request, "htmx", False):
        messages.error(request, message)
        response = HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
        response["HX-Refresh"] = "true"
        return response
    context = {"message": message, "back_url": back_url, **(context or {})}
    return render(request, template, context, status=409)


class RoomReadOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, RoomReadOnly):
            return None
        match = getattr(request, "resolver_match", None)
        room_id = (match.kwargs.get("room_id") if match else None) or exception.room_id
        back = reverse("plans:room", args=[room_id]) if room_id else reverse("rooms:list")
        return read_only_response(request, exception, back_url=back)
