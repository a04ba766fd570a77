"""The `mes` rule: the Method of Equal Shares for approval ballots, with its completions.

Definition: see reference.py (each of the n voters starts with B/n; each round funds the
project its supporters can pay for with the best effective vote count, each paying
min(budget, price)). Non-approval ballots are read as approval of every project listed on
them, as pabutools does with Cost_Sat.

Completions (`completion=`)
---------------------------
add1              (default) equalshares.net's compute tool: raise every voter's share by
                  `budget_step` (one currency unit) and rerun, *as long as the outcome still
                  fits the budget*; the outcome at the last share that fits is the result.
                  The walk ends once the share exceeds the budget (every voter could then
                  pay for everything alone). One deliberate difference from the tool: when
                  every eligible supported project fits in the budget together, no outcome
                  can overspend; the tool then skips its walk (MES at B/n, which may leave
                  popular projects unfunded; its walk would never end), while here the walk
                  reaches its end at once (the first share above the budget: every
                  supported project funded). The two agree whenever some outcome overspends,
                  which is every Pabulib election with an official equalshares result.
add1u             add1, then what is left is filled greedily by votes.
add1-exhaustive   pabutools' `method_of_equal_shares(voter_budget_increment=1)`: the same
                  walk, but it also stops at the first share whose outcome is *exhaustive*
                  (no eligible supported project outside it fits in what is left).
add1u-exhaustive  add1-exhaustive, then greedy by votes.
utilitarian       MES at B/n, then greedy by votes.
none              MES at B/n.

Why two walks. The cities whose Pabulib META says `equalshares/add1` had their results
computed with equalshares.net's tool, and its walk does not stop at an exhaustive outcome
(its "stop when exhaustive" checkbox, the tool's default, was off for these). Wieliczka 2023
(green budget; tests/data/) shows the difference: at share 1,000,000/6,586 + 150 the outcome
(31 projects, with 66 and 67) is exhaustive, which is where pabutools stops; the walk goes on
to + 164, where the outcome (30 projects, with 46 instead of 66 and 67) is the one the city
funded. Świecie 2023 and Assen 2024 give the city's winners with both walks. (The tool computes
in floats by default; this engine's outcomes are exact, and agree on all three.)
`integral_start=True` starts the walk at floor(B/n) (the tool's "integral endowments").

Engines (`engine=`)
-------------------
fast       (default) fast.py and the modules beside it: grouped voters, batched float runs
           with error bounds, exact fallback. Same results as the reference, much faster.
reference  reference.py: the textbook rule in Fractions, the oracle the tests compare with.

Module map: reference.py (the oracle), fast.py (the engine's setup and the add-one walk; its
docstring maps each optimisation to the textbook step it replaces), fast_batch.py (batched
float runs), fast_pricing.py (float prices with error bounds), fast_exact.py (one exact run
over voter classes), float_margins.py (the margins float decisions need).
"""

from fractions import Fraction
from math import floor

from ..rules import TallyError, base_result, run_greedy
from .fast import EqualShares
from .float_margins import FITS
from .reference import reference_add1, reference_mes

COMPLETIONS = ("add1", "add1u", "add1-exhaustive", "add1u-exhaustive", "utilitarian", "none")
ENGINES = ("fast", "reference")


def method_of_equal_shares(election, threshold=None, tie_breaking="pabulib", utility="cost",
                           completion="add1", budget_step=1, integral_start=False, engine="fast", **_):
    """The `mes` rule (see the module docstring for `completion` and `engine`)."""
    _check_options(utility, completion, engine, budget_step)
    result = base_result(election, "mes", threshold, tie_breaking)
    result.details.update({"utility": utility, "completion": completion})
    if not election.ballots:
        return result
    eligible = [result.projects[p.id].eligible for p in election.projects]
    share = Fraction(election.budget) / election.voters
    result.details["initial_share"] = share
    run, walk = _engine(engine, election, eligible, utility, tie_breaking)
    if completion.startswith("add1"):
        start = Fraction(floor(share)) if integral_start else share
        chosen, share, steps = walk(start, Fraction(budget_step), completion.endswith("-exhaustive"))
        result.details["completion_steps"] = steps
    else:
        chosen = run(share)
    result.details["final_share"] = share
    for c, price in chosen:
        figures = result.projects[election.projects[c].id]
        figures.selected = True
        figures.selected_by = "mes"
        figures.price_per_voter = price
        result.winners.append(figures.id)
    if completion in ("add1u", "add1u-exhaustive", "utilitarian"):
        before = len(result.winners)
        run_greedy(result, tie_breaking)
        for project_id in result.winners[before:]:
            result.projects[project_id].selected_by = "completion"
    return result


def _check_options(utility, completion, engine, budget_step):
    if completion not in COMPLETIONS:
        raise TallyError(f"unknown completion {completion!r}; expected one of {', '.join(COMPLETIONS)}")
    if engine not in ENGINES:
        raise TallyError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if utility not in ("cost", "approval"):
        raise TallyError(f"unknown utility {utility!r}; expected 'cost' or 'approval'")
    if Fraction(budget_step) <= 0:
        raise TallyError(f"budget_step must be positive, not {budget_step!r}")


def _engine(engine, election, eligible, utility, tie_breaking):
    """(run(share) -> chosen, walk(start, step, exhaustive_stop) -> (chosen, share, steps))."""
    if engine == "reference":
        def run(share):
            return reference_mes(election, share, eligible, utility, tie_breaking)

        def walk(start, step, exhaustive_stop):
            return reference_add1(election, start, step, eligible, utility, tie_breaking, exhaustive_stop)
        return run, walk
    fast = EqualShares(election, eligible, utility=utility, tie_breaking=tie_breaking)

    def walk(start, step, exhaustive_stop):
        return fast.add_one(start, step, exhaustive_stop=exhaustive_stop)
    return fast.run, walk


__all__ = ["COMPLETIONS", "ENGINES", "EqualShares", "FITS", "method_of_equal_shares", "reference_add1",
           "reference_mes"]
