"""The fast MES engine's fallback paths, forced one by one: same results as the oracle.

The fast engine decides in floats only with a safe margin (app/tally/mes/float_margins.py)
and otherwise falls back to exact arithmetic. On real data the fallbacks are rare, so each
test here makes the float check fail (a huge SAFETY factor, or no water-filling iterations)
or switches a shortcut off, checks that the fallback really ran, and compares the outcome
with app.tally.mes.reference and with the unforced engine.
"""

from fractions import Fraction

import numpy as np
import pytest
from tally_helpers import SHARED, require_shared

from app.tally import Election, Project, count, parse_file
from app.tally.mes import EqualShares, fast_batch, fast_exact, fast_pricing, reference_add1, reference_mes

HUGE = 1e200  # a SAFETY factor no float margin can meet: every call is "too close"


def small_elections():
    """Hand-made elections with ties, dry voters and shared supporters, and one real file."""
    tied = Election([Project("a", 30), Project("b", 30), Project("c", 20), Project("d", 45)],
                    [["a", "b"], ["a", "b", "c"], ["c", "d"], ["d"], ["a"], ["b", "d"]] * 3, budget=100)
    uneven = Election([Project(f"p{i}", 7 * i + 3) for i in range(7)],
                      [list(dict.fromkeys(f"p{(v * k) % 7}" for k in range(1, v % 4 + 2))) for v in range(1, 40)],
                      budget=90)
    elections = [tied, uneven]
    require_shared()
    elections.append(parse_file(SHARED / "Netherlands_Assen_2024.pb"))
    return elections


_expected = {}  # the oracle's walks, computed once (seconds each on Assen's 800-odd shares)


def walk_both(election, exhaustive_stop):
    """(the fast engine's add-one walk, the oracle's) from B/n."""
    engine = EqualShares(election, [True] * len(election.projects))
    share = Fraction(election.budget, len(election.ballots))
    ours = engine.add_one(share, 1, exhaustive_stop=exhaustive_stop)
    key = (repr(election.projects), len(election.ballots), exhaustive_stop)
    if key not in _expected:
        _expected[key] = reference_add1(election, share, 1, exhaustive_stop=exhaustive_stop)
    return ours, _expected[key]


class Calls:
    """Counts the calls of a method or function while delegating to it."""

    def __init__(self, monkeypatch, owner, name):
        self.count = 0
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)


@pytest.mark.slow  # a real-data run: seconds, not milliseconds
@pytest.mark.parametrize("exhaustive_stop", [False, True])
def test_batch_rows_too_close_for_floats_are_rerun_exactly(monkeypatch, exhaustive_stop):
    """Every batched price is 'undecided': every share goes to the exact engine."""
    monkeypatch.setattr(fast_pricing, "SAFETY", HUGE)
    reruns = Calls(monkeypatch, EqualShares, "outcome")
    for election in small_elections():
        ours, expected = walk_both(election, exhaustive_stop)
        assert ours == expected
    assert reruns.count > 0


def test_water_filling_that_does_not_converge_goes_to_the_exact_engine(monkeypatch):
    monkeypatch.setattr(fast_pricing, "MAX_FILL", 1)
    reruns = Calls(monkeypatch, EqualShares, "outcome")
    for election in small_elections():
        ours, expected = walk_both(election, False)
        assert ours == expected
    assert reruns.count > 0


def test_exact_run_decides_every_close_call_exactly(monkeypatch):
    """In the exact engine every float check fails: affordability by exact money, prices by the
    exact water-filling, round winners by exact criteria, dry voters by exact budgets."""
    monkeypatch.setattr(fast_exact, "SAFETY", HUGE)
    money = Calls(monkeypatch, fast_exact.ExactClassRun, "_money")
    budgets = Calls(monkeypatch, fast_exact.ExactClassRun, "_budget")
    for election in small_elections():
        engine = EqualShares(election, [True] * len(election.projects))
        for extra in (0, 3, 40):
            share = Fraction(election.budget, len(election.ballots)) + extra
            assert engine.run(share) == reference_mes(election, share)
    assert money.count > 0 and budgets.count > 0


@pytest.mark.parametrize("exhaustive_stop", [False, True])
def test_walk_without_part_way_certificates(monkeypatch, exhaustive_stop):
    """With no share certified part-way (FITS), every run goes to the end: same walk."""
    elections = small_elections()
    with_fits = [walk_both(election, exhaustive_stop)[0] for election in elections]
    never = Calls(monkeypatch, fast_batch, "_certified")
    monkeypatch.setattr(fast_batch, "_certified", lambda e, s: np.zeros(s.rows.size, dtype=bool))
    for election, expected in zip(elections, with_fits):
        assert walk_both(election, exhaustive_stop) == (expected, expected)
    assert never.count == 0  # the stand-in replaced the counted original


def test_part_way_certificates_happen_on_real_data(monkeypatch):
    """The FITS shortcut is exercised (so the test above switches something off)."""
    require_shared()
    certified = []
    original = fast_batch._certified

    def recording(e, s):
        certain = original(e, s)
        certified.append(int(certain.sum()))
        return certain
    monkeypatch.setattr(fast_batch, "_certified", recording)
    election = parse_file(SHARED / "Poland_Swiecie_2023.pb")
    assert set(count(election, "mes").winners) == {p.id for p in election.projects if p.extra["selected"] == "1"}
    assert sum(certified) > 0


def test_one_share_at_a_time_with_the_exact_engine_only():
    for election in small_elections():
        engine = EqualShares(election, [True] * len(election.projects))
        share = Fraction(election.budget, len(election.ballots))
        assert engine.add_one(share, 1, skip=False) == engine.add_one(share, 1)


def test_class_renumbering_changes_nothing(monkeypatch):
    """Force the renumbering of classes after every winner (it normally waits for many gaps)."""
    compacted = Calls(monkeypatch, fast_batch.BatchState, "compact")
    require_shared()
    election = parse_file(SHARED / "Poland_Swiecie_2023.pb")
    expected = count(election, "mes", completion="none").to_dict()
    shares = [Fraction(election.budget, len(election.ballots)) + k for k in range(0, 200, 40)]
    before = EqualShares(election, [True] * len(election.projects)).outcomes(shares)
    monkeypatch.setattr(fast_batch, "_charge_batch", _charging_then_compacting(fast_batch._charge_batch))
    after = EqualShares(election, [True] * len(election.projects)).outcomes(shares)
    assert after == before
    assert compacted.count > 0
    assert count(election, "mes", completion="none").to_dict() == expected


def _charging_then_compacting(charge):
    def charge_and_compact(e, s, j):
        charge(e, s, j)
        s.compact()
    return charge_and_compact
