"""Shared by the tally tests: where the Pabulib files are, and pabutools as an oracle."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pabulib"


def shared_files():
    return sorted(SHARED.glob("*.pb")) if SHARED.is_dir() else []


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
