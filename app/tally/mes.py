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

How it is fast
--------------
* Voters with the same ballot (restricted to the projects MES may fund) are
  one *group* with a weight. Within a run, voters who have paid for the same
  funded projects hold the same budget, so groups are further merged into
  *classes* (a group's class is split when it pays for a winner; every voter
  who ran dry is in one class that holds 0). A project is priced over the
  classes of its supporters: tens to a few thousand numbers instead of up to
  90,000 voters.
* Prices only rise within a run, so a price computed in an earlier round is
  a lower bound; a project is re-priced only when some of its supporters
  paid for the last winner and its old bound could still beat the best.
* The add-one walk runs MES for many shares at once (a *batch*: one row per
  share, NumPy across rows), splitting the batch when rows pick different
  winners. The sub-batches advance round by round together, and one flat pass
  prices what all of them need (a pass costs mostly per NumPy call, not per
  number). Chunks of shares double in size, so little work is wasted past the
  stopping point.
* The walk needs to know, of every share but the last, only that its outcome
  fits the budget and is not exhaustive. Prices only rise within a run, so a
  project that has become unaffordable stays unfunded, and everything funded
  later is among the projects still affordable. Once the spending so far plus
  the cost of all of those leaves room for an unfunded project, the share is
  settled (FITS) and its run stops: on the Warsaw files about half way. What
  each project's supporters hold is kept up to date as they pay, so
  unaffordable projects are recognised without pricing them.

