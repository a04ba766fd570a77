"""The Method of Equal Shares (MES) for approval ballots, with add-one completion.

Definition (equalshares.net, pabutools `method_of_equal_shares`): each of the
n voters gets B/n. In each round, every remaining project c is priced at the
smallest p with sum over its supporters of min(budget_i, p) >= cost(c). With
cost utilities (the default, as Pabulib's `equalshares`) the winner of the
round minimises p / cost(c) (maximises the effective vote count); with
approval utilities it minimises p. Supporters pay min(budget_i, p). The run
ends when no remaining project is affordable.

Completion "add1": raise every voter's share by one currency unit at a time
and rerun, keeping the last outcome that fits the budget, until the outcome
is exhaustive (no supported project still fits). "add1u" then fills what is
left greedily by votes. Non-approval ballots are read as approval of every
project listed on them, as pabutools does with Cost_Sat.

Exactness: supporters of a project all get the same utility, so a voter who
has never run dry holds exactly share - (sum of the prices of the funded
projects they support) and a voter who ran dry holds 0. Prices are kept as
Fractions; NumPy floats only rank candidates, and every comparison closer than
a relative 1e-9 (ties, affordability, who runs dry) is redone exactly.
"""

from fractions import Fraction
from math import ceil, floor

import numpy as np

from .rules import TallyError, base_result, run_greedy, tie_key

CLOSE = 1e-9


