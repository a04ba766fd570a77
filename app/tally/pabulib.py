"""Read and write the Pabulib `.pb` format (pabulib.org/format).

A file has three sections, each a line naming it followed by a header line:
META (key;value), PROJECTS (project_id;cost;...), VOTES (voter_id;vote;...).
Fields are `;`-separated with CSV quoting; lists inside a field (the projects
of a vote, the points, categories) are comma-separated.

`write(parse(text))` parses back to the same election, and pabutools 1.2.3
reads our output to the same instance and profile: project_id stays the first
PROJECTS column because pabutools takes a project's name from column one.
"""

import csv
import io
from dataclasses import dataclass
from fractions import Fraction

from .election import VOTE_TYPES, Ballot, Election, Project, as_fraction

SECTIONS = ("meta", "projects", "votes")
PROJECT_COLUMNS = ("project_id", "cost", "name")
VOTE_COLUMNS = ("voter_id", "vote", "points")


class PabulibError(ValueError):
    """A malformed file: says which section and line, and what is wrong."""

    def __init__(self, section, line, message):
        self.section = section
        self.line = line
        self.message = message
        where = f"{section.upper()} section, line {line}" if section else f"line {line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class PabulibWarning:
    """A real-world quirk read with a clear meaning (e.g. a project listed twice in one vote)."""

    section: str
    line: int
    message: str

    def __str__(self):
        return f"{self.section.upper()} section, line {self.line}: {self.message}"


def parse_file(path, strict=False):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return parse(handle.read(), strict=strict)


def parse(text, strict=False):
    """Parse `.pb` text into an Election. Raises PabulibError on malformed input.

    Quirks whose meaning is clear are read and listed in `election.warnings` (PabulibWarning:
    section, line, message): a project listed twice in one approval or choose-1 vote counts
    once. With strict=True they are refused with a PabulibError instead.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    rows = _SectionRows()
    try:
        for row in reader:
            rows.take(row, reader.line_num)
    except csv.Error as error:
        raise PabulibError(rows.section or "", reader.line_num, f"CSV error: {error}") from None
    rows.check_complete(reader.line_num)
    return _build(rows, strict)


class _SectionRows:
    """The rows of a file sorted into its sections, with each section's header checked."""

    def __init__(self):
        self.meta, self.projects, self.votes, self.headers = {}, [], [], {}
        self.section = None
        self.expect_header = False
        self.seen = set()

    def take(self, row, line):
        if not row or (len(row) == 1 and not row[0].strip()):
            return
        first = row[0].strip().lower()
        if first in SECTIONS and all(not cell.strip() for cell in row[1:]):
            if first in self.seen:
                raise PabulibError(first, line, f"section {first.upper()} appears twice")
            self.seen.add(first)
            self.section, self.expect_header = first, True
        elif self.section is None:
            raise PabulibError("", line, "expected META, PROJECTS or VOTES before any data")
        elif self.expect_header:
            self.headers[self.section] = [cell.strip() for cell in row]
            self.expect_header = False
            _check_header(self.section, self.headers[self.section], line)
        elif self.section == "meta":
            self._meta_row(row, line)
        else:
            header = self.headers[self.section]
            if len(row) != len(header):
                raise PabulibError(self.section, line, f"{len(row)} fields but the header has {len(header)}")
            fields = {name: cell.strip() for name, cell in zip(header, row)}
            (self.projects if self.section == "projects" else self.votes).append((line, fields))

    def _meta_row(self, row, line):
        if len(row) < 2:
            raise PabulibError("meta", line, f"expected key;value, got {';'.join(row)!r}")
        key = row[0].strip()
        if key in self.meta:
            raise PabulibError("meta", line, f"key {key!r} given twice")
        self.meta[key] = ";".join(row[1:]).strip() if len(row) > 2 else row[1].strip()

    def check_complete(self, line):
        for name in SECTIONS:
            if name not in self.seen:
                raise PabulibError(name, line, f"missing section {name.upper()}")
            if name not in self.headers:
                raise PabulibError(name, line, "section has no header line")