Exactness: floats only *propose*. Every float value carries a bound on its
rounding error (budgets accumulate the error of the prices they paid; a
price's error is its supporters' budget error, weighted, over the paying
weight, plus the rounding of the sums). A decision -- which project wins a
round, whether a project is affordable, whether a voter runs dry -- is taken
in floats only when the float margin exceeds SAFETY times that bound (and a
relative 1e-10). A batch row with any closer decision is re-run by the exact
engine, which keeps Fractions: a voter who never ran dry holds exactly
share - (sum of the prices of the funded projects they support), a dry voter
holds 0, and every close comparison (ties included, broken by the tie key)
is made on exact values. The outcome returned is re-run exactly at its share,
so every price_per_voter is an exact Fraction.
"""

from collections import Counter
from fractions import Fraction
from itertools import chain
from math import floor

import numpy as np

from .rules import TallyError, base_result, run_greedy, tie_key

EPS = 2.0 ** -52  # twice the unit round-off of float64
SAFETY = 16.0  # float decisions need a margin of SAFETY x the error bound
REL = 1e-10  # ... and of this much relative to the values compared
MAX_FILL = 40  # water-filling iterations before a row is handed to the exact engine
AHEAD = 0.03  # with no fresh price yet, first price the candidates this close to the smallest bound
FITS = "fits"  # a batch row stopped once certain to fit the budget without being exhaustive
MAX_CHUNK = 32  # shares per batch in the add-one walk (at most this many computed past the stop)


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
        # The add-one walk sums costs hundreds of times: in ints when every amount is whole.
        whole = all(Fraction(c).denominator == 1 for c in self.cost + [self.budget])
        self.cost_q = [int(c) for c in self.cost] if whole else [Fraction(c) for c in self.cost]
        self.budget_q = int(self.budget) if whole else Fraction(self.budget)
        count = len(self.ids)
        raw = Counter(tuple(ballot.projects) for ballot in election.ballots)  # identical ballots once
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
            (self.candidates[j], price) for j, price in _ExactRun(self, share).go()]

    def outcome(self, share):
        """Winners (project indices, in order) of the run at `share`."""
        return tuple(c for c, _ in self.run(share))

    # -- many float runs at once -------------------------------------------------------
    def outcomes(self, shares, certify=False):
        """Winners for each share; certified float batch, exact re-runs where a call was close.

        With certify=True an outcome may instead be FITS: certain to fit the budget and not to
        be exhaustive, which is all the add-one walk needs of it (see _certified).
        """
        shares = [Fraction(s) for s in shares]
        found = _batch(self, shares, certify)
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
    def add_one(self, start, step, skip=True):
        """Raise the share by `step` until the outcome is exhaustive or would overspend.

        Exactly the one-step-at-a-time walk: from share s (outcome O(s)), stop if
        O(s) is exhaustive or O(s + step) overspends, else move to s + step
        (and stop once the share exceeds the budget). With skip=False every
        share is run by the exact engine; otherwise shares are computed in
        batches (see `outcomes`).
        """
        start, step = Fraction(start), Fraction(step)
        limit = None
        if step > 0:
            # The walk never asks for an outcome beyond index floor((B - start) / step) + 1.
            limit = max(0, floor((self.budget - start) / step)) + 1
        known = {}
        chunk = 2

        def outcome(k):
            nonlocal chunk
            if k not in known:
                if not skip:
                    known[k] = self.outcome(start + k * step)
                else:
                    last = k + chunk if limit is None else min(k + chunk, limit + 1)
                    last = max(last, k + 1)
                    indices = list(range(k, last))
                    for i, winners in zip(indices, self.outcomes([start + i * step for i in indices], True)):
                        known[i] = winners
                    chunk = min(chunk * 2, MAX_CHUNK)
            return known[k]

        def as_chosen(winners):
            return [(c, None) for c in winners]

        def exhaustive(winners):
            return winners is not FITS and self.exhaustive(as_chosen(winners))

        def overspends(winners):
            return winners is not FITS and self.spent(as_chosen(winners)) > self.budget

        k = 0
        while not exhaustive(outcome(k)):
            if overspends(outcome(k + 1)):
                break
            k += 1
            if start + k * step > self.budget:  # every voter could fund everything alone
                break
        share = start + k * step
        chosen = self.run(share)  # prices must describe the outcome returned, at its share
        if outcome(k) is FITS:
            agree = self.spent(chosen) <= self.budget and not self.exhaustive(chosen)
        else:
            agree = tuple(c for c, _ in chosen) == outcome(k)
        if not agree:
            raise AssertionError("float and exact MES disagree")  # pragma: no cover
        self.runs = len(known)
        return chosen, share, k


class _ExactRun:
    """One MES run at a fixed share with exact (Fraction) decisions and prices."""

    def __init__(self, engine, share):
        self.e = engine
        self.share = share
        size = len(engine.candidates)
        groups = engine.groups
        self.cls = np.ones(groups, dtype=np.intp)  # class 0: dry voters; class 1: everyone at start
        capacity = max(4, 2 * groups + 2)
        self.beta = np.zeros(capacity)  # float budget of each class
        self.beta[1] = float(share)
        self.dry = np.zeros(capacity, dtype=bool)
        self.dry[0] = True
        self.size = np.zeros(capacity, dtype=np.int64)  # groups per class
        self.size[1] = groups
        self.paths = np.zeros((capacity, max(size, 1)), dtype=bool)  # winners paid for, by round
        self.classes = 2
        self.delta = EPS * float(share)  # bound on the error of every float budget
        self.prices = []  # exact price of the winner of each round
        self.weights = [None] * size  # per candidate: (class ids, weights) of its supporters

    def _class_weights(self, j):
        if self.weights[j] is None:
            ids = self.cls[self.e.sg[j]]
            w = np.bincount(ids, weights=self.e.wg[j], minlength=self.classes)
            nz = np.flatnonzero(w)
            if nz.size and nz[0] == 0:
                nz = nz[1:]  # the dry hold nothing
            self.weights[j] = (nz, w[nz])
        return self.weights[j]

    def _money(self, ids, weights):
        """Exact total budget of `weights` voters in classes `ids` (dry classes hold 0)."""
        keep = ~self.dry[ids]
        ids, weights = ids[keep], weights[keep]
        total = self.share * int(weights.sum())
        if self.prices and ids.size:
            counts = weights @ self.paths[ids, :len(self.prices)]
            for t in np.flatnonzero(counts):
                total -= self.prices[t] * int(counts[t])
        return total

    def _budget(self, k):
        if self.dry[k]:
            return Fraction(0)
        return self.share - sum((self.prices[t] for t in np.flatnonzero(self.paths[k, :len(self.prices)])),
                                Fraction(0))

    def _float_price(self, j):
        """(affordable or None when unsure, price, error bound) in floats."""
        nz, w = self._class_weights(j)
        e = self.e
        cost = e.cost_f[j]
        b = self.beta[nz]
        weight = float(w.sum())
        total = float(b @ w)
        total_err = weight * self.delta + (nz.size + 2) * EPS * max(total, cost) + e.cost_err[j]
        margin = SAFETY * total_err + REL * cost
        if total < cost - margin:
            return False, None, None
        if total < cost + margin:
            return None, None, None
        return (True,) + _price_rows(b[None, :], w, cost, weight, self.delta, np.inf, e.cost_err[j], single=True)

    def go(self):
        e = self.e
        size = len(e.candidates)
        alive = np.ones(size, dtype=bool)
        fresh = np.zeros(size, dtype=bool)
        crit = np.full(size, np.inf)
        err = np.zeros(size)
        price = np.zeros(size)
        price_err = np.zeros(size)
        lo = np.array([e._criterion(j, e.cost_f[j] / e.total[j]) for j in range(size)]) * (1 - 1e-9) \
            if size else np.zeros(0)
        exact_price = {}
        chosen = []
        while alive.any():
            while True:
                live = np.flatnonzero(alive & fresh)
                if live.size:
                    best = live[np.argmin(crit[live])]
                    hi = crit[best] + SAFETY * err[best] + REL * crit[best]
                else:
                    best, hi = None, np.inf
                pending = [j for j in np.flatnonzero(alive & ~fresh) if lo[j] <= hi]
                if not pending:
                    break
                j = min(pending, key=lambda j: lo[j])
                affordable, p, p_err = self._float_price(j)
                if affordable is None:  # too close to call in floats
                    nz, w = self._class_weights(j)
                    affordable = self._money(nz, w) >= e.cost_exact[j]
                    if affordable:
                        q = self._exact_price(j, None, None)
                        exact_price[j] = q
                        p, p_err = float(q), EPS * float(q)
                if not affordable:
                    alive[j] = False
                    continue
                fresh[j] = True
                price[j], price_err[j] = p, p_err
                crit[j] = e._criterion(j, p)
                err[j] = e._criterion(j, p_err) + EPS * crit[j]
                lo[j] = crit[j] - SAFETY * err[j] - REL * crit[j]
            if best is None:
                break
            close = [j for j in np.flatnonzero(alive) if j == best or lo[j] <= hi]
            if len(close) == 1:
                winner = best
            else:
                exact = {}
                for j in close:
                    if j not in exact_price:
                        exact_price[j] = self._exact_price(j, price[j], price_err[j])
                    exact[j] = e._exact_criterion(j, exact_price[j])
                winner = min(exact, key=lambda j: (exact[j], e.tie_local[j]))
            if winner not in exact_price:
                exact_price[winner] = self._exact_price(winner, price[winner], price_err[winner])
            p = exact_price.pop(winner)
            self._charge(winner, p)
            chosen.append((winner, p))
            alive[winner] = False
            stale = e.overlap[winner]
            fresh &= ~stale
            for j in np.flatnonzero(stale):
                exact_price.pop(j, None)
        return chosen

    def _exact_price(self, j, float_price, float_err):
        nz, w = self._class_weights(j)
        b = self.beta[nz]
        cost = self.e.cost_exact[j]
        if float_price is None:
            near = np.ones(nz.size, dtype=bool)
            poor = np.zeros(nz.size, dtype=bool)
        else:
            gap = SAFETY * (float_err + self.delta) + REL * float_price
            poor = b < float_price - gap
            near = ~poor & (b <= float_price + gap)
        paid = self._money(nz[poor], w[poor])
        left = int(w.sum()) - int(w[poor].sum())
        for budget, count in sorted((self._budget(k), int(c)) for k, c in zip(nz[near], w[near])):
            price = (cost - paid) / left
            if price <= budget:
                return price
            paid += budget * count
            left -= count
        if left == 0:
            raise AssertionError(f"project {self.e.ids[self.e.candidates[j]]} priced although unaffordable")
        return (cost - paid) / left

    def _charge(self, j, price):
        """Supporters of j pay min(budget, price); their classes split off."""
        sg = self.e.sg[j]
        old = self.cls[sg]
        p = float(price)
        gap = SAFETY * self.delta + 4 * EPS * p + REL * p
        uniq, inverse, counts = np.unique(old, return_inverse=True, return_counts=True)
        t = len(self.prices)
        real = uniq != 0
        b = self.beta[uniq]
        dry = real & (b < p - gap)
        near = real & ~dry & (b <= p + gap)
        for position in np.flatnonzero(near):
            dry[position] = self._budget(uniq[position]) <= price  # reads rounds before t only
        self.prices.append(price)
        paying = real & ~dry
        whole = paying & (counts == self.size[uniq])
        split = paying & ~whole
        target = uniq.copy()
        target[dry] = 0
        gone = uniq[dry]
        self.size[gone] -= counts[dry]
        self.size[0] += int(counts[dry].sum())
        fresh = np.arange(self.classes, self.classes + int(split.sum()))
        self.classes += fresh.size
        source = uniq[split]
        target[split] = fresh
        self.size[source] -= counts[split]
        self.size[fresh] = counts[split]
        self.paths[fresh] = self.paths[source]
        paid = target[paying]
        self.paths[paid, t] = True
        self.beta[paid] = b[paying] - p
        self.cls[sg] = target[inverse]
        self.delta += EPS * max(float(self.share), 1.0) + EPS * p
        stale = self.e.overlap[j]
        self.weights = [None if stale[i] else cached for i, cached in enumerate(self.weights)]


def _price_rows(b, w, cost, weight, delta, e1, cost_err, single=False):
    """MES price per row of budgets `b` (rows x classes) with class weights `w`.

    Every row must afford the project. Returns (price, error bound), arrays or
    scalars with single=True. `delta` bounds the error of each budget, `e1`
    the weighted sum of the errors of all budgets. Water-filling: sort the budgets; the price is
    (cost - paid by the poorer) / (weight of the rest) at the first position
    where it does not exceed the budget there.
    """
    order = np.argsort(b, axis=1, kind="stable")
    bs = np.take_along_axis(b, order, axis=1)
    ws = w[order]
    bw = bs * ws
    paid_before = np.cumsum(bw, axis=1) - bw
    rest = weight - (np.cumsum(ws, axis=1) - ws)
    prices = (cost - paid_before) / rest
    fits = prices <= bs
    at = np.argmax(fits, axis=1)
    rows = np.arange(b.shape[0])
    price = prices[rows, at]
    rest_at = rest[rows, at]
    m = b.shape[1]
    spread = np.minimum(e1, (weight - rest_at) * delta)  # the poorer's budget errors, all passed on
    error = (spread + 2 * (m + 2) * EPS * cost + cost_err) / rest_at + 2 * EPS * price
    if single:
        return float(price[0]), float(error[0])
    return price, error


def _batch(engine, shares, certify=False):
    """Float MES outcomes (local candidate indices) per share; None where a call was too close.

    With certify=True a row whose outcome is certain, part-way through its run, to fit the
    budget and not be exhaustive is stopped there, with the result FITS (see _certified).
    """
    e = engine
    size = len(e.candidates)
    rows = len(shares)
    results = [None] * rows
    if size == 0:
        return [()] * rows
    groups = e.groups
    capacity = 2 * groups + 2
    state = {
        "rows": np.arange(rows),
        "beta": np.zeros((rows, 16)),
        # Bound on the weighted sum of all budget errors (see _charge_batch): it does not grow
        # when a price passes the poorer's errors on to the richer, only by fresh rounding.
        "delta": np.array([EPS * e.voters * max(float(s), 1.0) for s in shares]),
        "share": np.array([float(s) for s in shares]),
        "cls": np.ones(groups, dtype=np.intp),
        "size": np.zeros(capacity, dtype=np.int64),
        "classes": 2,
        "alive": np.ones((rows, size), dtype=bool),
        "fresh": np.zeros(size, dtype=bool),
        "crit": np.full((rows, size), np.inf),
        "err": np.zeros((rows, size)),
        "price": np.zeros((rows, size)),
        "price_err": np.zeros((rows, size)),
        "lo": np.tile(np.array([e._criterion(j, e.cost_f[j] / e.total[j]) for j in range(size)]) * (1 - 1e-9),
                      (rows, 1)),
        "clean": np.zeros((rows, size), dtype=bool),
        "weights": [None] * size,
        "valid": np.zeros(size, dtype=bool),  # weights[j] describes the current classes
        "winners": [],
        # What the supporters of each project hold (rows x candidates), and a bound on its
        # error in units of EPS x (supporters x share) on top of the budgets' own.
        "money": np.array([float(s) for s in shares])[:, None] * e.total[None, :],
        "money_err": 2.0,
        "certify": certify,
    }
    state["beta"][:, 1] = state["share"]
    state["size"][1] = groups
    # Every sub-batch runs as a generator that yields what it needs priced; the sub-batches
    # advance round by round together, so one pass prices for all of them (most of the cost
    # of a pass is per NumPy call, not per number).
    spawned = [state]
    waiting = []
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 and x/0 rows are caught by their masks
        while spawned or waiting:
            while spawned:
                run = _advance(e, spawned.pop(), spawned, results)
                request = next(run, None)
                if request is not None:
                    waiting.append((run, request))
            if not waiting:
                break
            _evaluate_requests(e, [request for _, request in waiting])
            resumed = []
            for run, _ in waiting:
                request = next(run, None)
                if request is not None:
                    resumed.append((run, request))
            waiting = resumed
    return results


def _split(state, keep):
    """A copy of `state` restricted to rows `keep` (bool mask)."""
    out = {}
    for key, value in state.items():
        if key in ("beta", "delta", "share", "alive", "crit", "err", "price", "price_err", "lo", "rows", "clean",
                   "money"):
            out[key] = value[keep].copy()
        elif key in ("cls", "size", "fresh", "valid"):
            out[key] = value.copy()
        elif key in ("weights", "winners"):
            out[key] = list(value)
        else:
            out[key] = value
    return out


def _restrict(s, keep):
    """Restrict the batch `s` to rows `keep`, in place (its generator holds on to `s`)."""
    kept = _split(s, keep)
    s.clear()
    s.update(kept)


def _advance(e, s, spawned, results):
    """Run the batch `s` to the end, spawning sub-batches where rows pick different winners.

    A generator: it yields (s, candidates, unsure) for each pricing pass it needs and is
    resumed once that pass is done (see _evaluate_requests).
    """
    size = len(e.candidates)
    while True:
        nrows = s["rows"].size
        if nrows == 0:
            return
        if s["certify"]:
            certain = _certified(e, s)
            if certain.any():
                for row in s["rows"][certain]:
                    results[row] = FITS
                _restrict(s, ~certain)
                continue
        alive, fresh, crit, err, lo = s["alive"], s["fresh"], s["crit"], s["err"], s["lo"]
        unsure = np.zeros(nrows, dtype=bool)
        anyalive = alive.any(axis=0)
        if not anyalive.any():
            for r, row in enumerate(s["rows"]):
                results[row] = tuple(s["winners"])
            return
        usable = alive & fresh[None, :]
        hi = np.where(usable, crit + SAFETY * err + REL * crit, np.inf)
        best_hi = hi.min(axis=1)
        stale = np.flatnonzero(anyalive & ~fresh)
        if stale.size:
            lows = np.where(alive[:, stale], lo[:, stale], np.inf)
            if not np.isfinite(best_hi).all():
                # Nothing fresh to compare with: price the most promising few first.
                # (A round's winner is usually within a few per cent of the smallest
                # bound; pricing those together saves a second pass in most rounds.)
                smallest = lows.min(axis=0)
                first = stale[smallest <= smallest.min() + AHEAD * abs(smallest.min())]
                yield s, first, unsure
                fresh[first] = True
                hi = np.where(alive[:, first], crit[:, first] + SAFETY * err[:, first] + REL * crit[:, first], np.inf)
                best_hi = np.minimum(best_hi, hi.min(axis=1))
                picked = np.zeros(size, dtype=bool)
                picked[first] = True
                lows[:, picked[stale]] = np.inf
            need = stale[(lows <= best_hi[:, None]).any(axis=0)]
            if need.size:
                yield s, need, unsure
                fresh[need] = True
        usable = alive & fresh[None, :]
        has = usable.any(axis=1)
        done = ~has & ~unsure
        if done.any():
            for row in s["rows"][done]:
                results[row] = tuple(s["winners"])
        values = np.where(usable, crit, np.inf)
        best = np.argmin(values, axis=1)
        r = np.arange(nrows)
        hi_best = values[r, best] + SAFETY * err[r, best] + REL * values[r, best]
        near = alive & (lo <= hi_best[:, None])
        near[r, best] = True
        close = has & (near.sum(axis=1) > 1)
        if close.any():
            # Ties where every contender is clean have exact criteria: decide by clean_rank.
            certain = close & ~(near & ~(fresh[None, :] & s["clean"])).any(axis=1)
            ranked = np.where(near, e.clean_rank[None, :], np.iinfo(np.int64).max)
            best = np.where(certain, np.argmin(ranked, axis=1), best)
            unsure |= close & ~certain
        keep = has & ~unsure
        if not keep.all():
            _restrict(s, keep)
            best = best[keep]
            if not keep.any():
                return
        winners = best[:1] if (best == best[0]).all() else np.unique(best)
        for w in winners[1:]:
            part = _split(s, best == w)
            _charge_batch(e, part, int(w))
            spawned.append(part)
        if winners.size > 1:
            first = best == winners[0]
            _restrict(s, first)
        _charge_batch(e, s, int(winners[0]))


def _certified(e, s):
    """Rows whose outcome certainly fits the budget and is not exhaustive.

    Prices only rise within a run, so a project found unaffordable stays unfunded, and what is
    still funded later is among the projects not yet found unaffordable. If the spending so far
    plus all of those leaves room for an unfunded project, the outcome fits and is not
    exhaustive, whatever else the run funds. That is all the add-one walk asks of every share
    but the last, and it often holds long before the run ends.
    """
    spent = e.cost_f[s["winners"]].sum()
    won = np.zeros(e.cost_f.size, dtype=bool)
    won[s["winners"]] = True

    def settled():
        alive = s["alive"]
        room = e.budget_f - spent - np.einsum("rp,p->r", alive, e.cost_f)
        unfunded = np.where(alive | won[None, :], np.inf, e.cost_f[None, :]).min(axis=1)
        return room - unfunded >= REL * e.budget_f

    certain = settled()
    if certain.all():
        return certain
    # Projects not priced since their supporters last paid may have become unaffordable:
    # the money their supporters hold is kept up to date (see _charge_batch).
    money_err = s["delta"][:, None] + s["money_err"] * EPS * e.total[None, :] * s["share"][:, None]
    s["alive"] &= s["money"] + SAFETY * money_err + REL * e.cost_f[None, :] >= e.cost_f[None, :]
    return settled()


def _class_weights_batch(e, s, j):
    if not s["valid"][j]:
        s["valid"][j] = True
        ids = s["cls"][e.sg[j]]
        w = np.bincount(ids, weights=e.wg[j])  # up to the largest class id present
        present = np.zeros(w.size, dtype=bool)  # (nonzero on bytes is several times cheaper than on floats)
        present[ids] = True
        present[0] = False  # the dry hold nothing
        nz = np.flatnonzero(present)
        s["weights"][j] = (nz, w[nz])
    return s["weights"][j]


def _evaluate_requests(e, requests):
    """Carry out the pricing passes of several sub-batches: one pass over all of them.

    Each request (s, js, unsure) prices candidates js in every row of sub-batch s; it is laid
    out as segments (row, candidate) of one flat array of class budgets.
    """
    laid = []
    for s, js, unsure in requests:
        parts, js, lengths = _supporting_classes(e, s, js)
        if js.size:
            laid.append((s, js, unsure, parts, lengths))
    if not laid:
        return
    b, w, lengths, js_all, delta, start_price, live = ([] for _ in range(7))
    for s, js, unsure, parts, sizes in laid:
        r = s["rows"].size
        ids = np.concatenate([nz for nz, _ in parts]) if len(parts) > 1 else parts[0][0]
        weights = np.concatenate([x for _, x in parts]) if len(parts) > 1 else parts[0][1]
        b.append(s["beta"][:, ids].reshape(-1))
        w.append(_each_row(weights, r))
        lengths.append(_each_row(sizes, r))
        js_all.append(_each_row(js, r))
        delta.append(np.repeat(s["delta"], js.size))
        start_price.append(s["price"][:, js].reshape(-1))
        live.append(s["alive"][:, js].reshape(-1))
    b, w, lengths, js_all, delta, start_price, live = (
        np.concatenate(x) if len(x) > 1 else x[0] for x in (b, w, lengths, js_all, delta, start_price, live))
    out = _water_fill(e, b, w, lengths, js_all, delta, start_price, live)
    at = 0
    for s, js, unsure, _, _ in laid:
        shape = (s["rows"].size, js.size)
        piece = slice(at, at + shape[0] * shape[1])
        at = piece.stop
        alive, undecided, price, error, crit, crit_err, lo, clean = (v[piece].reshape(shape) for v in out)
        s["alive"][:, js] = alive
        unsure |= undecided.any(axis=1)
        s["price"][:, js] = price
        s["price_err"][:, js] = error
        s["crit"][:, js] = crit
        s["err"][:, js] = crit_err
        s["lo"][:, js] = lo
        s["clean"][:, js] = clean


def _each_row(x, rows):
    """x repeated once per row (np.tile for one dimension, without its overhead)."""
    return x if rows == 1 else np.broadcast_to(x, (rows, x.size)).reshape(-1)


def _supporting_classes(e, s, js):
    """Class weights of each candidate in js; candidates whose supporters are all dry are dropped
    (and marked unaffordable in every row)."""
    parts = [_class_weights_batch(e, s, j) for j in js]
    lengths = np.array([nz.size for nz, _ in parts], dtype=np.intp)
    if not lengths.all():
        keep = lengths > 0
        s["alive"][:, js[~keep]] = False
        js = js[keep]
        parts = [part for part, k in zip(parts, keep) if k]
        lengths = lengths[keep]
    return parts, js, lengths


def _water_fill(e, b, w, lengths, js, delta, start_price, alive):
    """MES prices on flat segments, with error bounds.

    Segment i holds the budgets `b` and weights `w` of the classes supporting candidate
    js[i] in one row (one share) whose budget error bound is delta[i]; `start_price` is a
    lower bound on the price (the last one found) and `alive` says whether the candidate
    is still in play there. Returns per segment: alive (now), undecided (a call too close
    for floats: the row goes to the exact engine), price, its error bound, criterion (inf
    where not alive), the criterion's error bound, its lower bound (inf where not alive),
    and clean (nobody dry or short: the price is exactly cost / supporters).
    """
    starts = np.cumsum(lengths) - lengths
    bw = b * w
    total = np.add.reduceat(bw, starts)
    weight = np.add.reduceat(w, starts)  # exact: integers
    cost = e.cost_f[js]
    cost_err = e.cost_err[js]
    m = lengths.astype(np.float64)
    total_err = delta + (m + 2) * EPS * np.maximum(total, cost) + cost_err
    margin = SAFETY * total_err + REL * cost
    poor = total < cost - margin
    undecided = ~poor & (total < cost + margin) & alive
    live = alive & ~poor
    # Water-filling per segment without sorting: from a lower bound p on the price, the
    # voters holding less than p pay all they have and the others share the rest:
    # p' = (cost - paid by the poorer) / (weight of the others). p <= p' <= the price,
    # and p' is the price once no budget lies in [p, p'). Prices only rise within a
    # run, so the last price of the project is a good start.
    # (Masks are applied by multiplying with the boolean array: bw * True is bw exactly and
    # bw * False is 0.0, as np.where would give, several times faster. Weights are positive
    # integers, so weighted counts compare exactly.)
    p = np.maximum(start_price, cost / weight)
    below = b < np.repeat(p, lengths)
    paid_w = np.add.reduceat(w * below, starts)
    for iteration in range(MAX_FILL):
        paid = np.add.reduceat(bw * below, starts)
        rest_at = weight - paid_w
        price = (cost - paid) / rest_at
        # Converged when every voter not yet counted as poorer holds at least the price.
        # When price >= p, {b < p} is within {b < price}: converged iff both hold the same
        # weight. When price < p, the others hold at least p > price: converged.
        under = b < np.repeat(price, lengths)
        under_w = np.add.reduceat(w * under, starts)
        lower = price < p
        converged = lower | (under_w == paid_w)
        if converged[live].all() or iteration == MAX_FILL - 1:
            break
        p = np.where(converged, p, np.maximum(price, p))
        if np.isnan(price).any():  # p is NaN there: nobody counts as poorer (b < NaN is false)
            below = b < np.repeat(p, lengths)
            paid_w = np.add.reduceat(w * below, starts)
        else:
            # The next start is p where converged, else price (>= p): its poorer set is
            # below | under either way, holding the weight counted above. (Converged
            # segments stay as they are, so segments of other sub-batches priced in the
            # same pass change nothing.)
            below |= under
            paid_w = np.where(lower, paid_w, under_w)
    # The start may sit a rounding above the price: then those counted poorer must still
    # hold no more than the price found, or the row goes to the exact engine. (Budgets are
    # >= 0, so b * below is the budget of the poorer and 0 elsewhere; with nobody poorer the
    # price is cost / weight > 0.)
    poorest_fit = np.maximum.reduceat(b * below, starts) <= price
    undecided |= live & ~(converged & poorest_fit & (rest_at > 0))
    rest_at = np.maximum(rest_at, 1.0)
    price = np.where(np.isfinite(price), price, 0.0)
    spread = np.minimum(delta, paid_w * delta)
    error = (spread + 2 * (m + 2) * EPS * cost + cost_err) / rest_at + 2 * EPS * price
    if e.utility == "cost":
        crit, crit_err = price / cost, error / cost
    else:
        crit, crit_err = price, error
    crit_err = crit_err + EPS * crit
    smallest = np.minimum.reduceat(b, starts)
    clean = (weight == e.total[js]) & (paid_w == 0) & (smallest - SAFETY * (error + delta) - REL * price > price)
    return (live, undecided, price, error, np.where(live, crit, np.inf), crit_err,
            np.where(live, crit - SAFETY * crit_err - REL * crit, np.inf), clean)


def _charge_batch(e, s, j):
    held = _class_weights_batch(e, s, j)[0]  # the classes of j's supporters, dry ones left out
    m = held.size
    sg = e.sg[j]
    old = s["cls"][sg]
    # np.unique(old, return_inverse=True, return_counts=True), by counting (class ids are small)
    tally = np.bincount(old, minlength=s["classes"])
    uniq = np.concatenate(([0], held)) if tally[0] else held
    counts = tally[uniq]
    lookup = np.zeros(tally.size, dtype=np.intp)
    lookup[uniq] = np.arange(uniq.size)
    inverse = lookup[old]
    price = s["price"][:, j]
    size = s["size"]
    real = uniq != 0
    whole = counts == size[uniq]
    split = real & ~whole
    target = uniq.copy()
    fresh = np.arange(s["classes"], s["classes"] + int(split.sum()))
    s["classes"] += fresh.size
    source = uniq[split]
    target[split] = fresh
    size[source] -= counts[split]
    size[fresh] = counts[split]
    beta = s["beta"]
    if s["classes"] > beta.shape[1]:
        grown = np.zeros((beta.shape[0], max(s["classes"], 2 * beta.shape[1])))
        grown[:, :beta.shape[1]] = beta
        beta = s["beta"] = grown
    # What j's supporters pay comes off what they hold for every project they support.
    pairs, projects, weights = _co_supported(e, j)
    paid = np.bincount(inverse[pairs] * e.total.size + projects, weights=weights,
                       minlength=uniq.size * e.total.size).reshape(uniq.size, e.total.size)
    # (einsum, not @: BLAS would spread this small product over threads that spin on the CPU)
    s["money"] -= np.einsum("ru,up->rp", np.minimum(beta[:, uniq], price[:, None]), paid)
    # Each payment min(b, p) is exact; b - p rounds by EPS/2 of b; the sums round by their
    # length times EPS of the money of the project's supporters.
    s["money_err"] += pairs.size + 4
    # New budgets: max(b - p, 0); a class paying as a whole is updated in place.
    src = uniq[real]
    dst = target[real]
    after = np.maximum(beta[:, src] - price[:, None], 0.0)
    beta[:, dst] = after
    # Classes that ran dry in every row merge into class 0 (they hold 0).
    all_dry = ~(after > 0).any(axis=0)
    if all_dry.any():
        gone = dst[all_dry]
        size[0] += int(size[gone].sum())
        size[gone] = 0
        dst = dst.copy()
        dst[all_dry] = 0
        target[real] = dst
    s["cls"][sg] = target[inverse]
    # A supporter whose budget is within the error of the price: it matters whether
    # they hold 0 or a sliver, but only through later prices, which are continuous in
    # budgets -- the error bound of the budgets covers it.
    # Weighted error sum: the payers absorb what the poorer's errors do to the price (the
    # poorer then hold exactly 0), so only the rounding of this price and budgets adds.
    s["delta"] = s["delta"] + 4 * (m + 4) * EPS * e.cost_f[j] + e.cost_err[j] + 2 * EPS * e.total[j] * s["share"]
    s["alive"][:, j] = False
    stale = e.overlap[j]
    s["fresh"] &= ~stale
    s["valid"][stale] = False
    if s["classes"] > 2 * np.count_nonzero(s["size"][:s["classes"]]) + 64:
        _compact(s)
    s["winners"].append(j)


def _co_supported(e, j):
    """For the groups supporting j (positions in e.sg[j]): each (position, candidate it
    supports, group weight), flat."""
    if j not in e.co_supported:
        groups = e.sg[j]
        counts = e.group_len[groups]
        positions = np.repeat(np.arange(groups.size), counts)
        offsets = np.repeat(e.group_start[groups] - (np.cumsum(counts) - counts), counts)
        projects = e.group_projects[offsets + np.arange(positions.size)]
        e.co_supported[j] = (positions, projects, e.group_weight[groups][positions])
    return e.co_supported[j]


def _compact(s):
    """Renumber the classes that hold voters 0..k-1 (class 0, the dry, stays 0).

    Splits leave empty class ids behind; every pass over class ids (bincount,
    flatnonzero) costs their number. The renumbering keeps the order of ids, so
    every segment is summed in the same order and no float result changes.
    """
    size = s["size"]
    keep = size[:s["classes"]] > 0
    keep[0] = True
    live = np.flatnonzero(keep)
    remap = np.zeros(s["classes"], dtype=np.intp)
    remap[live] = np.arange(live.size)
    s["cls"] = remap[s["cls"]]
    beta = np.zeros_like(s["beta"])
    beta[:, :live.size] = s["beta"][:, live]
    s["beta"] = beta
    fresh_size = np.zeros_like(size)
    fresh_size[:live.size] = size[live]
    s["size"] = fresh_size
    s["classes"] = int(live.size)
    weights = s["weights"]
    for j in np.flatnonzero(s["valid"]):
        nz, w = weights[j]
        weights[j] = (remap[nz], w)


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
