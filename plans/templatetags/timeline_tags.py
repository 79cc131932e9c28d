from django import template

from plans.timeline import timeline

register = template.Library()


@register.simple_tag(takes_context=True)
def room_timeline(context):
    """The page's timeline (plans.timeline): the one its view put in the context, or the
    seller's, drawn from the room's schedule and milestones."""
    if "timeline" in context:
        return context["timeline"]
    return timeline(
        context.get("schedule"), context.get("milestones") or [], room=context.get("room")
    )
