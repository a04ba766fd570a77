"""The in-memory election that every rule counts: projects, ballots, budget.

A ballot lists project ids. For cumulative and scoring votes it also carries
points (one per listed project); for ordinal votes the list is in rank order.
A ballot's `weight` is how many voters cast it: a counter of identical ballots (the web
app's count at close hands over each distinct ballot once, with its weight) counts exactly as
the same ballots listed one by one.
"""

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

VOTE_TYPES = ("approval", "choose-1", "cumulative", "scoring", "ordinal")


def as_fraction(value):
    """Money and points are exact: accept int, Fraction, Decimal-like str ("12,5" too)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        # Floats from a web form are decimal numbers typed by a person.
        return Fraction(repr(value))
    text = str(value).strip().replace(",", ".")
    return Fraction(text)


@dataclass
class Project:
    id: str
    cost: Fraction
    name: str = ""
    eligible: bool | None = None  # None: decided by the rule's threshold
    extra: dict = field(default_factory=dict)  # other PROJECTS columns, as text

    def __post_init__(self):
        self.id = str(self.id)
        self.cost = as_fraction(self.cost)
        if self.cost < 0:
            raise ValueError(f"project {self.id}: negative cost")


@dataclass
class Ballot:
    projects: list
    points: list | None = None
    voter_id: str = ""
    extra: dict = field(default_factory=dict)  # other VOTES columns, as text
    weight: int = 1  # the number of voters who cast this very ballot

    def __post_init__(self):
        self.projects = [str(p) for p in self.projects]
        if not isinstance(self.weight, int) or self.weight < 1:
            raise ValueError(f"voter {self.voter_id}: weight must be a positive whole number")
        if self.points is not None:
            self.points = [as_fraction(x) for x in self.points]
            if len(self.points) != len(self.projects):
                raise ValueError(f"voter {self.voter_id}: {len(self.projects)} projects but {len(self.points)} points")


@dataclass
class Election:
    """What `count` needs. `ballots` may be Ballot objects or plain iterables of project ids."""

    projects: list
    ballots: list
    budget: Fraction
    vote_type: str = "approval"
    meta: dict = field(default_factory=dict)  # META section as text, in file order
    warnings: list = field(default_factory=list)  # pabulib.PabulibWarning: quirks read from the file

    def __post_init__(self):
        self.budget = as_fraction(self.budget)
        if self.vote_type not in VOTE_TYPES:
            raise ValueError(f"unknown vote_type {self.vote_type!r}; expected one of {', '.join(VOTE_TYPES)}")
        self.projects = [p if isinstance(p, Project) else Project(**p) for p in self.projects]
        ballots = []
        for index, ballot in enumerate(self.ballots):
            if not isinstance(ballot, Ballot):
                ballot = Ballot(projects=list(ballot), voter_id=str(index + 1))
            ballots.append(ballot)
        self.ballots = ballots
        self.project_index = {}
        for position, project in enumerate(self.projects):
            if project.id in self.project_index:
                raise ValueError(f"duplicate project id {project.id!r}")
            self.project_index[project.id] = position
        for ballot in self.ballots:
            for project_id in ballot.projects:
                if project_id not in self.project_index:
                    raise ValueError(f"voter {ballot.voter_id}: unknown project {project_id!r}")
            if len(set(ballot.projects)) != len(ballot.projects):
                raise ValueError(f"voter {ballot.voter_id}: a project is listed twice")

    @property
    def voters(self):
        """How many voters cast the ballots (each ballot counts `weight` times)."""
        return sum(ballot.weight for ballot in self.ballots)

    def supporters(self, ballots=None):
        """Number of voters listing each project (the `votes` of a journalist's table), over
        `ballots`, by default every ballot."""
        tally = Counter()
        for ballot in self.ballots if ballots is None else ballots:
            for project_id in ballot.projects:
                tally[project_id] += ballot.weight
        return [tally.get(project.id, 0) for project in self.projects]

    def ordinal_points(self):
        """Points per rank position for ordinal ballots.

        META `scoring_fn` may list them ("3,2,1"); otherwise the Pabulib/Kraków
        convention: with ballots of at most k projects, rank 1 scores k, rank 2
        k-1, ..., rank k scores 1 (Borda over the ballot length).
        """
        listed = self.meta.get("scoring_fn", "").strip()
        if listed and all(part.strip().replace(".", "", 1).isdigit() for part in listed.split(",")):
            return [as_fraction(part) for part in listed.split(",")]
        longest = max((len(b.projects) for b in self.ballots), default=0)
        declared = self.meta.get("max_length", "").strip()
        k = int(declared) if declared.isdigit() else longest
        k = max(k, longest)
        return [Fraction(k - position) for position in range(k)]

    def threshold_ballots(self):
        """The ballots that count towards a score threshold.

        All of them, unless META `threshold_scope` names a VOTES column: then only the ballots
        whose value in that column is 1 (Qatysu's ballots.pb marks with `in_territory` the
        voters who live in the cycle's territory: only they count for the ten-voter minimum)."""
        column = self.meta.get("threshold_scope", "").strip()
        if not column or column == "all":
            return self.ballots
        return [ballot for ballot in self.ballots if ballot.extra.get(column, "").strip() == "1"]

    def scores(self, ballots=None):
        """What greedy ranks by: votes for approval/choose-1, total points otherwise (over
        `ballots`, by default every ballot)."""
        ballots = self.ballots if ballots is None else ballots
        if self.vote_type in ("approval", "choose-1"):
            return [Fraction(v) for v in self.supporters(ballots)]
        totals = [Fraction(0)] * len(self.projects)
        if self.vote_type == "ordinal":
            by_rank = self.ordinal_points()
            for ballot in ballots:
                for rank, project_id in enumerate(ballot.projects):
                    points = by_rank[rank] if rank < len(by_rank) else 0
                    totals[self.project_index[project_id]] += points * ballot.weight
            return totals
        for ballot in ballots:
            points = ballot.points if ballot.points is not None else [Fraction(1)] * len(ballot.projects)
            for project_id, value in zip(ballot.projects, points):
                totals[self.project_index[project_id]] += value * ballot.weight
        return totals
