"""The counting engine against its definitions, the cities' results and pabutools."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from tally_helpers import DATA, MISSING, SHARED, file_header, pabutools_outcome, require_shared, shared_files

from app.tally import PABULIB_RULES, RULES, Election, PabulibError, Project, count, parse, parse_file, write
from app.tally.rules import exclusions_from_meta

REPO = Path(__file__).resolve().parents[1]
SMALL = ["Netherlands_Assen_2024", "Poland_Gdynia_2022_Kamienna_Gora__small", "Poland_Katowice_2025_Zarzecze",
         "Poland_Warszawa_2018_Pole_Mokotowskie", "Switzerland_Zurich_D5", "Poland_Lodz_2024_Katedralna",
         "Poland_Swiecie_2023", "Poland_Krakow_2024_Mistrzejowice", "Poland_Wroclaw_2018_Rejon_nr_14_750"]
# The one shared file where the city broke a tie against our documented key: S004KA and S039KA
# both have 206 votes; the city funded S004KA (the dearer, listed first, lower id).
CITY_TIE_BREAKS = {"Poland_Lodz_2024_Katedralna": "lexicographic"}

_cache = {}
# pabutools' greedy needs 40-75 s on the files above this many voters: bench/tally.py compares those.
PABUTOOLS_GREEDY_MAX_VOTERS = 20000


def with_city_result(paths):
    """Files whose META rule is one of ours and whose PROJECTS have a `selected` column."""
    chosen = []
    for path in paths:
        meta, columns = file_header(path)
        if path == MISSING or PABULIB_RULES.get(meta.get("rule", "")) is not None and "selected" in columns:
            chosen.append(path)
    return chosen


def for_pabutools_greedy(paths):
    """Approval/choose-1 files small enough for pabutools' greedy in the test suite.

    pabutools' Cost_Sat greedy ranks by supporters while ours ranks cumulative/ordinal
    ballots by points, so those files are compared by MES only.
    """
    chosen = []
    for path in paths:
        meta, _ = file_header(path)
        if path == MISSING or meta.get("vote_type", "approval") in ("approval", "choose-1") and \
                int(meta.get("num_votes", "0") or 0) <= PABUTOOLS_GREEDY_MAX_VOTERS:
            chosen.append(path)
    return chosen


def load(stem):
    require_shared()
    if stem not in _cache:
        _cache[stem] = parse_file(SHARED / f"{stem}.pb")
    return _cache[stem]


def city_selected(election):
    return {p.id for p in election.projects if p.extra.get("selected") == "1"}


MINIMAL = ("META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost;name\na;60;A\nb;50;B\nc;40;C\n"
           "VOTES\nvoter_id;vote\n1;a,b\n2;b\n3;a,c\n")


# -- parser -------------------------------------------------------------------------
def test_parses_minimal_file():
    election = parse(MINIMAL)
    assert [p.id for p in election.projects] == ["a", "b", "c"]
    assert election.budget == 100
    assert [b.projects for b in election.ballots] == [["a", "b"], ["b"], ["a", "c"]]
    assert election.supporters() == [2, 2, 1]


@pytest.mark.parametrize("text, section, line, words", [
    (MINIMAL.replace("a;60;A", "a;sixty;A"), "projects", 7, "not a number"),
    (MINIMAL.replace("3;a,c", "3;a,z"), "votes", 14, "unknown project"),
    (MINIMAL.replace("b;50;B", "b;50"), "projects", 8, "2 fields"),
    (MINIMAL.replace("b;50;B", "a;50;B"), "projects", 8, "listed twice"),
    (MINIMAL.replace("budget;100\n", ""), "meta", 1, "budget"),
    (MINIMAL.replace("vote_type;approval", "vote_type;quadratic"), "meta", 1, "vote_type"),
    (MINIMAL.replace("project_id;cost;name", "project_id;price;name"), "projects", 6, "cost"),
    (MINIMAL[:MINIMAL.index("VOTES")], "votes", None, "missing"),
    ("hello;world\n" + MINIMAL, "", 1, "before any data"),
    (MINIMAL.replace("vote_type;approval", "vote_type;ordinal").replace("1;a,b", "1;a,b,a"), "votes", 12, "twice"),
    (MINIMAL.replace("vote_type;approval", "vote_type;cumulative").replace("voter_id;vote", "voter_id;vote;points")
     .replace("1;a,b", "1;a,b;1").replace("2;b", "2;b;1").replace("3;a,c", "3;a,c;1,1"), "votes", 12, "points"),
])
def test_malformed_files_name_section_and_line(text, section, line, words):
    with pytest.raises(PabulibError) as caught:
        parse(text)
    assert caught.value.section == section
    if line is not None:
        assert caught.value.line == line
    assert words in str(caught.value)


def test_quoted_fields_and_decimal_costs():
    text = MINIMAL.replace("a;60;A", 'a;"60,5";"Park; with ""quotes"""').replace("budget;100", "budget;100.25")
    election = parse(text)
    assert election.projects[0].cost == Fraction(121, 2)
    assert election.projects[0].name == 'Park; with "quotes"'
    assert election.budget == Fraction(401, 4)
    again = parse(write(election))
    assert again.projects[0].name == election.projects[0].name and again.projects[0].cost == Fraction(121, 2)


