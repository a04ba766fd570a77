"""Translated names of categories, phases, statuses, ballot styles and counting rules."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "greening": _l("Greening"), "parks": _l("Parks and squares"), "sports": _l("Sports grounds"),
    "playgrounds": _l("Playgrounds"), "lighting": _l("Lighting"), "sidewalks": _l("Sidewalks and paths"),
    "yards": _l("Yards"), "other": _l("Other"),
}
PHASE_LABELS = {
    "draft": _l("Draft"), "proposals": _l("Taking proposals"), "review": _l("Expert Council review"),
    "voting": _l("Voting"), "closed": _l("Voting closed"), "published": _l("Results published"),
}
STATUS_LABELS = {
    "submitted": _l("Submitted"), "revision_requested": _l("Revision requested"),
    "admitted": _l("Admitted to voting"), "rejected": _l("Rejected"), "withdrawn": _l("Withdrawn"),
}
STATUS_BADGES = {"admitted": "ok", "rejected": "bad", "revision_requested": "info", "submitted": "", "withdrawn": ""}
STYLE_LABELS = {"single": _l("One project per voter"), "approval": _l("Approval: up to a set number of projects"),
                "knapsack": _l("Knapsack: projects within the budget")}
RULE_LABELS = {"greedy": _l("Greedy: most votes first, while the budget lasts"),
               "mes": _l("Method of Equal Shares")}
ACTION_LABELS = {"cycle.create": _l("Cycle created"), "cycle.update": _l("Cycle edited"),
                 "cycle.phase": _l("Phase moved"), "cycle.protocol": _l("Protocol published"),
                 "proposal.review": _l("Proposal reviewed")}

LOCAL_TZ = ZoneInfo("Asia/Almaty")


def parse_int(value):
    """An int from a form's text, or the text itself (the domain then says what is wrong)."""
    text = (value or "").replace(" ", "").replace("\u00a0", "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def parse_float(value):
    text = (value or "").replace(",", ".").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def parse_local_datetime(value):
    """A datetime-local input (Almaty time) as an aware UTC datetime; bad text passes through."""
    text = (value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            continue
    return text


def local_input(moment):
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if moment else ""


def label_context():
    return {"CATEGORY_LABELS": CATEGORY_LABELS, "PHASE_LABELS": PHASE_LABELS, "STATUS_LABELS": STATUS_LABELS,
            "STATUS_BADGES": STATUS_BADGES, "STYLE_LABELS": STYLE_LABELS, "RULE_LABELS": RULE_LABELS,
            "ACTION_LABELS": ACTION_LABELS}
