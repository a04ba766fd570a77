"""Properties on random small elections (hypothesis, bounded examples)."""

from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tally_helpers import pabutools_outcome

from app.tally import Election, Project, count, parse, write
from app.tally.mes import FITS, EqualShares
from app.tally.mes.reference import reference_add1, reference_mes

RULE_KEYS = ["greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive", "mes"]


@st.composite
def elections(draw, max_projects=6, max_voters=12, min_cost=0):
    count_projects = draw(st.integers(1, max_projects))
    costs = draw(st.lists(st.integers(min_cost, 60), min_size=count_projects, max_size=count_projects))
    projects = [Project(id=f"p{i}", cost=c, name=f"Project {i}") for i, c in enumerate(costs)]
    ids = [p.id for p in projects]
    ballots = draw(st.lists(st.lists(st.sampled_from(ids), unique=True, max_size=count_projects),
                            min_size=1, max_size=max_voters))
    budget = draw(st.integers(1, 150))
    return Election(projects=projects, ballots=ballots, budget=budget)


@settings(max_examples=80, deadline=None)
@given(elections(), st.sampled_from(RULE_KEYS), st.integers(0, 3))
def test_never_over_budget(election, rule, threshold):
    result = count(election, rule, threshold=threshold)
    assert result.spent <= election.budget
    assert len(set(result.winners)) == len(result.winners)
    assert all(result.projects[w].eligible for w in result.winners)


@settings(max_examples=80, deadline=None)
@given(elections())
def test_greedy_respects_its_order(election):
    """Every skipped eligible project did not fit next to the ones ranked above it."""
    result = count(election, "greedy")
    ranked = sorted(result.projects.values(), key=lambda p: (-p.score, p.cost, -p.votes, p.id))
    spent = Fraction(0)
    for figures in ranked:
        if figures.selected:
            spent += figures.cost
        else:
            assert spent + figures.cost > election.budget
    assert result.winners == [p.id for p in ranked if p.selected]
    no_skip = count(election, "greedy-no-skip").winners
    assert no_skip == result.winners[:len(no_skip)]


@settings(max_examples=60, deadline=None)
@given(elections(), st.booleans())
def test_mes_add1_stops_where_the_definition_says(election, exhaustive_stop):
    """After add1 one more unit per voter overspends (add1-exhaustive: or the outcome is
    exhaustive), unless the share already exceeds the budget."""
    completion = "add1-exhaustive" if exhaustive_stop else "add1"
    result = count(election, "mes", completion=completion)
    engine = EqualShares(election, [True] * len(election.projects))
    supported = [p for p in election.projects if result.projects[p.id].votes > 0]
    exhaustive = all(p.id in result.winners or result.spent + p.cost > election.budget for p in supported)
    if not (exhaustive_stop and exhaustive) and result.details["final_share"] <= election.budget:
        following = engine.run(result.details["final_share"] + 1)
        assert engine.spent(following) > election.budget
    add1u = count(election, "mes", completion=completion.replace("add1", "add1u"))
    assert add1u.winners[:len(result.winners)] == result.winners
    assert all(p.id in add1u.winners or add1u.spent + p.cost > election.budget for p in election.projects
               if p.cost > 0 and add1u.projects[p.id].eligible)


@st.composite
def elections_with_duplicates(draw, max_projects=6, max_voters=30):
    """Few distinct ballots, many voters each: what the grouped MES engine relies on."""
    count_projects = draw(st.integers(1, max_projects))
    costs = draw(st.lists(st.sampled_from([0, 1, 5, 10, 12, 20, 30, 45, 60]), min_size=count_projects,
                          max_size=count_projects))
    projects = [Project(id=f"p{i}", cost=c) for i, c in enumerate(costs)]
    ids = [p.id for p in projects]
    pool = draw(st.lists(st.lists(st.sampled_from(ids), unique=True, max_size=count_projects),
                         min_size=1, max_size=4))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=max_voters))
    budget = draw(st.integers(1, 200))
    return Election(projects=projects, ballots=[pool[i] for i in picks], budget=budget)


MES_OPTIONS = st.tuples(st.sampled_from(["cost", "approval"]), st.sampled_from(["pabulib", "lexicographic"]))


@settings(max_examples=150, deadline=None)
@given(st.one_of(elections_with_duplicates(), elections()), MES_OPTIONS, st.integers(0, 5))
def test_mes_run_equals_the_reference(election, options, extra):
    """Grouped, batched MES = MES from the definition: same winners, order and exact prices."""
    utility, tie_breaking = options
    engine = EqualShares(election, [True] * len(election.projects), utility=utility, tie_breaking=tie_breaking)
    share = Fraction(election.budget, len(election.ballots)) + extra
    expected = reference_mes(election, share, utility=utility, tie_breaking=tie_breaking)
    assert engine.run(share) == expected
    shares = [share + k for k in range(4)]
    assert engine.outcomes(shares) == [
        tuple(c for c, _ in reference_mes(election, s, utility=utility, tie_breaking=tie_breaking)) for s in shares]


