"""Translated names of categories, phases, statuses, ballot styles and counting rules."""
from flask_babel import lazy_gettext as _l

from app.languages import LANGUAGE_NAMES

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
# Plain words (glossary, "Counting rules and ballot styles"): the keys stay in the API and Pabulib files.
STYLE_LABELS = {"single": _l("One project, final once cast"), "approval": _l("Several projects (up to a set number)"),
                "knapsack": _l("A set of projects within the budget")}
RULE_LABELS = {"greedy": _l("By number of votes, while the budget lasts"),
               "mes": _l("Method of equal shares: each voter gets an equal share of the budget")}
# One plain sentence each, shown on the cycle form beside the choice.
STYLE_EXPLANATIONS = {
    "single": _l("Each resident chooses one project, and the vote cannot be changed once cast."),
    "approval": _l("Each resident chooses up to the set number of projects and may change the choice "
                   "until voting closes."),
    "knapsack": _l("Each resident chooses projects whose total cost fits within the budget."),
}
RULE_EXPLANATIONS = {
    "greedy": _l("Projects are funded from the most votes down, as long as the money lasts; "
                 "a project that no longer fits is skipped."),
    "mes": _l("The budget is shared equally among the voters, and a project is funded when its supporters' "
              "shares can pay for it, so each group of residents gets projects in proportion to its size."),
}
IMPLEMENTATION_LABELS = {
    "planned": _l("Planned"), "procurement": _l("In procurement"), "works": _l("Works under way"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
}
ACTION_LABELS = {"cycle.create": _l("Cycle created"), "cycle.update": _l("Cycle edited"),
                 "cycle.phase": _l("Phase moved"), "cycle.protocol": _l("Protocol published"),
                 "proposal.review": _l("Proposal reviewed"),
                 "proposal.deadline_reported": _l("Staff told a revision deadline passed"),
                 "resident.verify": _l("Residence verified"),
                 "polling_point.save": _l("Polling point saved"),
                 "resident.add_at_point": _l("Resident added at a polling point"),
                 "paper.first_entry": _l("Paper ballot: first entry"),
                 "paper.second_entry": _l("Paper ballot: matching second entry, stored"),
                 "paper.mismatch": _l("Paper ballot: entries differ"),
                 "paper.resolve": _l("Paper ballot: settled by a third person"),
                 "paper.void": _l("Paper ballot: entry voided"),

                 "cycle.count_retry": _l("Count started again")}
# Shown above a staff text that has no version in the page's language: named in the page's
# language, a whole sentence per language (no language name glued into a fragment).
FALLBACK_NOTES = {
    "kk": _l("There is no text in this language; it is shown in Kazakh."),
    "ru": _l("There is no text in this language; it is shown in Russian."),
    "en": _l("There is no text in this language; it is shown in English."),
}

ASSURANCE_LABELS = {"password": _l("a password"), "phone": _l("a phone confirmed by SMS"),
                    "eds": _l("an electronic digital signature (EDS)")}
RESIDENCE_LABELS = {"declared": _l("declared"), "verified": _l("verified by the akimat")}


def label_context():
    return {"CATEGORY_LABELS": CATEGORY_LABELS, "PHASE_LABELS": PHASE_LABELS, "STATUS_LABELS": STATUS_LABELS,
            "STATUS_BADGES": STATUS_BADGES, "STYLE_LABELS": STYLE_LABELS, "RULE_LABELS": RULE_LABELS,
            "ACTION_LABELS": ACTION_LABELS, "IMPLEMENTATION_LABELS": IMPLEMENTATION_LABELS,
            "LANGUAGE_NAMES": LANGUAGE_NAMES, "STYLE_EXPLANATIONS": STYLE_EXPLANATIONS,
            "RULE_EXPLANATIONS": RULE_EXPLANATIONS,
            "ASSURANCE_LABELS": ASSURANCE_LABELS, "RESIDENCE_LABELS": RESIDENCE_LABELS}