class EqualShares:
    """One election prepared for repeated MES runs at different voter shares."""

    def __init__(self, election, eligible, utility="cost", tie_breaking="pabulib"):
        if utility not in ("cost", "approval"):
            raise TallyError(f"unknown utility {utility!r}; expected 'cost' or 'approval'")
        self.utility = utility
        self.n = len(election.ballots)
        self.budget = election.budget
        self.ids = [p.id for p in election.projects]
        self.cost = [p.cost for p in election.projects]
        self.cost_float = np.array([float(c) for c in self.cost])
        count = len(self.ids)
        members = [[] for _ in range(count)]
        for voter, ballot in enumerate(election.ballots):
            for project_id in ballot.projects:
                members[election.project_index[project_id]].append(voter)
        self.supporters = [np.array(m, dtype=np.int64) for m in members]
        self.votes = [len(m) for m in members]
        self.tie = [tie_key(tie_breaking, self.cost[c], self.votes[c], self.ids[c]) for c in range(count)]
        # Dense voter x project table, only read when a price must be exact.
        self.table = np.zeros((self.n, count), dtype=np.uint8)
        for c, m in enumerate(self.supporters):
            self.table[m, c] = 1
        self.candidates = [c for c in range(count) if eligible[c] and self.votes[c] > 0 and self.cost[c] > 0]
        self.free = [c for c in range(count) if eligible[c] and self.votes[c] > 0 and self.cost[c] == 0]

    # -- one run at a fixed share -------------------------------------------------
    def run(self, share):
        """MES with `share` per voter. Returns [(project, exact price per voter)] in order.

        Also sets `self.stable_for`: how far the share can grow (exclusive)
        with every decision of this run unchanged, hence the same outcome.
        Each voter's budget, each price and each criterion is an affine
        function of the share while the run's structure holds (who pays in
        full, who runs dry, which projects are unaffordable); a project's price
        is moreover convex in the share, so the tangent at this share bounds it
        from below. The horizon is the first share where one of these lines
        crosses the line it was compared with.
        """
        share = Fraction(share)
        self.share = share
        self.money = np.full(self.n, float(share))  # float view of each voter's budget
        self.slope = np.ones(self.n)  # d(money)/d(share)
        self.active = np.ones(self.n, dtype=bool)  # False once a voter ran dry (holds exactly 0)
        self.bought = []
        self.stable_for = np.inf
        chosen = [(c, Fraction(0)) for c in self.free]
        bound = {}  # project -> (criterion, slope): a lower bound on its criterion now
        for c in self.candidates:
            bound[c] = (self._criterion(c, self.cost_float[c] / self.votes[c]), 0.0)
        while bound:
            best_value = np.inf
            measured = []
            for c in sorted(bound, key=lambda c: (bound[c][0], self.tie[c])):
                if bound[c][0] > best_value * (1 + CLOSE):
                    break  # prices only rise: c cannot beat the best any more
                priced = self._float_price(c)
                if priced is None:
                    del bound[c]
                    continue
                price, price_slope = priced
                value, value_slope = self._criterion(c, price), self._criterion(c, price_slope)
                bound[c] = (value, value_slope)
                measured.append((c, price, value))
                best_value = min(best_value, value)
            if not measured:
                break
            close = [(c, price) for c, price, value in measured if value <= best_value * (1 + CLOSE)]
            exact = {}
            if len(close) == 1:
                winner, float_price = close[0]
                price = self._exact_price(winner, float_price)
            else:
                for c, p in close:
                    exact[c] = self._exact_criterion(c, self._exact_price(c, p))
                winner = min(exact, key=lambda c: (exact[c], self.tie[c]))
                price = self._exact_price(winner, dict(close)[winner])
            winner_value, winner_slope = bound[winner]
            for c, (value, value_slope) in bound.items():
                if c == winner:
                    continue
                if c in exact:
                    difference = float(exact[c] - exact[winner])
                    if difference == 0 and value_slope < winner_slope - CLOSE * max(abs(winner_slope), 1e-12):
                        self.stable_for = 0.0  # a tie that tips the other way as the share grows
                    value = winner_value + difference
                self._horizon(value - winner_value, winner_slope - value_slope)
            self._charge(winner, price)
            chosen.append((winner, price))
            del bound[winner]
        return chosen

    def _horizon(self, gap, closing_speed):
        """Record where a positive `gap` closing at `closing_speed` per unit of share reaches 0."""
        if closing_speed > 0 and gap >= 0:
            self.stable_for = min(self.stable_for, gap / closing_speed)

    def _criterion(self, c, price):
        return price / self.cost_float[c] if self.utility == "cost" else price

    def _exact_criterion(self, c, price):
        return price / self.cost[c] if self.utility == "cost" else price

    def _float_price(self, c):
        """(price, d price/d share) of c in floats, or None when its supporters cannot afford it."""
        voters = self.supporters[c]
        money = self.money[voters]
        cost = self.cost_float[c]
        total = money.sum()
        affordable = total >= cost * (1 + CLOSE) or (
            total >= cost * (1 - CLOSE) and self._exact_money(voters) >= self.cost[c])
        if not affordable:
            if abs(total - cost) <= CLOSE * cost:
                self.stable_for = 0.0
            self._horizon(cost - total, self.slope[voters].sum())
            return None
        order = np.argsort(money, kind="stable")
        money = money[order]
        paid_before = np.cumsum(money) - money
        remaining = money.size - np.arange(money.size)
        price = (cost - paid_before) / remaining
        fits = price <= money
        poor = int(np.argmax(fits)) if fits.any() else money.size - 1
        slope = -self.slope[voters][order[:poor]].sum() / (money.size - poor)
        return float(price[poor]), float(slope)

    def _exact_money(self, voters):
        """Exact total budget held by `voters`."""
        voters = voters[self.active[voters]]
        total = self.share * len(voters)
        if self.bought and len(voters):
            columns = [c for c, _ in self.bought]
            counts = self.table[np.ix_(voters, columns)].sum(axis=0, dtype=np.int64)
            for (c, price), count in zip(self.bought, counts):
                if count:
                    total -= price * int(count)
        return total

    def _exact_budget(self, voter):
        if not self.active[voter]:
            return Fraction(0)
        budget = self.share
        for c, price in self.bought:
            if self.table[voter, c]:
                budget -= price
        return budget

    def _exact_price(self, c, float_price):
        voters = self.supporters[c]
        money = self.money[voters]
        gap = CLOSE * max(float_price, 1.0)
        poor = voters[money < float_price - gap]
        near = voters[np.abs(money - float_price) <= gap]
        paid = self._exact_money(poor)
        left = len(voters) - len(poor)
        near_budgets = sorted(self._exact_budget(v) for v in near)
        for budget in near_budgets:
            price = (self.cost[c] - paid) / left
            if price <= budget:
                return price
            paid += budget
            left -= 1
        if left == 0:
            raise AssertionError(f"project {self.ids[c]} priced although unaffordable")
        return (self.cost[c] - paid) / left

    def _charge(self, c, price):
        voters = self.supporters[c]
        money = self.money[voters]
        float_price = float(price)
        gap = CLOSE * max(float_price, 1.0)
        dry = money < float_price - gap
        near = np.abs(money - float_price) <= gap
        for position in np.flatnonzero(near):
            dry[position] = self._exact_budget(voters[position]) <= price
        # Structure horizon: when does a supporter cross the price line?
        price_slope = -self.slope[voters][dry].sum() / max(int((~dry).sum()), 1)
        alive = self.active[voters]
        speeds = self.slope[voters] - price_slope
        if np.any(near & alive):
            self.stable_for = 0.0
        poor = dry & alive & (speeds > 0)
        if poor.any():
            self.stable_for = min(self.stable_for, float(np.min((float_price - money[poor]) / speeds[poor])))
        rich = ~dry & (speeds < 0)
        if rich.any():
            self.stable_for = min(self.stable_for, float(np.min((money[rich] - float_price) / -speeds[rich])))
        self.bought.append((c, price))
        dry_voters = voters[dry]
        rich_voters = voters[~dry]
        self.money[dry_voters] = 0.0
        self.slope[dry_voters] = 0.0
        self.active[dry_voters] = False
        self.money[rich_voters] -= float_price
        self.slope[rich_voters] -= price_slope

    # -- completion ---------------------------------------------------------------
    def exhaustive(self, chosen):
        spent = sum((self.cost[c] for c, _ in chosen), Fraction(0))
        taken = {c for c, _ in chosen}
        return all(c in taken or spent + self.cost[c] > self.budget for c in self.candidates + self.free)

    def spent(self, chosen):
        return sum((self.cost[c] for c, _ in chosen), Fraction(0))

    def add_one(self, start, step, skip=True):
        """Raise the share by `step` until the outcome is exhaustive or would overspend.

        Steps inside the horizon of the last run give the same outcome, which
        is neither exhaustive nor over budget, so the walk jumps over them.
        """
        share = start
        chosen = self.run(share)
        steps = runs = 0
        while not self.exhaustive(chosen):
            horizon = self.stable_for * (1 - 1e-7) - 1e-7 * max(float(share), 1.0)
            same = max(0, ceil(horizon / float(step)) - 1) if np.isfinite(horizon) and horizon > 0 else 0
            if not skip:
                same = 0
            elif not np.isfinite(self.stable_for):
                break  # no share, however large, changes this outcome
            share += same * step
            steps += same
            following = self.run(share + step)
            runs += 1
            if self.spent(following) > self.budget:
                break
            share += step
            chosen = following
            steps += 1
            if share > self.budget:  # every voter could fund everything alone
                break
        # Prices must describe the outcome returned, at its share.
        if self.share != share:
            chosen = self.run(share)
        self.runs = runs
        return chosen, share, steps


