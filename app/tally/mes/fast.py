"""The fast MES engine: the textbook rule (reference.py) computed for many voters and shares.

Each optimisation, and the textbook step it replaces:

* One budget per voter -> voter *groups* and *classes*. Voters with the same ballot
  (restricted to the projects MES may fund) are one weighted group (`EqualShares.__init__`).
  Within a run, groups that paid for the same winners hold the same budget and are one class
  (a class splits when some of its groups pay for a winner; everyone who ran dry is in class
  0, holding 0). Projects are priced over classes: tens to a few thousand numbers instead of
  up to 90,000 voters.
* Price every remaining project every round -> re-price only what could win. Prices only
  rise within a run, so an old price is a lower bound: a project is re-priced only when some
  of its supporters paid for the last winner and its bound could still beat the best
  (`ExactClassRun._price_until_best_is_known`, `fast_batch._price_contenders`).
* Sort the supporters' budgets to find a price -> water-filling by fixed-point iteration from
  the last price, no sorting, for many (share, project) pairs in one flat NumPy pass
  (`fast_pricing._water_fill`).
* Exact Fractions everywhere -> floats with an error bound on every value; a decision is made
  in floats only with a margin of SAFETY x the bound (float_margins.py), otherwise exactly
  (`fast_exact.ExactClassRun`), so the outcome is always the exact one.
* The add-one walk runs MES once per share -> `add_one` runs MES for chunks of 2, 4, ... 32
  shares at once (`fast_batch.run_batch`: one row per share, NumPy across rows, splitting
  where rows pick different winners). Of every share but the last, the walk needs only that
  its outcome fits the budget (and, for the exhaustive-stop walk, is not exhaustive), which a
  run can often certify half-way (FITS, `fast_batch._certified`). The outcome returned is
  re-run exactly at its share, so every price is an exact Fraction.

Exactness: floats only *propose*. Every float value carries a bound on its rounding error
(budgets accumulate the error of the prices they paid; a price's error is its supporters'
budget error, weighted, over the paying weight, plus the rounding of the sums). A batch row
with any close decision is re-run by the exact engine, which keeps Fractions: a voter who
never ran dry holds exactly share - (sum of the prices of the funded projects they support), a
dry voter holds 0, and every close comparison (ties included, broken by the tie key) is made on
exact values. Tests force each fallback (tests/test_tally_fallbacks.py).
"""

from collections import Counter
from fractions import Fraction
from itertools import chain
from math import floor

import numpy as np

from ..rules import TallyError, tie_key
from .fast_batch import run_batch
from .fast_exact import ExactClassRun
from .float_margins import EPS, FITS, MAX_CHUNK