def _check_header(section, header, line):
    required = {"meta": ("key", "value"), "projects": ("project_id", "cost"), "votes": ("vote",)}[section]
    for column in required:
        if column not in header:
            raise PabulibError(section, line, f"header lacks column {column!r}: {';'.join(header)}")
    if len(set(header)) != len(header):
        raise PabulibError(section, line, "a column name appears twice in the header")


def _number(text, section, line, what):
    try:
        value = as_fraction(text)
    except (ValueError, ZeroDivisionError):
        raise PabulibError(section, line, f"{what} {text!r} is not a number") from None
    return value


def _build(rows, strict):
    meta = rows.meta
    if "budget" not in meta:
        raise PabulibError("meta", 1, "no budget given (key 'budget')")
    budget = _number(meta["budget"], "meta", 1, "budget")
    vote_type = meta.get("vote_type", "approval").strip() or "approval"
    if vote_type not in VOTE_TYPES:
        raise PabulibError("meta", 1, f"unknown vote_type {vote_type!r}; expected one of {', '.join(VOTE_TYPES)}")
    projects = _read_projects(rows.projects)
    votes = _VoteReader(projects, vote_type, strict)
    ballots = [votes.ballot(line, fields) for line, fields in rows.votes]
    election = Election(projects=projects, ballots=ballots, budget=budget, vote_type=vote_type, meta=meta,
                        warnings=votes.warnings)
    election.project_columns = rows.headers["projects"]
    election.vote_columns = rows.headers["votes"]
    return election


def _read_projects(project_rows):
    projects, known = [], set()
    for line, fields in project_rows:
        project_id = fields["project_id"]
        if not project_id:
            raise PabulibError("projects", line, "empty project_id")
        if project_id in known:
            raise PabulibError("projects", line, f"project {project_id!r} listed twice")
        known.add(project_id)
        cost = _number(fields["cost"], "projects", line, "cost")
        if cost < 0:
            raise PabulibError("projects", line, f"negative cost {fields['cost']!r}")
        extra = {k: v for k, v in fields.items() if k not in PROJECT_COLUMNS}
        projects.append(Project(id=project_id, cost=cost, name=fields.get("name", ""), extra=extra))
    return projects


class _VoteReader:
    """VOTES rows to Ballots; many voters cast the same vote text, which is checked once."""

    def __init__(self, projects, vote_type, strict):
        self.canonical = {project.id: project.id for project in projects}  # one str object per project id
        self.vote_type = vote_type
        self.with_points = vote_type in ("cumulative", "scoring")
        self.strict = strict
        self.seen = {}  # vote text -> (its project ids, the ids it lists more than once)
        self.warnings = []

    def ballot(self, line, fields):
        listed = list(self._ids(fields["vote"], line))
        points = None
        if self.with_points:
            raw = fields.get("points", "")
            values = [p.strip() for p in raw.split(",")] if raw else []
            if len(values) != len(listed):
                raise PabulibError("votes", line, f"{len(listed)} projects but {len(values)} points")
            points = [_number(v, "votes", line, "points") for v in values]
        extra = {k: v for k, v in fields.items() if k not in VOTE_COLUMNS}
        if not self.with_points and "points" in fields:
            extra["points"] = fields["points"]
        return Ballot(projects=listed, points=points, voter_id=fields.get("voter_id", ""), extra=extra)

    def _ids(self, text, line):
        if text not in self.seen:
            listed = [p for p in (p.strip() for p in text.split(",")) if p] if text else []
            for project_id in listed:
                if project_id not in self.canonical:
                    raise PabulibError("votes", line, f"vote for unknown project {project_id!r}")
            repeated = sorted({p for p in listed if listed.count(p) > 1})
            once = tuple(self.canonical[p] for p in dict.fromkeys(listed))
            self.seen[text] = (once if repeated else tuple(self.canonical[p] for p in listed), repeated)
        ids, repeated = self.seen[text]
        if repeated:
            self._repeated(repeated, line)
        return ids

    def _repeated(self, repeated, line):
        names = ", ".join(repr(p) for p in repeated)
        if self.strict or self.vote_type not in ("approval", "choose-1"):
            why = "" if self.strict else f" (in a {self.vote_type} vote it is unclear what that means)"
            raise PabulibError("votes", line, f"a project is listed twice in one vote: {names}{why}")
        what = f"project {names} is" if len(repeated) == 1 else f"projects {names} are"
        self.warnings.append(PabulibWarning("votes", line, f"{what} listed twice in one vote; counted once"))