@pytest.mark.slow  # a real-data run: seconds, not milliseconds
@pytest.mark.parametrize("path", shared_files(), ids=lambda p: p.stem)
def test_writer_round_trips_every_shared_file(path):
    election = load(path.stem)
    again = parse(write(election))
    assert [(p.id, p.cost, p.name, p.extra) for p in again.projects] == \
        [(p.id, p.cost, p.name, p.extra) for p in election.projects]
    assert [(b.voter_id, b.projects, b.points) for b in again.ballots] == \
        [(b.voter_id, b.projects, b.points) for b in election.ballots]
    assert again.budget == election.budget and again.vote_type == election.vote_type
    assert write(again) == write(election)


@pytest.mark.slow  # a real-data run: seconds, not milliseconds
@pytest.mark.parametrize("stem", SMALL)
def test_pabutools_reads_our_output_identically(stem):
    from pabutools.election import parse_pabulib
    from pabutools.election.pabulib import parse_pabulib_from_string

    election = load(stem)
    theirs, their_profile = parse_pabulib(str(SHARED / f"{stem}.pb"))
    ours, our_profile = parse_pabulib_from_string(write(election))
    assert sorted((p.name, p.cost) for p in ours) == sorted((p.name, p.cost) for p in theirs)
    assert ours.budget_limit == theirs.budget_limit

    def as_lists(profile):
        return [[(p.name, b[p]) for p in b] if hasattr(b, "items") else [p.name for p in b] for b in profile]
    assert as_lists(our_profile) == as_lists(their_profile)


def test_web_app_election_in_memory():
    election = Election(projects=[Project(id="p1", cost=50000, name="Park"), Project(id="p2", cost=30000),
                                  Project(id="p3", cost=60000)],
                        ballots=[["p1", "p3"], ["p2"], {"p1"}] + [["p3"]] * 9, budget=120000)
    result = count(election, "greedy-threshold", threshold=10)
    assert result.winners == ["p3"]
    assert result.projects["p1"].votes == 2 and not result.projects["p1"].eligible
    assert result.projects["p3"].eligible and result.projects["p3"].selected
    mes = count(election, "mes")
    assert all(mes.projects[w].price_per_voter is not None for w in mes.winners)
    assert json.loads(json.dumps(mes.to_dict()))["winners"] == mes.winners
    assert parse(write(election)).supporters() == election.supporters()


def test_tie_breaking_is_lower_cost_then_more_votes_then_id():
    projects = [Project("b", 40), Project("a", 40), Project("c", 30), Project("d", 50)]
    ballots = [["a", "b", "c", "d"], ["a", "b", "c", "d"]]
    result = count(Election(projects, ballots, budget=70), "greedy")
    assert result.winners == ["c", "a"]
    assert count(Election(projects, ballots, budget=70), "greedy", tie_breaking="lexicographic").winners == ["a", "c"]


