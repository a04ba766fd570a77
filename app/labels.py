"""Translated names of categories, phases, statuses, ballot styles and counting rules."""
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
IMPLEMENTATION_LABELS = {
    "planned": _l("Planned"), "procurement": _l("In procurement"), "works": _l("Works under way"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
}
ACTION_LABELS = {"cycle.create": _l("Cycle created"), "cycle.update": _l("Cycle edited"),
                 "cycle.phase": _l("Phase moved"), "cycle.protocol": _l("Protocol published"),
                 "proposal.review": _l("Proposal reviewed"), "resident.verify": _l("Residence verified")}

ASSURANCE_LABELS = {"password": _l("a password"), "phone": _l("a phone confirmed by SMS"),
                    "eds": _l("an electronic digital signature (EDS)")}
RESIDENCE_LABELS = {"declared": _l("declared"), "verified": _l("verified by the akimat")}


def label_context():
    return {"CATEGORY_LABELS": CATEGORY_LABELS, "PHASE_LABELS": PHASE_LABELS, "STATUS_LABELS": STATUS_LABELS,
            "STATUS_BADGES": STATUS_BADGES, "STYLE_LABELS": STYLE_LABELS, "RULE_LABELS": RULE_LABELS,
            "ACTION_LABELS": ACTION_LABELS, "IMPLEMENTATION_LABELS": IMPLEMENTATION_LABELS,
            "ASSURANCE_LABELS": ASSURANCE_LABELS, "RESIDENCE_LABELS": RESIDENCE_LABELS}