class EqualShares:
    """One election prepared for repeated MES runs at different voter shares."""

    def __init__(self, election, eligible, utility="cost", tie_breaking="pabulib"):
        if utility not in ("cost", "approval"):
            raise TallyError(f"unknown utility {utility!r}; expected 'cost' or 'approval'")
        self.utility = utility
        self.n = election.voters
        self.budget = election.budget
        self.ids = [p.id for p in election.projects]
        self.cost = [p.cost for p in election.projects]
        # The add-one walk sums costs hundreds of times: in ints when every amount is whole.
        whole = all(Fraction(c).denominator == 1 for c in self.cost + [self.budget])
        self.cost_q = [int(c) for c in self.cost] if whole else [Fraction(c) for c in self.cost]
        self.budget_q = int(self.budget) if whole else Fraction(self.budget)
        count = len(self.ids)
        raw = Counter()  # identical ballots once, with how many voters cast them
        for ballot in election.ballots:
            raw[tuple(ballot.projects)] += ballot.weight
        position = {project_id: c for c, project_id in enumerate(self.ids)}
        listed_lengths = np.fromiter(map(len, raw), dtype=np.intp, count=len(raw))
        listed = np.fromiter(map(position.__getitem__, chain.from_iterable(raw)), dtype=np.intp,
                             count=int(listed_lengths.sum()))
        repeats = np.repeat(np.fromiter(raw.values(), dtype=np.float64, count=len(raw)), listed_lengths)
        votes = [int(v) for v in np.bincount(listed, weights=repeats, minlength=count)]  # exact below 2**53
        self.votes = votes
        self.tie = [tie_key(tie_breaking, self.cost[c], votes[c], self.ids[c]) for c in range(count)]
        self.candidates = [c for c in range(count) if eligible[c] and votes[c] > 0 and self.cost[c] > 0]
        self.free = [c for c in range(count) if eligible[c] and votes[c] > 0 and self.cost[c] == 0]

        # Local numbering: candidate j is project self.candidates[j]. A group: the voters whose
        # ballots list the same candidates.
        by_id = {self.ids[c]: j for j, c in enumerate(self.candidates)}
        if len(self.candidates) == sum(v > 0 for v in votes):  # every listed project is a candidate
            def listed_candidates(ballot):
                return map(by_id.__getitem__, ballot)
        else:
            def listed_candidates(ballot):
                return [by_id[p] for p in ballot if p in by_id]
        groups = {}
        for ballot, repeats in raw.items():
            key = tuple(sorted(listed_candidates(ballot)))
            if key:
                groups[key] = groups.get(key, 0) + repeats
        keys = list(groups)
        self.groups = len(keys)
        self.voters = sum(groups.values())
        weight = np.fromiter(groups.values(), dtype=np.float64, count=len(keys))
        size = len(self.candidates)
        lengths = np.fromiter(map(len, keys), dtype=np.intp, count=len(keys))
        flat_group = np.repeat(np.arange(len(keys)), lengths)
        flat_project = np.fromiter(chain.from_iterable(keys), dtype=np.intp, count=int(lengths.sum()))
        # Each group's candidates, group after group (for what a winner's payers support).
        self.group_start = np.cumsum(lengths) - lengths
        self.group_len = lengths
        self.group_projects = flat_project
        self.group_weight = weight
        self.co_supported = {}
        by_project = flat_group[np.argsort(flat_project, kind="stable")]
        bounds = np.cumsum(np.bincount(flat_project, minlength=size))[:-1]
        self.sg = np.split(by_project, bounds) if size else []
        self.wg = [weight[m] for m in self.sg]
        self.total = np.array([w.sum() for w in self.wg])
        self.cost_exact = [self.cost[c] for c in self.candidates]
        self.cost_f = np.array([float(c) for c in self.cost_exact])
        self.budget_f = float(self.budget)
        self.cost_err = self.cost_f * EPS  # float(cost) is within half an ulp
        self.tie_local = [self.tie[c] for c in self.candidates]
        # Which candidates share a supporter (re-priced when the other wins).
        incidence = np.zeros((len(keys), size), dtype=bool)
        incidence[flat_group, flat_project] = True
        self.overlap = np.array([incidence[m].any(axis=0) for m in self.sg]).reshape(size, size)
        # Exact criterion when every supporter pays cost / supporters, ranked with the tie key.
        if self.utility == "cost":
            clean = [(Fraction(1, int(w)), self.tie_local[j]) for j, w in enumerate(self.total)]
        else:
            clean = [(self.cost_exact[j] / int(w), self.tie_local[j]) for j, w in enumerate(self.total)]
        self.clean_rank = np.empty(size, dtype=np.int64)
        self.clean_rank[sorted(range(size), key=lambda j: clean[j])] = np.arange(size)
        self.runs = 0

    # -- helpers -------------------------------------------------------------------
    def _criterion(self, j, price):
        return price / self.cost_f[j] if self.utility == "cost" else price

    def _exact_criterion(self, j, price):
        return price / self.cost_exact[j] if self.utility == "cost" else price

    def spent(self, chosen):
        return sum(self.cost_q[c] for c, _ in chosen)

    def exhaustive(self, chosen):
        left = self.budget_q - self.spent(chosen)
        taken = {c for c, _ in chosen}
        return all(c in taken or self.cost_q[c] > left for c in self.candidates + self.free)

    # -- one exact run ---------------------------------------------------------------
    def run(self, share):
        """MES with `share` per voter. Returns [(project, exact price per voter)] in order."""
        share = Fraction(share)
        self.share = share
        self.runs += 1
        return [(c, Fraction(0)) for c in self.free] + [
            (self.candidates[j], price) for j, price in ExactClassRun(self, share).go()]

    def outcome(self, share):
        """Winners (project indices, in order) of the run at `share`."""
        return tuple(c for c, _ in self.run(share))

    # -- many float runs at once -------------------------------------------------------
    def outcomes(self, shares, certify=False, exhaustive_stop=True):
        """Winners for each share; certified float batch, exact re-runs where a call was close.

        With certify=True an outcome may instead be FITS: certain to fit the budget (and, with
        exhaustive_stop, not to be exhaustive), which is all the add-one walk needs of it (see
        fast_batch._certified).
        """
        shares = [Fraction(s) for s in shares]
        found = run_batch(self, shares, certify, exhaustive_stop)
        free = tuple(self.free)
        answers = []
        for share, winners in zip(shares, found):
            if winners is None:
                answers.append(self.outcome(share))
            elif winners is FITS:
                answers.append(FITS)
            else:
                answers.append(free + tuple(self.candidates[j] for j in winners))
        return answers

    # -- completion ----------------------------------------------------------------
    def add_one(self, start, step, skip=True, exhaustive_stop=False):
        """Raise the share by `step` while the outcome fits the budget: (chosen, share, steps).

        Exactly the one-step-at-a-time walk of reference.reference_add1: from share s (outcome
        O(s)), stop if O(s + step) overspends, else move to s + step (and stop once the share
        exceeds the budget). With exhaustive_stop (pabutools' variant) also stop at s when O(s)
        is exhaustive. With skip=False every share is run by the exact engine; otherwise shares
        are computed in batches (see `outcomes`).
        """
        start, step = Fraction(start), Fraction(step)
        if not exhaustive_stop and self.spent([(c, None) for c in self.candidates + self.free]) <= self.budget:
            # No outcome can overspend: the walk would step on until the share exceeds the budget.
            k = floor((self.budget - start) / step) + 1
            return self.run(start + k * step), start + k * step, k
        walk = _ShareWalk(self, start, step, skip, exhaustive_stop)
        k = 0
        while not (exhaustive_stop and walk.exhaustive(k)):
            if walk.overspends(k + 1):
                break
            k += 1
            if start + k * step > self.budget:  # every voter could fund everything alone
                break
        share = start + k * step
        chosen = self.run(share)  # prices must describe the outcome returned, at its share
        if walk.outcome(k) is FITS:
            agree = self.spent(chosen) <= self.budget and not (exhaustive_stop and self.exhaustive(chosen))
        else:
            agree = tuple(c for c, _ in chosen) == walk.outcome(k)
        if not agree:
            raise AssertionError("float and exact MES disagree")  # pragma: no cover
        self.runs = len(walk.known)
        return chosen, share, k


