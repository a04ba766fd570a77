"""Shared by the tally tests: where the Pabulib files are, and pabutools as an oracle.

The textbook MES oracle lives in the package: app.tally.mes.reference.
"""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pabulib"
DATA = Path(__file__).resolve().parent / "data"
MISSING = SHARED / "shared-pabulib-files-missing.pb"  # stands in for every file when the folder is absent


def require_shared():
    """Fail (never skip) when the shared Pabulib files are absent: the engine's tests on real
    data are part of the suite."""
    import pytest

    if not SHARED.is_dir() or not any(SHARED.glob("*.pb")):
        pytest.fail(f"the shared Pabulib files are required: {SHARED} (../shared/pabulib from the project root) "
                    "is missing or empty", pytrace=False)


def shared_files():
    """The shared .pb files; one placeholder when they are absent, so that every test
    parametrized over them runs and fails (see require_shared) instead of collecting nothing."""
    found = sorted(SHARED.glob("*.pb")) if SHARED.is_dir() else []
    return found or [MISSING]


def file_header(path):
    """META (key -> value) and the PROJECTS header of a .pb file, read without its votes.

    Cheap enough for test collection: decides which parametrized cases apply to a file
    so that cases that do not apply are never generated (rather than skipped).
    """
    import csv

    if not path.exists():
        return {}, []
    meta, project_columns, section, header_next = {}, [], None, False
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            if not row:
                continue
            first = row[0].strip().lower()
            if first in ("meta", "projects", "votes") and all(not cell.strip() for cell in row[1:]):
                if first == "votes":
                    break
                section, header_next = first, True
                continue
            if header_next:
                if section == "projects":
                    project_columns = [cell.strip() for cell in row]
                header_next = False
                continue
            if section == "meta" and len(row) >= 2:
                meta[row[0].strip()] = row[1].strip()
    return meta, project_columns


def pabutools_outcome(election, rule, completion="none"):
    """Run pabutools 1.2.3 on our writer's output, with our tie-breaking key."""
    from pabutools.election import Cost_Sat
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    from app.tally import write

    instance, profile = parse_pabulib_from_string(write(election))
    votes = {p: 0 for p in instance}
    for ballot in profile:
        for p in ballot:
            votes[p] += 1
    tie = TieBreakingRule(lambda inst, prof, p: (p.cost, -votes[p], p.name))
    if rule == "greedy":
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=tie)
    else:
        increment = 1 if completion == "add1" else None
        chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=tie,
                                        voter_budget_increment=increment)
    return [p.name for p in chosen]