@st.composite
def elections_with_room(draw):
    """Many cheap projects and a budget for a good part of them: MES leaves room, so the
    add-one walk can often certify a share's outcome part-way (about one answer in six)."""
    count_projects = draw(st.integers(4, 10))
    costs = draw(st.lists(st.integers(1, 40), min_size=count_projects, max_size=count_projects))
    projects = [Project(id=f"p{i}", cost=c) for i, c in enumerate(costs)]
    ids = [p.id for p in projects]
    ballots = draw(st.lists(st.lists(st.sampled_from(ids), unique=True, min_size=1, max_size=4),
                            min_size=3, max_size=25))
    budget = draw(st.integers(max(1, sum(costs) // 3), sum(costs)))
    return Election(projects=projects, ballots=ballots, budget=budget)


@settings(max_examples=60, deadline=None)
@given(elections(), st.sampled_from(["cost", "approval"]))
def test_mes_add1_jump_when_nothing_can_overspend_equals_stepping(election, utility):
    """When every supported project fits in the budget the walk goes straight to the first
    share above the budget: the same as stepping there one unit at a time."""
    supported = [p for p, v in zip(election.projects, election.supporters()) if v > 0]
    assume(sum(p.cost for p in supported) <= election.budget)
    share = Fraction(election.budget, len(election.ballots))
    chosen, steps = reference_mes(election, share, utility=utility), 0
    while share <= election.budget:
        share, steps = share + 1, steps + 1
        chosen = reference_mes(election, share, utility=utility)
    expected = (chosen, share, steps)
    start = Fraction(election.budget, len(election.ballots))
    assert reference_add1(election, start, 1, utility=utility) == expected
    engine = EqualShares(election, [True] * len(election.projects), utility=utility)
    assert engine.add_one(start, 1) == expected


@settings(max_examples=150, deadline=None)
@given(st.one_of(elections_with_room(), elections_with_duplicates()), MES_OPTIONS, st.integers(0, 10), st.booleans())
def test_mes_certified_outcomes_are_sound(election, options, extra, exhaustive_stop):
    """Where the walk's batch stops a run early (FITS), the full outcome does fit the budget (and
    is not exhaustive, when the walk stops there); every other answer is the full outcome."""
    utility, tie_breaking = options
    engine = EqualShares(election, [True] * len(election.projects), utility=utility, tie_breaking=tie_breaking)
    start = Fraction(election.budget, len(election.ballots)) + extra
    shares = [start + k for k in range(9)]
    for share, answer in zip(shares, engine.outcomes(shares, certify=True, exhaustive_stop=exhaustive_stop)):
        full = reference_mes(election, share, utility=utility, tie_breaking=tie_breaking)
        if answer is FITS:
            assert engine.spent(full) <= election.budget
            assert not (exhaustive_stop and engine.exhaustive(full))
        else:
            assert answer == tuple(c for c, _ in full)


@settings(max_examples=80, deadline=None)
@given(st.one_of(elections_with_duplicates(), elections(), elections_with_room()), MES_OPTIONS, st.booleans())
def test_mes_add1_equals_the_reference_walk(election, options, exhaustive_stop):
    utility, tie_breaking = options
    engine = EqualShares(election, [True] * len(election.projects), utility=utility, tie_breaking=tie_breaking)
    share = Fraction(election.budget, len(election.ballots))
    assert engine.add_one(share, Fraction(1), exhaustive_stop=exhaustive_stop) == reference_add1(
        election, share, 1, utility=utility, tie_breaking=tie_breaking, exhaustive_stop=exhaustive_stop)


@settings(max_examples=60, deadline=None)
@given(elections(), st.booleans())
def test_mes_skip_ahead_equals_one_step_at_a_time(election, exhaustive_stop):
    engine = EqualShares(election, [True] * len(election.projects))
    share = election.budget / len(election.ballots)
    fast = engine.add_one(share, Fraction(1), exhaustive_stop=exhaustive_stop)
    slow = engine.add_one(share, Fraction(1), skip=False, exhaustive_stop=exhaustive_stop)
    assert fast == slow


@settings(max_examples=60, deadline=None)
@given(elections(min_cost=1))
def test_mes_equals_pabutools(election):
    # Free projects (cost 0) are left out: we fund supported ones, pabutools 1.2.3 drops them.
    assert count(election, "mes", completion="none").winners == pabutools_outcome(election, "mes")
    assert count(election, "mes", completion="add1-exhaustive").winners == \
        pabutools_outcome(election, "mes", completion="add1")


@settings(max_examples=60, deadline=None)
@given(elections(min_cost=1))
def test_greedy_equals_pabutools(election):
    # Cost 0 left out: pabutools ranks a free project last (Cost_Sat gives it 0), we rank it by votes.
    assert count(election, "greedy").winners == pabutools_outcome(election, "greedy")


@settings(max_examples=80, deadline=None)
@given(elections())
def test_parser_round_trips(election):
    again = parse(write(election))
    assert [(p.id, p.cost, p.name) for p in again.projects] == [(p.id, p.cost, p.name) for p in election.projects]
    assert [b.projects for b in again.ballots] == [b.projects for b in election.ballots]
    assert again.budget == election.budget
    assert write(again) == write(election)
