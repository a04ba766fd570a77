"""Experiment, not used by Qatysu: MES with add-one completion in floats, compiled with Numba.

    pip install numba   # not in requirements: app/tally is pure Python + NumPy
    python bench/experiments/numba_mes.py Poland_Warszawa_2023_Mokotow ...

Answers one question for the product owner: what would a compiled per-round kernel cost?
It is the textbook algorithm (groups of identical ballots, lazy pricing from the last price,
water-filling by fixed point, one full MES run per add-one step), with none of app/tally's
batching and without its exactness guarantees (floats only, no error bounds, no exact
re-check), so it is only an estimate. It prints the completion steps and whether its winners
(in order) equal app/tally's.
"""
import sys
import time
from fractions import Fraction
from pathlib import Path

import numba as nb
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.tally import parse_file  # noqa: E402
from app.tally.mes import EqualShares  # noqa: E402


@nb.njit
def price_of(j, b, start, end, sup, gw, cost, tb, tw, p0):
    m = 0
    money = 0.0
    W = 0.0
    for k in range(start[j], end[j]):
        g = sup[k]
        if b[g] > 0.0:
            tb[m] = b[g]; tw[m] = gw[g]; money += b[g] * gw[g]; W += gw[g]; m += 1
    if money < cost[j]:
        return np.inf
    p = max(p0, cost[j] / W)
    for it in range(100):
        paid = 0.0; poorw = 0.0
        for i in range(m):
            if tb[i] < p:
                paid += tb[i] * tw[i]; poorw += tw[i]
        q = (cost[j] - paid) / (W - poorw)
        if q <= p:  # started at (or a rounding above) the price
            return q
        # Converged unless some budget lies in [p, q): those voters are poorer too.
        hit = False
        for i in range(m):
            if tb[i] >= p and tb[i] < q:
                hit = True; break
        if not hit:
            return q
        p = q
    return q

@nb.njit
def mes(share, G, C, start, end, sup, gw, cost, tb, tw, out):
    b = np.full(G, share)
    alive = np.ones(C, dtype=np.bool_)
    bound = np.zeros(C)  # lower bound of each candidate's price per unit of cost (prices only rise)
    nwin = 0
    while True:
        # lazy: repeatedly take the candidate with the smallest bound, price it
        best = -1
        best_crit = np.inf
        fresh = np.zeros(C, dtype=np.bool_)
        while True:
            j = -1
            low = np.inf
            for c in range(C):
                if alive[c] and not fresh[c] and bound[c] < low:
                    low = bound[c]; j = c
            if j < 0 or low >= best_crit:
                break
            p = price_of(j, b, start, end, sup, gw, cost, tb, tw, bound[j] * cost[j])
            if p == np.inf:
                alive[j] = False
                continue
            crit = p / cost[j]
            bound[j] = crit
            fresh[j] = True
            if crit < best_crit:
                best_crit = crit; best = j
        if best < 0:
            break
        p = best_crit * cost[best]
        for k in range(start[best], end[best]):
            g = sup[k]
            v = b[g] - p
            b[g] = v if v > 0.0 else 0.0
        alive[best] = False
        out[nwin] = best
        nwin += 1
    return nwin

def walk(e, start_share, B):
    C = len(e.candidates); G = e.groups
    lens = np.array([len(s) for s in e.sg]); start = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
    end = (start + lens).astype(np.int64); sup = np.concatenate(e.sg).astype(np.int64)
    gw = np.zeros(G)
    for j in range(C): gw[e.sg[j]] = e.wg[j]
    cost = e.cost_f.copy(); tb = np.zeros(G); tw = np.zeros(G); out = np.zeros(C, dtype=np.int64)
    costs = np.array([float(c) for c in e.cost_exact])
    k = 0
    def outcome(s):
        n = mes(s, G, C, start, end, sup, gw, cost, tb, tw, out); return out[:n].copy()
    cur = outcome(start_share)
    while True:
        spent = costs[cur].sum()
        chosen = set(cur.tolist())
        if all(j in chosen or spent + costs[j] > B for j in range(C)):
            break
        nxt = outcome(start_share + k + 1)
        if costs[nxt].sum() > B: break
        k += 1; cur = nxt
    return k, cur

for stem in sys.argv[1:]:
    el = parse_file(ROOT.parent / 'shared' / 'pabulib' / f'{stem}.pb')
    e = EqualShares(el, [True] * len(el.projects))
    s0 = float(el.budget) / e.n
    walk(e, s0, float(el.budget))  # compile
    ts = []
    for _ in range(3):
        t = time.process_time(); k, cur = walk(e, s0, float(el.budget)); ts.append(time.process_time() - t)
    ours = e.add_one(Fraction(el.budget) / e.n, 1, exhaustive_stop=True)  # its walk stops when exhaustive
    same = [e.candidates[j] for j in cur] == [c for c, _ in ours[0]][len(e.free):]
    print(stem, 'steps', k, 'ours steps', ours[2], 'same winners', same, 'numba walk s %.3f' % min(ts))
