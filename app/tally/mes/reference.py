"""The Method of Equal Shares straight from its definition: the documented oracle.

Plain and slow on purpose: one exact (Fraction) budget per voter, every remaining project
priced again in every round, the add-one walk one share at a time. The fast engine (fast.py)
must give the same winners, order and prices; the tests compare the two on random elections
and on the shared Pabulib files, and `python -m app.tally FILE --rule mes --engine reference`
runs this one (minutes on the large Warsaw files, seconds on small ones).

Definition (equalshares.net; pabutools' `method_of_equal_shares`): every voter starts with
`share`. In each round, every remaining project c is priced at the smallest p with
sum over its supporters of min(budget_i, p) >= cost(c); a project whose supporters hold less
than its cost is dropped. With cost utilities the winner minimises p / cost(c) (maximises the
effective vote count cost(c) / p); with approval utilities it minimises p; ties by the tie
key (rules.tie_key). Its supporters pay min(budget_i, p). The run ends when nothing remaining
is affordable. Supported projects of cost 0 are funded first, at price 0.
"""

from fractions import Fraction

from ..rules import tie_key


def reference_mes(election, share, eligible=None, utility="cost", tie_breaking="pabulib"):
    """MES at `share` per voter: [(project index, price per voter)], free projects first."""
    projects = election.projects
    if eligible is None:
        eligible = [True] * len(projects)
    supporters = [[] for _ in projects]
    voters = [ballot for ballot in election.ballots for _ in range(ballot.weight)]  # one per voter
    for voter, ballot in enumerate(voters):
        for project_id in ballot.projects:
            supporters[election.project_index[project_id]].append(voter)
    tie = [tie_key(tie_breaking, p.cost, len(supporters[c]), p.id) for c, p in enumerate(projects)]
    budgets = [Fraction(share)] * len(voters)
    chosen = [(c, Fraction(0)) for c, p in enumerate(projects) if eligible[c] and supporters[c] and p.cost == 0]
    remaining = {c for c, p in enumerate(projects) if eligible[c] and supporters[c] and p.cost > 0}
    while remaining:
        best = None
        for c in sorted(remaining):
            price = _price(projects[c].cost, [budgets[i] for i in supporters[c]])
            if price is None:  # its supporters cannot pay for it: never again in this run
                remaining.discard(c)
                continue
            key = (price / projects[c].cost if utility == "cost" else price, tie[c])
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


def _price(cost, held):
    """The smallest p with sum(min(b, p) for b in held) >= cost; None if they hold too little."""
    held = sorted(held)
    if sum(held) < cost:
        return None
    paid, left = Fraction(0), len(held)
    for budget in held:
        price = (cost - paid) / left
        if price <= budget:
            return price
        paid += budget
        left -= 1
    raise AssertionError("unreachable: the supporters hold at least the cost")  # pragma: no cover


def reference_add1(election, start, step=1, eligible=None, utility="cost", tie_breaking="pabulib",
                   exhaustive_stop=False):
    """The add-one walk, one share at a time: (chosen, final share, steps).

    From share s, move to s + step while the outcome at s + step fits the budget (and stop
    once s exceeds the budget: then every voter could pay for everything alone). This is the
    walk of equalshares.net's compute tool. (When every fundable project fits in the budget
    together, no outcome overspends and the walk goes straight to the first share above the
    budget, where every fundable project is funded; the tool instead skips its walk when all
    projects fit, keeping MES at B/n -- its walk has no other end -- see mes/__init__.py.)
    With exhaustive_stop (pabutools' variant) the walk also stops at s as soon as the outcome
    at s is exhaustive: no eligible supported project outside it fits in what is left of the
    budget.
    """
    projects = election.projects
    if eligible is None:
        eligible = [True] * len(projects)
    votes = election.supporters()
    fundable = [c for c in range(len(projects)) if eligible[c] and votes[c] > 0]

    def spent(chosen):
        return sum((projects[c].cost for c, _ in chosen), Fraction(0))

    def exhaustive(chosen):
        taken = {c for c, _ in chosen}
        return all(c in taken or spent(chosen) + projects[c].cost > election.budget for c in fundable)

    share, step, steps = Fraction(start), Fraction(step), 0
    if not exhaustive_stop and spent([(c, None) for c in fundable]) <= election.budget:
        # No outcome can overspend, so the loop below would step on until the share exceeds the
        # budget (millions of steps on a real budget): go there at once.
        steps = int((election.budget - share) // step) + 1
        share += steps * step
        return reference_mes(election, share, eligible, utility, tie_breaking), share, steps
    chosen = reference_mes(election, share, eligible, utility, tie_breaking)
    while not (exhaustive_stop and exhaustive(chosen)):
        following = reference_mes(election, share + step, eligible, utility, tie_breaking)
        if spent(following) > election.budget:
            break
        share += step
        chosen = following
        steps += 1
        if share > election.budget:
            break
    return chosen, share, steps
