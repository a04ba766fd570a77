"""MES prices of many (share, candidate) pairs at once, in floats with error bounds.

The textbook price of a project is the smallest p with sum over its supporters of
min(budget, p) >= cost. Here it is found for every candidate a batch needs, in every row, in
one flat NumPy pass (water-filling from the last price, no sorting), over the classes of
supporters rather than voters. Every price carries a bound on its error; a call too close
for floats (float_margins.py) marks the row unsure.
"""

import numpy as np

from .float_margins import EPS, MAX_FILL, REL, SAFETY


def class_weights(e, s, j):
    """(class ids, weights) of the classes of j's supporters in batch s; the dry are left out."""
    if not s.valid[j]:
        s.valid[j] = True
        ids = s.cls[e.sg[j]]
        w = np.bincount(ids, weights=e.wg[j])  # up to the largest class id present
        present = np.zeros(w.size, dtype=bool)  # (nonzero on bytes is several times cheaper than on floats)
        present[ids] = True
        present[0] = False  # the dry hold nothing
        nz = np.flatnonzero(present)
        s.weights[j] = (nz, w[nz])
    return s.weights[j]


def evaluate_requests(e, requests):
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
        r = s.rows.size
        ids = np.concatenate([nz for nz, _ in parts]) if len(parts) > 1 else parts[0][0]
        weights = np.concatenate([x for _, x in parts]) if len(parts) > 1 else parts[0][1]
        b.append(s.beta[:, ids].reshape(-1))
        w.append(_each_row(weights, r))
        lengths.append(_each_row(sizes, r))
        js_all.append(_each_row(js, r))
        delta.append(np.repeat(s.delta, js.size))
        start_price.append(s.price[:, js].reshape(-1))
        live.append(s.alive[:, js].reshape(-1))
    b, w, lengths, js_all, delta, start_price, live = (
        np.concatenate(x) if len(x) > 1 else x[0] for x in (b, w, lengths, js_all, delta, start_price, live))
    out = _water_fill(e, b, w, lengths, js_all, delta, start_price, live)
    at = 0
    for s, js, unsure, _, _ in laid:
        shape = (s.rows.size, js.size)
        piece = slice(at, at + shape[0] * shape[1])
        at = piece.stop
        alive, undecided, price, error, crit, crit_err, lo, clean = (v[piece].reshape(shape) for v in out)
        s.alive[:, js] = alive
        unsure |= undecided.any(axis=1)
        s.price[:, js] = price
        s.price_err[:, js] = error
        s.crit[:, js] = crit
        s.err[:, js] = crit_err
        s.lo[:, js] = lo
        s.clean[:, js] = clean


def _each_row(x, rows):
    """x repeated once per row (np.tile for one dimension, without its overhead)."""
    return x if rows == 1 else np.broadcast_to(x, (rows, x.size)).reshape(-1)


def _supporting_classes(e, s, js):
    """Class weights of each candidate in js; candidates whose supporters are all dry are dropped
    (and marked unaffordable in every row)."""
    parts = [class_weights(e, s, j) for j in js]
    lengths = np.array([nz.size for nz, _ in parts], dtype=np.intp)
    if not lengths.all():
        keep = lengths > 0
        s.alive[:, js[~keep]] = False
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


