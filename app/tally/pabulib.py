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


def parse_file(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return parse(handle.read())


def parse(text):
    """Parse `.pb` text into an Election. Raises PabulibError on malformed input."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    meta, project_rows, vote_rows = {}, [], []
    headers = {}
    section = None
    expect_header = False
    seen = set()
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            first = row[0].strip().lower()
            if first in SECTIONS and all(not cell.strip() for cell in row[1:]):
                if first in seen:
                    raise PabulibError(first, line, f"section {first.upper()} appears twice")
                seen.add(first)
                section, expect_header = first, True
                continue
            if section is None:
                raise PabulibError("", line, "expected META, PROJECTS or VOTES before any data")
            if expect_header:
                headers[section] = [cell.strip() for cell in row]
                expect_header = False
                _check_header(section, headers[section], line)
                continue
            if section == "meta":
                if len(row) < 2:
                    raise PabulibError("meta", line, f"expected key;value, got {';'.join(row)!r}")
                key = row[0].strip()
                if key in meta:
                    raise PabulibError("meta", line, f"key {key!r} given twice")
                meta[key] = ";".join(row[1:]).strip() if len(row) > 2 else row[1].strip()
            else:
                header = headers[section]
                if len(row) != len(header):
                    raise PabulibError(section, line, f"{len(row)} fields but the header has {len(header)}")
                fields = {name: cell.strip() for name, cell in zip(header, row)}
                (project_rows if section == "projects" else vote_rows).append((line, fields))
    except csv.Error as error:
        raise PabulibError(section or "", reader.line_num, f"CSV error: {error}") from None

    for name in SECTIONS:
        if name not in seen:
            raise PabulibError(name, reader.line_num, f"missing section {name.upper()}")
        if name not in headers:
            raise PabulibError(name, reader.line_num, "section has no header line")
    return _build(meta, headers, project_rows, vote_rows)


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


def _build(meta, headers, project_rows, vote_rows):
    if "budget" not in meta:
        raise PabulibError("meta", 1, "no budget given (key 'budget')")
    budget = _number(meta["budget"], "meta", 1, "budget")
    vote_type = meta.get("vote_type", "approval").strip() or "approval"
    if vote_type not in VOTE_TYPES:
        raise PabulibError("meta", 1, f"unknown vote_type {vote_type!r}; expected one of {', '.join(VOTE_TYPES)}")

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

    with_points = vote_type in ("cumulative", "scoring")
    ballots = []
    canonical = {project.id: project.id for project in projects}  # one str object per project id
    seen_votes = {}  # vote text -> its validated project ids (many voters cast the same vote)
    for line, fields in vote_rows:
        text = fields["vote"]
        ids = seen_votes.get(text)
        if ids is None:
            listed = [p.strip() for p in text.split(",")] if text else []
            listed = [p for p in listed if p]
            for project_id in listed:
                if project_id not in known:
                    raise PabulibError("votes", line, f"vote for unknown project {project_id!r}")
            if len(set(listed)) != len(listed):
                raise PabulibError("votes", line, "a project is listed twice in one vote")
            ids = seen_votes[text] = tuple(canonical[p] for p in listed)
        listed = list(ids)
        points = None
        if with_points:
            raw = fields.get("points", "")
            values = [p.strip() for p in raw.split(",")] if raw else []
            if len(values) != len(listed):
                raise PabulibError("votes", line, f"{len(listed)} projects but {len(values)} points")
            points = [_number(v, "votes", line, "points") for v in values]
        extra = {k: v for k, v in fields.items() if k not in VOTE_COLUMNS}
        if not with_points and "points" in fields:
            extra["points"] = fields["points"]
        ballots.append(Ballot(projects=listed, points=points, voter_id=fields.get("voter_id", ""), extra=extra))

    election = Election(projects=projects, ballots=ballots, budget=budget, vote_type=vote_type, meta=meta)
    election.project_columns = headers["projects"]
    election.vote_columns = headers["votes"]
    return election


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
