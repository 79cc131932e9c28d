from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def css_string(value):
    """Text made safe inside a double-quoted CSS string in a <style> element: quotes and
    backslashes escaped, line breaks and angle brackets as CSS hex escapes (so nobody's
    text can close the string or the element)."""
    out = []
    for ch in str(value):
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "<>&\n\r\f" or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return mark_safe("".join(out))  # noqa: S308 - every special character is escaped above