def format_number(value):
    """Exact decimal text for money and points; a/b only when no finite decimal exists."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    denominator, digits = value.denominator, 0
    while denominator % 10 == 0 or denominator % 2 == 0 or denominator % 5 == 0:
        if denominator % 10 == 0:
            denominator //= 10
        elif denominator % 2 == 0:
            denominator //= 2
        else:
            denominator //= 5
        digits += 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    scaled = value * 10**digits
    sign = "-" if scaled < 0 else ""
    text = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}".rstrip("0").rstrip(".")


def _clean(text):
    # pabutools splits the file into lines before reading CSV, so a quoted
    # newline would break it: fold newlines into spaces.
    return str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def write(election):
    """Serialise an Election as `.pb` text (the public ballots.pb export)."""
    if any(ballot.weight != 1 for ballot in election.ballots):
        raise ValueError("a .pb file lists one vote per voter: write ballots one by one, not weighted")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    meta = dict(election.meta)
    defaults = {"description": "Qatysu participatory budget", "country": "Kazakhstan", "unit": "", "instance": ""}
    for key, value in defaults.items():
        meta.setdefault(key, value)
    meta["num_projects"] = str(len(election.projects))
    meta["num_votes"] = str(len(election.ballots))
    meta["budget"] = format_number(election.budget)
    meta["vote_type"] = election.vote_type
    out.write("META\n")
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([_clean(key), _clean(value)])

    extra_project_columns = _columns(getattr(election, "project_columns", []), PROJECT_COLUMNS,
                                     [p.extra for p in election.projects])
    out.write("PROJECTS\n")
    writer.writerow(["project_id", "cost", "name"] + extra_project_columns)
    for project in election.projects:
        writer.writerow([_clean(project.id), format_number(project.cost), _clean(project.name)]
                        + [_clean(project.extra.get(c, "")) for c in extra_project_columns])

    with_points = election.vote_type in ("cumulative", "scoring")
    extra_vote_columns = _columns(getattr(election, "vote_columns", []), VOTE_COLUMNS,
                                  [b.extra for b in election.ballots])
    out.write("VOTES\n")
    writer.writerow(["voter_id", "vote"] + (["points"] if with_points else []) + extra_vote_columns)
    used_ids = set()
    for number, ballot in enumerate(election.ballots, start=1):
        voter_id = ballot.voter_id or str(number)
        while voter_id in used_ids:  # pabutools and Pabulib expect unique voter ids
            voter_id = f"{voter_id}_"
        used_ids.add(voter_id)
        row = [_clean(voter_id), ",".join(ballot.projects)]
        if with_points:
            points = ballot.points if ballot.points is not None else [1] * len(ballot.projects)
            row.append(",".join(format_number(p) for p in points))
        writer.writerow(row + [_clean(ballot.extra.get(c, "")) for c in extra_vote_columns])
    return out.getvalue()


def _columns(file_order, fixed, extras):
    """Extra columns in the order the file had them, then any new ones."""
    columns = [c for c in file_order if c not in fixed]
    for extra in extras:
        for key in extra:
            if key not in columns and key not in fixed:
                columns.append(key)
    return columns
