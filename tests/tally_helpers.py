"""Shared by the tally tests: where the Pabulib files are, and pabutools as an oracle."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pabulib"


def shared_files():
    return sorted(SHARED.glob("*.pb")) if SHARED.is_dir() else []


def file_header(path):
    """META (key -> value) and the PROJECTS header of a .pb file, read without its votes.

    Cheap enough for test collection: decides which parametrized cases apply to a file
    so that cases that do not apply are never generated (rather than skipped).
    """
    import csv

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


def reference_mes(election, share, eligible=None, utility="cost", tie_breaking="pabulib"):
    """MES straight from the definition: one exact budget per voter, every price recomputed.

    Returns [(project index, price per voter)], free supported projects first (price 0).
    Slow on purpose: the oracle for app.tally.mes on small elections.
    """
    from fractions import Fraction

    from app.tally.rules import tie_key

    projects = election.projects
    if eligible is None:
        eligible = [True] * len(projects)
    supporters = [[] for _ in projects]
    for voter, ballot in enumerate(election.ballots):
        for project_id in ballot.projects:
            supporters[election.project_index[project_id]].append(voter)
    tie = [tie_key(tie_breaking, p.cost, len(supporters[c]), p.id) for c, p in enumerate(projects)]
    budgets = [Fraction(share)] * len(election.ballots)
    chosen = [(c, Fraction(0)) for c, p in enumerate(projects) if eligible[c] and supporters[c] and p.cost == 0]
    remaining = {c for c, p in enumerate(projects) if eligible[c] and supporters[c] and p.cost > 0}
    while remaining:
        best = None
        for c in sorted(remaining):
            cost = projects[c].cost
            held = sorted(budgets[i] for i in supporters[c])
            if sum(held) < cost:
                remaining.discard(c)
                continue
            paid, left = Fraction(0), len(held)
            for budget in held:
                price = (cost - paid) / left
                if price <= budget:
                    break
                paid += budget
                left -= 1
            key = (price / cost if utility == "cost" else price, tie[c])
            if best is None or key < best[0]:
                best = (key, c, price)
        if best is None:
            break
        _, c, price = best
        for i in supporters[c]:
            budgets[i] -= min(budgets[i], price)
        chosen.append((c, price))
        remaining.discard(c)
    return chosen


def reference_add1(election, start, step=1, eligible=None, utility="cost", tie_breaking="pabulib"):
    """The add-one walk, one share at a time: (chosen, final share, steps)."""
    from fractions import Fraction

    projects = election.projects
    if eligible is None:
        eligible = [True] * len(projects)
    votes = election.supporters()
    fundable = [c for c in range(len(projects)) if eligible[c] and votes[c] > 0]
    spent = lambda chosen: sum((projects[c].cost for c, _ in chosen), Fraction(0))

    def exhaustive(chosen):
        taken = {c for c, _ in chosen}
        return all(c in taken or spent(chosen) + projects[c].cost > election.budget for c in fundable)

    share, step, steps = Fraction(start), Fraction(step), 0
    chosen = reference_mes(election, share, eligible, utility, tie_breaking)
    while not exhaustive(chosen):
        following = reference_mes(election, share + step, eligible, utility, tie_breaking)
        if spent(following) > election.budget:
            break
        share += step
        chosen = following
        steps += 1
        if share > election.budget:
            break
    return chosen, share, steps
