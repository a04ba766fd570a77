"""Geometry of the server-rendered SVG bar chart (no JavaScript; prints as it shows).

Drawn for a phone: 360 units wide, shown at about 1:1 on a 390 px screen, so a 16-unit font is
about 16 px there and 12.7 px on a 320 px screen (never less); CSS caps its width on large
screens. Titles wrap onto up to three lines above their bar; a legend explains the three colours and
the dashed line."""

WIDTH = 360
FONT = 16
LINE = 20            # height of one line of text
BAR_HEIGHT = 18
GAP = 12             # space after each bar
BAR_MAX = 290        # pixels for the longest bar; the rest holds the number of votes
CHARS_PER_LINE = 32  # what fits in WIDTH at FONT in Cyrillic or Latin
LEGEND_TOP = 8
COLOURS = {"selected": "#0b5394", "not_selected": "#6fa8dc", "below_minimum": "#cccccc"}


def wrap(text, width=CHARS_PER_LINE, lines=3):
    """At most `lines` lines of at most `width` characters, cut at spaces, "…" when cut short."""
    words, out, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        current = word[:width]
        if len(out) == lines:
            break
    if current and len(out) < lines:
        out.append(current)
    shown = " ".join(out)
    if len(shown) < len(" ".join(words)):
        last = out[-1][: width - 1].rstrip()
        out[-1] = last + "…"
    return out


def _state(result):
    if result.selected:
        return "selected"
    return "not_selected" if result.eligible else "below_minimum"


def bar_chart(proposals, min_voters):
    """The legend, rows of (label lines, votes, colour, x/y/width) and the x of the minimum line."""
    top = max([p.result.votes for p in proposals] + [min_voters, 1])
    scale = BAR_MAX / (top * 1.05)
    legend = [{"state": state, "colour": colour, "y": LEGEND_TOP + i * LINE}
              for i, (state, colour) in enumerate(COLOURS.items())]
    legend_line_y = LEGEND_TOP + len(COLOURS) * LINE
    y = legend_line_y + LINE + 8
    line_x = round(min_voters * scale, 1)
    rows = []
    for p in proposals:
        lines = wrap(f"#{p.id} {p.title}")
        label_ys = [y + FONT + i * LINE for i in range(len(lines))]
        bar_y = y + len(lines) * LINE + 4
        width = round(p.result.votes * scale, 1)
        rows.append({
            "id": p.id, "lines": list(zip(lines, label_ys)), "votes": p.result.votes,
            "state": _state(p.result), "colour": COLOURS[_state(p.result)],
            "bar_y": bar_y, "bar_width": max(1, width),
            "value_x": max(width, line_x) + 6,  # clear of the dashed minimum line
        })
        y = bar_y + BAR_HEIGHT + GAP
    return {"width": WIDTH, "height": y + 4, "rows": rows, "legend": legend, "legend_line_y": legend_line_y,
            "font": FONT, "bar_height": BAR_HEIGHT,
            "line_x": line_x, "min_voters": min_voters}
