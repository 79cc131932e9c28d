"""Small line charts drawn on the server as inline SVG (the template draws what this
lays out): no chart library, no script, readable without JavaScript."""

WIDTH, HEIGHT = 220, 56
PAD_X, PAD_TOP, PAD_BOTTOM = 4, 6, 6


def line_chart(series, *, points, top=None, unit="%"):
    """Lay out one or more series of numbers (None = no data that week) on a shared
    scale. ``series`` is a list of (css class, label, values). ``top`` fixes the scale's
    maximum (100 for percentages); otherwise the highest value sets it."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    high = top if top is not None else max(values, default=0)
    high = high or 1
    n = max(len(vs) for _, _, vs in series)
    step = (WIDTH - 2 * PAD_X) / max(n - 1, 1)
    usable = HEIGHT - PAD_TOP - PAD_BOTTOM

    def xy(i, v):
        return round(PAD_X + i * step, 1), round(PAD_TOP + usable * (1 - min(v, high) / high), 1)

    drawn = []
    for css, label, vs in series:
        segments, current, dots = [], [], []
        for i, v in enumerate(vs):
            if v is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x, y = xy(i, v)
            current.append(f"{x},{y}")
            dots.append({"x": x, "y": y, "value": v, "week": points[i]})
        if current:
            segments.append(current)
        drawn.append(
            {
                "css": css,
                "label": label,
                "segments": [" ".join(s) for s in segments if len(s) > 1],
                "singles": [s[0].split(",") for s in segments if len(s) == 1],
                "last": dots[-1] if dots else None,
                "dots": dots,
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "series": drawn,
        "baseline_y": HEIGHT - PAD_BOTTOM,
        "top_label": f"{high:g}{unit}",
        "empty": not values,
    }
