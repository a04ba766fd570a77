"""Counting rules and the result a journalist reads.

Every rule is a function `rule(election, options) -> Result`, registered in
`RULES` under the key a cycle names. Ties are broken by one documented key,
`tie_key`: lower cost first, then more votes, then the project id compared as
text (pabutools' lexicographic order, so the two engines agree on ties).
"""

import re
from dataclasses import dataclass, field
from fractions import Fraction

TIE_BREAKING = {
    "pabulib": "lower cost, then more votes, then project id (text order)",
    "lexicographic": "project id (text order), as pabutools' default",
}


class TallyError(ValueError):
    """A count that cannot be made as asked (unknown rule, bad threshold...)."""


@dataclass
class ProjectResult:
    id: str
    name: str
    cost: Fraction
    votes: int  # voters listing the project
    score: Fraction  # what greedy ranks by: votes, or total points
    eligible: bool
    selected: bool = False
    price_per_voter: Fraction | None = None  # MES only: what each supporter paid at most
    selected_by: str | None = None  # "mes", "completion" or the greedy rule

    def to_dict(self):
        return {
            "id": self.id,
            "name": self.name,
            "cost": _number(self.cost),
            "votes": self.votes,
            "score": _number(self.score),
            "eligible": self.eligible,
            "selected": self.selected,
            "price_per_voter": None if self.price_per_voter is None else str(self.price_per_voter),
            "price_per_voter_approx": None if self.price_per_voter is None else float(self.price_per_voter),
            "selected_by": self.selected_by,
        }


@dataclass
class Result:
    rule: str
    budget: Fraction
    winners: list  # project ids in the order they were selected
    projects: dict  # id -> ProjectResult, in file order
    details: dict = field(default_factory=dict)

    @property
    def spent(self):
        return sum((self.projects[w].cost for w in self.winners), Fraction(0))

    def to_dict(self):
        return {
            "rule": self.rule,
            "budget": _number(self.budget),
            "spent": _number(self.spent),
            "winners": list(self.winners),
            "projects": [p.to_dict() for p in self.projects.values()],
            "details": {k: (_number(v) if isinstance(v, Fraction) else v) for k, v in self.details.items()},
        }


def _number(value):
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else str(value)


def tie_key(tie_breaking, cost, votes, project_id):
    if tie_breaking == "pabulib":
        return (cost, -votes, project_id)
    if tie_breaking == "lexicographic":
        return (project_id,)
    raise TallyError(f"unknown tie_breaking {tie_breaking!r}; expected one of {', '.join(TIE_BREAKING)}")


def base_result(election, rule, threshold, tie_breaking):
    """Figures common to every rule; eligibility from the threshold or the project itself."""
    votes = election.supporters()
    scores = election.scores()
    counted = election.threshold_ballots() if threshold is not None else election.ballots
    threshold_scores = scores if counted is election.ballots else election.scores(counted)
    projects = {}
    for position, project in enumerate(election.projects):
        eligible = project.eligible if project.eligible is not None else True
        if threshold is not None and threshold_scores[position] < threshold:
            eligible = False
        projects[project.id] = ProjectResult(project.id, project.name, project.cost, votes[position],
                                             scores[position], eligible)
    details = {"tie_breaking": TIE_BREAKING.get(tie_breaking, tie_breaking)}
    if threshold is not None:
        details["threshold"] = threshold
        if counted is not election.ballots:
            details["threshold_scope"] = election.meta.get("threshold_scope", "").strip()
            details["threshold_voters"] = len(counted)
    return Result(rule=rule, budget=election.budget, winners=[], projects=projects, details=details)


def greedy_order(result, tie_breaking):
    """Eligible projects by score, highest first, ties by `tie_key`."""
    figures = [p for p in result.projects.values() if p.eligible]
    return sorted(figures, key=lambda p: (-p.score,) + tie_key(tie_breaking, p.cost, p.votes, p.id))


def run_greedy(result, tie_breaking, skip=True, exclusions=()):
    """Fund projects in greedy order; skip (or stop at) one that no longer fits.

    `exclusions` are groups of mutually exclusive projects: once one of a
    group is funded, the others are passed over.
    """
    remaining = result.budget - result.spent
    excluded = set()
    for figures in greedy_order(result, tie_breaking):
        if figures.selected or figures.id in excluded:
            continue
        if figures.cost > remaining:
            if skip:
                continue
            break
        figures.selected = True
        figures.selected_by = result.rule
        result.winners.append(figures.id)
        remaining -= figures.cost
        for group in exclusions:
            if figures.id in group:
                excluded.update(set(group) - {figures.id})
    return result


def file_threshold(election):
    text = election.meta.get("min_project_score_threshold", "").strip()
    if not text:
        return None
    return Fraction(text.replace(",", "."))


EXCLUSION_WORDS = re.compile(r"exclusiv|exclud|wyklucza|alternatyw|either", re.IGNORECASE)


def exclusions_from_meta(election):
    """Groups of mutually exclusive projects stated in META.

    Pabulib states them in prose inside `comment` (e.g. "#3: projects 12 and
    26 were treated as mutually exclusive ..."), or as a key of its own. We
    read every comment item (split at "#n:") or sentence that mentions
    exclusivity, and take the project ids it names as one group. An explicit
    `exclusive_projects` / `exclusions` key ("a,b;c,d" or "a,b|c,d") wins.
    """
    known = {p.id for p in election.projects}
    for key in ("exclusive_projects", "exclusions", "mutually_exclusive"):
        text = election.meta.get(key, "").strip()
        if text:
            groups = [[i.strip() for i in part.split(",") if i.strip()] for part in re.split(r"[|;/]", text)]
            return [set(g) & known for g in groups if len(set(g) & known) > 1]
    groups = []
    comment = election.meta.get("comment", "")
    for item in re.split(r"#\d+\s*:", comment):
        for sentence in re.split(r"(?<=[.!?])\s+", item):
            if not EXCLUSION_WORDS.search(sentence):
                continue
            tokens = re.findall(r"[\w/.\-]+", sentence)
            named = []
            for token in tokens:
                for candidate in (token, token.rstrip(".,")):
                    if candidate in known and candidate not in named:
                        named.append(candidate)
            # Bare small numbers are ambiguous ("two projects", "#2"); only
            # trust them when the sentence names at least two known ids.
            if len(named) > 1:
                groups.append(set(named))
    return groups


def greedy(election, threshold=None, tie_breaking="pabulib", **_):
    result = base_result(election, "greedy", threshold, tie_breaking)
    return run_greedy(result, tie_breaking)


def greedy_no_skip(election, threshold=None, tie_breaking="pabulib", **_):
    result = base_result(election, "greedy-no-skip", threshold, tie_breaking)
    return run_greedy(result, tie_breaking, skip=False)


def greedy_threshold(election, threshold=None, tie_breaking="pabulib", **_):
    if threshold is None:
        threshold = file_threshold(election)
    if threshold is None:
        raise TallyError("greedy-threshold needs a threshold: pass --threshold N or set META "
                         "min_project_score_threshold")
    result = base_result(election, "greedy-threshold", threshold, tie_breaking)
    return run_greedy(result, tie_breaking)


def greedy_exclusive(election, threshold=None, tie_breaking="pabulib", exclusions=None, **_):
    if exclusions is None:
        exclusions = exclusions_from_meta(election)
    exclusions = [set(map(str, group)) for group in exclusions]
    result = base_result(election, "greedy-exclusive", threshold, tie_breaking)
    result.details["exclusions"] = [sorted(group) for group in exclusions]
    return run_greedy(result, tie_breaking, exclusions=exclusions)