def test_greedy_no_skip_stops_and_exclusions_are_honoured():
    projects = [Project("a", 60), Project("b", 50), Project("c", 30)]
    ballots = [["a"], ["a"], ["a"], ["b"], ["b"], ["c"]]
    election = Election(projects, ballots, budget=100)
    assert count(election, "greedy").winners == ["a", "c"]
    assert count(election, "greedy-no-skip").winners == ["a"]
    assert count(election, "greedy-exclusive", exclusions=[{"a", "c"}]).winners == ["a"]


def test_exclusions_read_from_comment():
    election = parse(MINIMAL.replace("budget;100", "budget;200\ncomment;#1: Data. #2: Projects a and c were treated "
                                     "by the city as mutually exclusive because they concern the same area."))
    assert exclusions_from_meta(election) == [{"a", "c"}]
    assert count(election, "greedy").winners == ["b", "a", "c"]
    assert count(election, "greedy-exclusive").winners == ["b", "a"]


def test_mes_worked_example():
    # 4 voters, budget 100, share 25. a (cost 60) by 3 voters: 20 each; b (cost 50) by 2 voters.
    projects = [Project("a", 60), Project("b", 50), Project("c", 10)]
    election = Election(projects, [["a", "b"], ["a", "b"], ["a"], ["c"]], budget=100)
    result = count(election, "mes", completion="none")
    assert result.winners == ["a", "c"]
    assert result.projects["a"].price_per_voter == 20
    assert result.projects["c"].price_per_voter == 10


def test_unknown_rule_and_missing_threshold_are_errors():
    election = parse(MINIMAL)
    with pytest.raises(ValueError):
        count(election, "borda")
    with pytest.raises(ValueError):
        count(election, "greedy-threshold")


# -- faithfulness: the cities' own results --------------------------------------------
@pytest.mark.parametrize("path", with_city_result(shared_files()), ids=lambda p: p.stem)
def test_winners_equal_the_citys_selected_column(path):
    election = load(path.stem)
    rule = PABULIB_RULES[election.meta["rule"]]
    assert any("selected" in p.extra for p in election.projects)
    tie_breaking = CITY_TIE_BREAKS.get(path.stem, "pabulib")
    assert set(count(election, rule, tie_breaking=tie_breaking).winners) == city_selected(election)
    if path.stem in CITY_TIE_BREAKS:  # the divergence is the tie and nothing else
        assert set(count(election, rule).winners) != city_selected(election)


# -- faithfulness: pabutools ------------------------------------------------------------
@pytest.mark.slow  # a real-data run: seconds, not milliseconds
@pytest.mark.parametrize("path", for_pabutools_greedy(shared_files()), ids=lambda p: p.stem)
def test_greedy_equals_pabutools(path):
    election = load(path.stem)
    assert len(election.ballots) <= PABUTOOLS_GREEDY_MAX_VOTERS
    assert election.vote_type in ("approval", "choose-1")
    assert count(election, "greedy").winners == pabutools_outcome(election, "greedy")


@pytest.mark.parametrize("stem", ["Netherlands_Assen_2024", "Poland_Gdynia_2022_Kamienna_Gora__small",
                                  "Poland_Katowice_2025_Zarzecze", "Switzerland_Zurich_D5",
                                  "Poland_Lodz_2024_Katedralna", "Poland_Swiecie_2023",
                                  "Poland_Wroclaw_2018_Rejon_nr_14_750", "Poland_Krakow_2024_Mistrzejowice"])
def test_mes_without_completion_equals_pabutools(stem):
    election = load(stem)
    assert count(election, "mes", completion="none").winners == pabutools_outcome(election, "mes")


def test_mes_add1_exhaustive_equals_pabutools_on_assen():
    election = load("Netherlands_Assen_2024")
    assert count(election, "mes", completion="add1-exhaustive").winners == \
        pabutools_outcome(election, "mes", completion="add1")


# -- command line ---------------------------------------------------------------------
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "app.tally", *args], cwd=REPO, capture_output=True, text=True)