class _ShareWalk:
    """The outcomes the add-one walk asks for, by step index k (share start + k * step),
    computed in chunks of shares that double in size (2, 4, ... MAX_CHUNK), so little work is
    wasted past the stopping point."""

    def __init__(self, engine, start, step, skip, exhaustive_stop):
        self.engine, self.start, self.step = engine, start, step
        self.skip, self.exhaustive_stop = skip, exhaustive_stop
        self.limit = None
        if step > 0:
            # The walk never asks for an outcome beyond index floor((B - start) / step) + 1.
            self.limit = max(0, floor((engine.budget - start) / step)) + 1
        self.known = {}
        self.chunk = 2

    def outcome(self, k):
        if k in self.known:
            return self.known[k]
        if not self.skip:
            self.known[k] = self.engine.outcome(self.start + k * self.step)
            return self.known[k]
        last = k + self.chunk if self.limit is None else min(k + self.chunk, self.limit + 1)
        indices = list(range(k, max(last, k + 1)))
        answers = self.engine.outcomes([self.start + i * self.step for i in indices], True, self.exhaustive_stop)
        self.known.update(zip(indices, answers))
        self.chunk = min(self.chunk * 2, MAX_CHUNK)
        return self.known[k]

    def exhaustive(self, k):
        winners = self.outcome(k)
        return winners is not FITS and self.engine.exhaustive([(c, None) for c in winners])

    def overspends(self, k):
        winners = self.outcome(k)
        return winners is not FITS and self.engine.spent([(c, None) for c in winners]) > self.engine.budget
