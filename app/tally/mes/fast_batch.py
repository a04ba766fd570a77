"""Batched float MES runs: one row per voter share, NumPy across rows (the add-one walk's engine).

All rows of a batch have funded the same winners so far, so they share one class structure
(the class of every voter group, fast.py) and differ only in the budgets the classes hold.
A round prices the candidates that could still win in some row (fast_pricing.py), picks
each row's winner and splits the batch where rows pick different winners. Sub-batches run
as generators that yield what they need priced; they advance round by round together, so
one pass prices for all of them (most of the cost of a pass is per NumPy call, not per
number). A row whose call is too close for floats (float_margins.py) leaves the batch with
the answer None and is re-run by the exact engine (fast_exact.py).
"""

from dataclasses import dataclass, fields

import numpy as np

from .fast_pricing import class_weights, evaluate_requests
from .float_margins import AHEAD, EPS, FITS, REL, SAFETY

# BatchState fields with one row per share (restricted with the rows), and the fields shared
# by all rows that a split must copy rather than share.
PER_ROW = ("rows", "share", "beta", "delta", "alive", "crit", "err", "price", "price_err", "lo", "clean", "money")
COPIED = ("cls", "size", "fresh", "valid", "weights", "winners")


@dataclass
class BatchState:
    """MES runs at several shares that have funded the same winners so far."""

    rows: np.ndarray  # position of each row's share in the caller's list
    share: np.ndarray  # per row: the share each voter started with
    beta: np.ndarray  # rows x classes: the budget of one voter of each class
    # Per row: bound on the weighted sum of all budget errors (see _charge_batch): it does not
    # grow when a price passes the poorer's errors on to the richer, only by fresh rounding.
    delta: np.ndarray
    alive: np.ndarray  # rows x candidates: not yet found unaffordable nor funded
    crit: np.ndarray  # rows x candidates: criterion at the last price (inf where not alive)
    err: np.ndarray  # ... its error bound
    price: np.ndarray  # rows x candidates: the last price found
    price_err: np.ndarray  # ... its error bound
    lo: np.ndarray  # rows x candidates: a lower bound on the criterion (prices only rise)
    clean: np.ndarray  # rows x candidates: the price is exactly cost / supporters
    # What the supporters of each project hold (rows x candidates), and a bound on its error in
    # units of EPS x (supporters x share) on top of the budgets' own.
    money: np.ndarray
    money_err: float
    cls: np.ndarray  # the class of each voter group (class 0: the dry, who hold 0)
    size: np.ndarray  # groups per class
    classes: int  # class ids in use: 0 .. classes-1
    fresh: np.ndarray  # per candidate: its price describes the current budgets
    valid: np.ndarray  # per candidate: weights[j] describes the current classes
    weights: list  # per candidate: (class ids, weights) of its supporters, see class_weights
    winners: list  # local candidate indices funded so far, in order
    certify: bool  # stop a row as soon as it is certain to fit (see _certified)
    exhaustive_stop: bool  # ... and not to be exhaustive

    @classmethod
    def start(cls, e, shares, certify, exhaustive_stop):
        rows, size, groups = len(shares), len(e.candidates), e.groups
        share = np.array([float(s) for s in shares])
        state = cls(
            rows=np.arange(rows), share=share, beta=np.zeros((rows, 16)),
            delta=np.array([EPS * e.voters * max(float(s), 1.0) for s in shares]),
            alive=np.ones((rows, size), dtype=bool), crit=np.full((rows, size), np.inf),
            err=np.zeros((rows, size)), price=np.zeros((rows, size)), price_err=np.zeros((rows, size)),
            lo=np.tile(np.array([e._criterion(j, e.cost_f[j] / e.total[j]) for j in range(size)]) * (1 - 1e-9),
                       (rows, 1)),
            clean=np.zeros((rows, size), dtype=bool), money=share[:, None] * e.total[None, :], money_err=2.0,
            cls=np.ones(groups, dtype=np.intp), size=np.zeros(2 * groups + 2, dtype=np.int64), classes=2,
            fresh=np.zeros(size, dtype=bool), valid=np.zeros(size, dtype=bool), weights=[None] * size,
            winners=[], certify=certify, exhaustive_stop=exhaustive_stop)
        state.beta[:, 1] = share
        state.size[1] = groups
        return state

    def split(self, keep):
        """A copy restricted to rows `keep` (bool mask)."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in PER_ROW:
                value = value[keep].copy()
            elif f.name in COPIED:
                value = value.copy()
            values[f.name] = value
        return BatchState(**values)

    def restrict(self, keep):
        """Restrict to rows `keep`, in place (its generator holds on to this object)."""
        kept = self.split(keep)
        for f in fields(self):
            setattr(self, f.name, getattr(kept, f.name))

    def compact(self):
        """Renumber the classes that hold voters 0..k-1 (class 0, the dry, stays 0).

        Splits leave empty class ids behind; every pass over class ids (bincount,
        flatnonzero) costs their number. The renumbering keeps the order of ids, so
        every segment is summed in the same order and no float result changes.
        """
        size = self.size
        keep = size[:self.classes] > 0
        keep[0] = True
        live = np.flatnonzero(keep)
        remap = np.zeros(self.classes, dtype=np.intp)
        remap[live] = np.arange(live.size)
        self.cls = remap[self.cls]
        beta = np.zeros_like(self.beta)
        beta[:, :live.size] = self.beta[:, live]
        self.beta = beta
        fresh_size = np.zeros_like(size)
        fresh_size[:live.size] = size[live]
        self.size = fresh_size
        self.classes = int(live.size)
        weights = self.weights
        for j in np.flatnonzero(self.valid):
            nz, w = weights[j]
            weights[j] = (remap[nz], w)


def run_batch(engine, shares, certify=False, exhaustive_stop=True):
    """Float MES outcomes (local candidate indices) per share; None where a call was too close.

    With certify=True a row whose outcome is certain, part-way through its run, to fit the
    budget (and not to be exhaustive, with exhaustive_stop) is stopped there, with the result
    FITS (see _certified).
    """
    e = engine
    results = [None] * len(shares)
    if not e.candidates:
        return [()] * len(shares)
    spawned = [BatchState.start(e, shares, certify, exhaustive_stop)]
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
            evaluate_requests(e, [request for _, request in waiting])
            resumed = []
            for run, _ in waiting:
                request = next(run, None)
                if request is not None:
                    resumed.append((run, request))
            waiting = resumed
    return results


def _advance(e, s, spawned, results):
    """Run the batch `s` to the end, spawning sub-batches where rows pick different winners.

    A generator: it yields (s, candidates, unsure) for each pricing pass it needs and is
    resumed once that pass is done (see fast_pricing.evaluate_requests).
    """
    while s.rows.size:
        if s.certify:
            certain = _certified(e, s)
            if certain.any():
                for row in s.rows[certain]:
                    results[row] = FITS
                s.restrict(~certain)
                continue
        if not s.alive.any():
            for row in s.rows:
                results[row] = tuple(s.winners)
            return
        unsure = np.zeros(s.rows.size, dtype=bool)
        yield from _price_contenders(e, s, unsure)
        best, keep = _round_winners(e, s, unsure, results)
        if not keep.all():
            s.restrict(keep)
            best = best[keep]
            if not keep.any():
                return
        _fund(e, s, best, spawned)


def _price_contenders(e, s, unsure):
    """Price the stale candidates whose lower bound could beat some row's best fresh price.

    A generator (see _advance). With nothing fresh to compare with, the most promising few are
    priced first: a round's winner is usually within a few per cent of the smallest bound, and
    pricing those together saves a second pass in most rounds.
    """
    alive, crit, err = s.alive, s.crit, s.err
    stale = np.flatnonzero(alive.any(axis=0) & ~s.fresh)
    if not stale.size:
        return
    hi = np.where(alive & s.fresh[None, :], crit + SAFETY * err + REL * crit, np.inf)
    best_hi = hi.min(axis=1)
    lows = np.where(alive[:, stale], s.lo[:, stale], np.inf)
    if not np.isfinite(best_hi).all():
        smallest = lows.min(axis=0)
        first = stale[smallest <= smallest.min() + AHEAD * abs(smallest.min())]
        yield s, first, unsure
        s.fresh[first] = True
        hi = np.where(alive[:, first], crit[:, first] + SAFETY * err[:, first] + REL * crit[:, first], np.inf)
        best_hi = np.minimum(best_hi, hi.min(axis=1))
        picked = np.zeros(s.fresh.size, dtype=bool)
        picked[first] = True
        lows[:, picked[stale]] = np.inf
    need = stale[(lows <= best_hi[:, None]).any(axis=0)]
    if need.size:
        yield s, need, unsure
        s.fresh[need] = True


def _round_winners(e, s, unsure, results):
    """Each row's winner of the round, and which rows keep running.

    Rows with nothing affordable are finished (their outcome is recorded); rows where a
    contender is too close to call in floats are unsure, left for the exact engine. Ties where
    every contender is clean have exact criteria and are decided by clean_rank.
    """
    alive, fresh, err = s.alive, s.fresh, s.err
    nrows = s.rows.size
    usable = alive & fresh[None, :]
    has = usable.any(axis=1)
    done = ~has & ~unsure
    if done.any():
        for row in s.rows[done]:
            results[row] = tuple(s.winners)
    values = np.where(usable, s.crit, np.inf)
    best = np.argmin(values, axis=1)
    r = np.arange(nrows)
    hi_best = values[r, best] + SAFETY * err[r, best] + REL * values[r, best]
    near = alive & (s.lo <= hi_best[:, None])
    near[r, best] = True
    close = has & (near.sum(axis=1) > 1)
    if close.any():
        certain = close & ~(near & ~(fresh[None, :] & s.clean)).any(axis=1)
        ranked = np.where(near, e.clean_rank[None, :], np.iinfo(np.int64).max)
        best = np.where(certain, np.argmin(ranked, axis=1), best)
        unsure |= close & ~certain
    return best, has & ~unsure


def _fund(e, s, best, spawned):
    """Charge each row's winner; rows that picked another winner than the first go on as
    sub-batches of their own."""
    winners = best[:1] if (best == best[0]).all() else np.unique(best)
    for w in winners[1:]:
        part = s.split(best == w)
        _charge_batch(e, part, int(w))
        spawned.append(part)
    if winners.size > 1:
        s.restrict(best == winners[0])
    _charge_batch(e, s, int(winners[0]))


def _certified(e, s):
    """Rows whose outcome certainly fits the budget (and, with s.exhaustive_stop, is not exhaustive).

    Prices only rise within a run, so a project found unaffordable stays unfunded, and what is
    still funded later is among the projects not yet found unaffordable. If the spending so far
    plus all of those fits, so does the outcome, whatever else the run funds; if it also leaves
    room for an unfunded project, the outcome is not exhaustive either. That is all the add-one walk asks of every share
    but the last, and it often holds long before the run ends.
    """
    spent = e.cost_f[s.winners].sum()
    won = np.zeros(e.cost_f.size, dtype=bool)
    won[s.winners] = True

    def settled():
        alive = s.alive
        room = e.budget_f - spent - np.einsum("rp,p->r", alive, e.cost_f)
        if not s.exhaustive_stop:
            return room >= REL * e.budget_f
        unfunded = np.where(alive | won[None, :], np.inf, e.cost_f[None, :]).min(axis=1)
        return room - unfunded >= REL * e.budget_f

    certain = settled()
    if certain.all():
        return certain
    # Projects not priced since their supporters last paid may have become unaffordable:
    # the money their supporters hold is kept up to date (see _charge_batch).
    money_err = s.delta[:, None] + s.money_err * EPS * e.total[None, :] * s.share[:, None]
    s.alive &= s.money + SAFETY * money_err + REL * e.cost_f[None, :] >= e.cost_f[None, :]
    return settled()


def _charge_batch(e, s, j):
    """Fund candidate j in every row of s: its supporters pay min(budget, price), split off into
    classes of their own, and what they hold for other projects goes down."""
    held = class_weights(e, s, j)[0]  # the classes of j's supporters, dry ones left out
    m = held.size
    sg = e.sg[j]
    old = s.cls[sg]
    # np.unique(old, return_inverse=True, return_counts=True), by counting (class ids are small)
    tally = np.bincount(old, minlength=s.classes)
    uniq = np.concatenate(([0], held)) if tally[0] else held
    counts = tally[uniq]
    lookup = np.zeros(tally.size, dtype=np.intp)
    lookup[uniq] = np.arange(uniq.size)
    inverse = lookup[old]
    price = s.price[:, j]
    size = s.size
    real = uniq != 0
    whole = counts == size[uniq]
    split = real & ~whole
    target = uniq.copy()
    fresh = np.arange(s.classes, s.classes + int(split.sum()))
    s.classes += fresh.size
    source = uniq[split]
    target[split] = fresh
    size[source] -= counts[split]
    size[fresh] = counts[split]
    beta = s.beta
    if s.classes > beta.shape[1]:
        grown = np.zeros((beta.shape[0], max(s.classes, 2 * beta.shape[1])))
        grown[:, :beta.shape[1]] = beta
        beta = s.beta = grown
    # What j's supporters pay comes off what they hold for every project they support.
    pairs, projects, weights = _co_supported(e, j)
    paid = np.bincount(inverse[pairs] * e.total.size + projects, weights=weights,
                       minlength=uniq.size * e.total.size).reshape(uniq.size, e.total.size)
    # (einsum, not @: BLAS would spread this small product over threads that spin on the CPU)
    s.money -= np.einsum("ru,up->rp", np.minimum(beta[:, uniq], price[:, None]), paid)
    # Each payment min(b, p) is exact; b - p rounds by EPS/2 of b; the sums round by their
    # length times EPS of the money of the project's supporters.
    s.money_err += pairs.size + 4
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
    s.cls[sg] = target[inverse]
    # A supporter whose budget is within the error of the price: it matters whether
    # they hold 0 or a sliver, but only through later prices, which are continuous in
    # budgets -- the error bound of the budgets covers it.
    # Weighted error sum: the payers absorb what the poorer's errors do to the price (the
    # poorer then hold exactly 0), so only the rounding of this price and budgets adds.
    s.delta = s.delta + 4 * (m + 4) * EPS * e.cost_f[j] + e.cost_err[j] + 2 * EPS * e.total[j] * s.share
    s.alive[:, j] = False
    stale = e.overlap[j]
    s.fresh &= ~stale
    s.valid[stale] = False
    if s.classes > 2 * np.count_nonzero(s.size[:s.classes]) + 64:
        s.compact()
    s.winners.append(j)


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


