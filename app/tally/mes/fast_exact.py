"""One MES run at a fixed share over voter classes, with exact (Fraction) decisions and prices.

This is the fast engine's exact path: the textbook round (price every remaining project,
fund the one with the best criterion, its supporters pay min(budget, price)) over *classes*
of voters who hold the same budget (see fast.py). Floats propose every price and comparison;
whenever a float margin is too small (float_margins.py), the value is recomputed exactly: a
voter who never ran dry holds exactly share - (sum of the prices of the funded projects they
paid for), a dry voter holds 0. Every price returned is an exact Fraction.
"""

from fractions import Fraction

import numpy as np

from .float_margins import EPS, REL, SAFETY


class ExactClassRun:
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
        return (True,) + price_rows(b[None, :], w, cost, weight, self.delta, np.inf, e.cost_err[j], single=True)

    def go(self):
        """The rounds of the run: [(local candidate, exact price per voter)] in order."""
        e = self.e
        size = len(e.candidates)
        self.alive = np.ones(size, dtype=bool)
        self.fresh = np.zeros(size, dtype=bool)  # price[j] describes the current budgets
        self.crit = np.full(size, np.inf)
        self.err = np.zeros(size)
        self.price = np.zeros(size)
        self.price_err = np.zeros(size)
        # Lower bounds on each criterion: prices only rise within a run.
        self.lo = np.array([e._criterion(j, e.cost_f[j] / e.total[j]) for j in range(size)]) * (1 - 1e-9) \
            if size else np.zeros(0)
        self.exact_price = {}
        chosen = []
        while self.alive.any():
            best, hi = self._price_until_best_is_known()
            if best is None:
                break
            winner = self._round_winner(best, hi)
            if winner not in self.exact_price:
                self.exact_price[winner] = self._exact_price(winner, self.price[winner], self.price_err[winner])
            p = self.exact_price.pop(winner)
            self._charge(winner, p)
            chosen.append((winner, p))
            self.alive[winner] = False
            stale = e.overlap[winner]
            self.fresh &= ~stale
            for j in np.flatnonzero(stale):
                self.exact_price.pop(j, None)
        return chosen

    def _best_fresh(self):
        """The fresh candidate with the best criterion, and the top of its error interval."""
        live = np.flatnonzero(self.alive & self.fresh)
        if not live.size:
            return None, np.inf
        best = live[np.argmin(self.crit[live])]
        return best, self.crit[best] + SAFETY * self.err[best] + REL * self.crit[best]

    def _price_until_best_is_known(self):
        """Price stale candidates whose lower bound could still beat the best fresh one."""
        while True:
            best, hi = self._best_fresh()
            pending = [j for j in np.flatnonzero(self.alive & ~self.fresh) if self.lo[j] <= hi]
            if not pending:
                return best, hi
            self._price_candidate(min(pending, key=lambda j: self.lo[j]))

    def _price_candidate(self, j):
        """Price candidate j (or find it unaffordable): in floats, exactly when too close to call."""
        e = self.e
        affordable, p, p_err = self._float_price(j)
        if affordable is None:  # too close to call in floats
            nz, w = self._class_weights(j)
            affordable = self._money(nz, w) >= e.cost_exact[j]
            if affordable:
                q = self._exact_price(j, None, None)
                self.exact_price[j] = q
                p, p_err = float(q), EPS * float(q)
        if not affordable:
            self.alive[j] = False
            return
        self.fresh[j] = True
        self.price[j], self.price_err[j] = p, p_err
        self.crit[j] = e._criterion(j, p)
        self.err[j] = e._criterion(j, p_err) + EPS * self.crit[j]
        self.lo[j] = self.crit[j] - SAFETY * self.err[j] - REL * self.crit[j]

    def _round_winner(self, best, hi):
        """The round's winner: the float best unless another candidate is too close to call,
        then the exact criterion decides (ties by the tie key)."""
        e = self.e
        close = [j for j in np.flatnonzero(self.alive) if j == best or self.lo[j] <= hi]
        if len(close) == 1:
            return best
        exact = {}
        for j in close:
            if j not in self.exact_price:
                self.exact_price[j] = self._exact_price(j, self.price[j], self.price_err[j])
            exact[j] = e._exact_criterion(j, self.exact_price[j])
        return min(exact, key=lambda j: (exact[j], e.tie_local[j]))

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


def price_rows(b, w, cost, weight, delta, e1, cost_err, single=False):
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
