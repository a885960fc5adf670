"""Month charts drawn on the server as inline SVG: no script, no CDN, readable without
JavaScript and in a screenshot. Bars for a flow (each month's figure), a line for a
cumulative figure (its standing month by month)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 150
TOP, BOTTOM, LEFT = 18, 22, 4  # room for the top value and the month labels
BAR_GAP = 0.25  # of a slot


def month_chart(
    points: Sequence[tuple[str, int]],
    *,
    cumulative: bool,
    fmt: Callable[[int], str],
    label: str,
) -> Markup:
    """An SVG of the months (oldest first); ``fmt`` writes a value for people."""
    n = max(len(points), 1)
    slot = (WIDTH - LEFT * 2) / n
    top = max([v for _, v in points] + [1])
    plot = HEIGHT - TOP - BOTTOM

    def y(v: int) -> float:
        return TOP + plot - plot * max(v, 0) / top

    parts = [
        f'<svg class="mchart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" data-months="{len(points)}">',
        f'<line x1="{LEFT}" y1="{TOP + plot}" x2="{WIDTH - LEFT}" y2="{TOP + plot}" class="axis"/>',
    ]
    if cumulative:
        xy = [(LEFT + slot * (i + 0.5), y(v)) for i, (_, v) in enumerate(points)]
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in xy)
        parts.append(f'<polyline points="{path}" class="line"/>')
        for (x, yy), (month, v) in zip(xy, points, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.5" class="dot">'
                f"<title>{escape(month)}: {escape(fmt(v))}</title></circle>"
            )
    else:
        w = slot * (1 - BAR_GAP)
        for i, (month, v) in enumerate(points):
            x = LEFT + slot * i + slot * BAR_GAP / 2
            h = max(TOP + plot - y(v), 0.5 if v else 0)
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'rx="2" class="barm"><title>{escape(month)}: {escape(fmt(v))}</title></rect>'
            )
    for i, (month, _) in enumerate(points):
        if i % 2 == (len(points) - 1) % 2:  # every other month, ending on the latest
            x = LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" class="mlabel">{escape(month[2:])}</text>'
            )
    if points:
        month, v = points[-1]
        last = f"{escape(month)}: {escape(fmt(v))}"
        parts.append(f'<text x="{WIDTH - LEFT}" y="12" class="mvalue">{last}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
