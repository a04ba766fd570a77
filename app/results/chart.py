"""Geometry of the server-rendered SVG bar chart (no JavaScript; prints as it shows)."""

WIDTH = 720
LABEL_HEIGHT = 16
BAR_HEIGHT = 18
ROW = 46
TOP = 30
BAR_MAX = 560  # pixels for the longest bar; the rest of the width holds the figures


def shorten(text, limit=70):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(proposals, min_voters):
    """Rows of (label, votes, x/y/width) and the x of the minimum-voters line."""
    top = max([p.result.votes for p in proposals] + [min_voters, 1])
    scale = BAR_MAX / (top * 1.05)
    rows = []
    for index, p in enumerate(proposals):
        y = TOP + index * ROW
        rows.append({
            "id": p.id, "label": shorten(f"#{p.id} {p.title}"), "votes": p.result.votes,
            "eligible": p.result.eligible, "selected": p.result.selected,
            "label_y": y + LABEL_HEIGHT - 3, "bar_y": y + LABEL_HEIGHT + 2,
            "bar_width": max(1, round(p.result.votes * scale, 1)),
            "value_x": round(p.result.votes * scale, 1) + 6,
        })
    return {"width": WIDTH, "height": TOP + len(rows) * ROW + 10, "rows": rows,
            "bar_height": BAR_HEIGHT, "line_x": round(min_voters * scale, 1),
            "min_voters": min_voters}