def test_cli_prints_winners_and_json():
    require_shared()
    path = str(SHARED / "Poland_Gdynia_2022_Kamienna_Gora__small.pb")
    plain = run_cli(path, "--rule", "greedy-no-skip")
    assert plain.returncode == 0 and plain.stdout.splitlines()[0].startswith("2022/KAG/0002")
    as_json = json.loads(run_cli(path, "--rule", "greedy-threshold", "--threshold", "60", "--json").stdout)
    assert as_json["winners"] == ["2022/KAG/0002"]
    figures = {p["id"]: p for p in as_json["projects"]}
    assert figures["2022/KAG/0001"]["eligible"] is False and figures["2022/KAG/0001"]["votes"] == 55


def test_cli_exit_code_2_on_bad_input(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text(MINIMAL.replace("a;60;A", "a;x;A"))
    result = run_cli(str(bad), "--rule", "greedy")
    assert result.returncode == 2 and "PROJECTS section, line 7" in result.stderr
    assert run_cli(str(tmp_path / "missing.pb"), "--rule", "greedy").returncode == 2
    assert run_cli(str(bad), "--rule", "nope").returncode == 2


def test_rules_registry_keys():
    assert set(RULES) == {"greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive", "mes"}


# -- quirks read with a warning, refused with --strict ----------------------------------
DOUBLED = MINIMAL.replace("3;a,c", "3;a,c,a")


def test_project_listed_twice_in_a_vote_counts_once_with_a_warning():
    election = parse(DOUBLED)
    assert [b.projects for b in election.ballots] == [["a", "b"], ["b"], ["a", "c"]]
    assert [(w.section, w.line) for w in election.warnings] == [("votes", 14)]
    assert "'a' is listed twice in one vote; counted once" in str(election.warnings[0])
    assert str(election.warnings[0]).startswith("VOTES section, line 14:")
    assert parse(MINIMAL).warnings == []
    with pytest.raises(PabulibError) as caught:
        parse(DOUBLED, strict=True)
    assert (caught.value.section, caught.value.line) == ("votes", 14) and "twice" in str(caught.value)


def test_same_quirk_on_many_lines_is_warned_on_each():
    election = parse(DOUBLED + "4;a,c,a\n5;b,b,c,c\n")
    assert [w.line for w in election.warnings] == [14, 15, 16]
    assert "projects 'b', 'c' are listed twice" in str(election.warnings[2])


def test_cli_prints_warnings_and_strict_refuses(tmp_path):
    path = tmp_path / "doubled.pb"
    path.write_text(DOUBLED)
    read = run_cli(str(path), "--rule", "greedy")
    assert read.returncode == 0
    assert f"warning: {path}: VOTES section, line 14: project 'a' is listed twice in one vote" in read.stderr
    refused = run_cli(str(path), "--rule", "greedy", "--strict")
    assert refused.returncode == 2 and "VOTES section, line 14" in refused.stderr and "twice" in refused.stderr


# -- MES: the official results computed with equalshares.net ------------------------------
WIELICZKA = DATA / "poland_wieliczka_2023_green-budget.pb"


def official(stem):
    return parse_file(WIELICZKA) if stem == WIELICZKA.stem else load(stem)


@pytest.mark.parametrize("stem", [WIELICZKA.stem, "Poland_Swiecie_2023", "Netherlands_Assen_2024"])
def test_mes_add1_reproduces_the_official_equalshares_results(stem):
    election = official(stem)
    assert election.meta["rule"] == "equalshares/add1"
    assert set(count(election, "mes").winners) == city_selected(election)
    assert set(count(election, "mes", integral_start=True).winners) == city_selected(election)


def test_wieliczka_shows_where_pabutools_add1_differs():
    """pabutools stops the walk at the first exhaustive outcome (share B/n + 150, 31 projects
    with 66 and 67); equalshares.net walks on while the outcome fits (+ 164, the city's 30)."""
    election = parse_file(WIELICZKA)
    ours = count(election, "mes")
    theirs = count(election, "mes", completion="add1-exhaustive")
    assert set(theirs.winners) - set(ours.winners) == {"66", "67"}
    assert set(ours.winners) - set(theirs.winners) == {"46"}
    assert (ours.details["completion_steps"], theirs.details["completion_steps"]) == (164, 150)
    assert len(ours.winners) == 30 and ours.spent <= election.budget < ours.spent + 46000


def test_wieliczka_data_file_is_documented():
    readme = (DATA / "README.md").read_text()
    assert WIELICZKA.name in readme and "equalshares-compute-tool" in readme


# -- MES: the reference engine (the oracle) and the fast one agree on real files ----------
@pytest.mark.parametrize("stem", ["Netherlands_Assen_2024", "Poland_Gdynia_2022_Kamienna_Gora__small",
                                  "Poland_Katowice_2025_Zarzecze", "Switzerland_Zurich_D5",
                                  "Poland_Warszawa_2018_Pole_Mokotowskie"])
@pytest.mark.parametrize("completion", ["add1", "add1-exhaustive", "none"])
def test_mes_fast_engine_equals_the_reference_on_small_files(stem, completion):
    election = load(stem)
    fast = count(election, "mes", completion=completion).to_dict()
    reference = count(election, "mes", completion=completion, engine="reference").to_dict()
    assert fast == reference


@pytest.mark.slow  # a real-data run: seconds, not milliseconds
def test_cli_selects_the_reference_engine():
    require_shared()
    path = str(SHARED / "Netherlands_Assen_2024.pb")
    fast = json.loads(run_cli(path, "--rule", "mes", "--json").stdout)
    reference = json.loads(run_cli(path, "--rule", "mes", "--engine", "reference", "--json").stdout)
    assert fast == reference
    assert run_cli(path, "--rule", "mes", "--engine", "nope").returncode == 2


def test_unknown_mes_options_are_errors():
    election = parse(MINIMAL)
    for options in ({"completion": "add2"}, {"engine": "gpu"}, {"utility": "joy"}, {"budget_step": 0}):
        with pytest.raises(ValueError):
            count(election, "mes", **options)


def test_mes_add1_when_everything_fits_funds_every_supported_project():
    """No outcome can overspend, so the walk goes to its end: the first share above the budget.
    (equalshares.net's tool would keep MES at B/n, funding only a; see app/tally/mes.)"""
    election = Election([Project("a", 60), Project("b", 40), Project("c", 0)], [["a"], ["a"], ["a"], ["b"]],
                        budget=100)
    walked = count(election, "mes")
    assert walked.winners == ["a", "b"]  # c has no supporter
    assert (walked.projects["a"].price_per_voter, walked.projects["b"].price_per_voter) == (20, 40)
    assert walked.details["final_share"] == 101 and walked.details["completion_steps"] == 76
    assert count(election, "mes", engine="reference").to_dict() == walked.to_dict()
    assert count(election, "mes", completion="none").winners == ["a"]
    exhaustive = count(election, "mes", completion="add1-exhaustive")
    assert exhaustive.winners == ["a", "b"] and exhaustive.details["final_share"] == 40


SCOPED = """META
key;value
budget;10
vote_type;approval
rule;greedy
min_project_score_threshold;2
threshold_scope;in_territory
PROJECTS
project_id;cost;name
a;4;A
b;4;B
VOTES
voter_id;vote;in_territory
1;a,b;1
2;a,b;0
3;b;1
"""


def test_threshold_counts_only_the_voters_the_file_names():
    election = parse(SCOPED)
    result = count(election, "greedy", threshold=2)
    # a: 2 votes but 1 from the territory; b: 3 votes, 2 from the territory.
    assert result.projects["a"].votes == 2 and result.projects["a"].eligible is False
    assert result.projects["b"].eligible is True and result.winners == ["b"]
    assert result.details["threshold_voters"] == 2
    unscoped = count(parse(SCOPED.replace("threshold_scope;in_territory\n", "")), "greedy", threshold=2)
    assert unscoped.winners == ["b", "a"]


def test_cli_uses_the_files_own_rule_and_threshold(tmp_path):
    path = tmp_path / "scoped.pb"
    path.write_text(SCOPED, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "app.tally", str(path), "--json"], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["winners"] == ["b"]
    path.write_text(SCOPED.replace("rule;greedy", "rule;lottery"), encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "app.tally", str(path)], cwd=REPO,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "pass --rule" in refused.stderr