def method_of_equal_shares(election, threshold=None, tie_breaking="pabulib", utility="cost",
                           completion="add1", budget_step=1, integral_start=False, **_):
    """The `mes` rule. completion: "add1" (default), "add1u", "utilitarian" or "none"."""
    if completion not in ("add1", "add1u", "utilitarian", "none"):
        raise TallyError(f"unknown completion {completion!r}; expected add1, add1u, utilitarian or none")
    result = base_result(election, "mes", threshold, tie_breaking)
    result.details.update({"utility": utility, "completion": completion})
    if not election.ballots:
        return result
    eligible = [result.projects[p.id].eligible for p in election.projects]
    engine = EqualShares(election, eligible, utility=utility, tie_breaking=tie_breaking)
    share = Fraction(election.budget) / engine.n
    result.details["initial_share"] = share
    if completion in ("add1", "add1u"):
        start = Fraction(floor(share)) if integral_start else share
        chosen, share, steps = engine.add_one(start, Fraction(budget_step))
        result.details["completion_steps"] = steps
    else:
        chosen = engine.run(share)
    result.details["final_share"] = share
    for c, price in chosen:
        figures = result.projects[engine.ids[c]]
        figures.selected = True
        figures.selected_by = "mes"
        figures.price_per_voter = price
        result.winners.append(figures.id)
    if completion in ("add1u", "utilitarian"):
        result.rule = "mes"
        before = len(result.winners)
        run_greedy(result, tie_breaking)
        for project_id in result.winners[before:]:
            result.projects[project_id].selected_by = "completion"
    return result
