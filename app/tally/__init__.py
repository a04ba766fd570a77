"""Qatysu's vote-counting engine: pure Python (+NumPy), no Flask, no database.

Anyone can run it on the published `ballots.pb` (the file names its own rule and minimum):

    python -m app.tally ballots.pb --json
    python -m app.tally ballots.pb --rule greedy-threshold --threshold 10 --json

and check that their ballot is in a cycle's published seal (app/tally/seal.py, RFC 6962):

    python -m app.tally verify-receipt --seal seal.json --proof proof.json

Public API
----------
parse(text, strict=False) -> Election   Pabulib `.pb` text to an Election
parse_file(path, strict=False) -> Election
election.warnings                       PabulibWarning(section, line, message) for each quirk
                                        read with a clear meaning (a project listed twice
                                        in one vote counts once); strict=True refuses them
write(election) -> str                  Election to `.pb` text (the ballots.pb export)
PabulibError(section, line, message)    raised for malformed files
RULES: dict[str, callable]              rule key -> rule function
count(election, rule, threshold=None, **options) -> Result

Building an election in memory (what the web app does):

    election = Election(
        projects=[Project(id="p1", cost=50000, name="Park"), ...],
        ballots=[["p1", "p3"], ["p2"], ...],   # approval: project ids per voter
        budget=120000,
    )
    result = count(election, "greedy-threshold", threshold=10)
    result.winners                         # ids, in the order funded
    result.projects["p1"].votes            # int: voters approving p1
    result.projects["p1"].eligible         # bool: reached the threshold
    result.projects["p1"].selected         # bool
    result.projects["p1"].price_per_voter  # Fraction, MES winners only
    result.to_dict()                       # JSON-ready

Rules (keys of RULES)
---------------------
greedy            by score (votes; total points for cumulative/scoring; Borda
                  points for ordinal, see Election.ordinal_points), highest
                  first, skipping a project that no longer fits
greedy-no-skip    the same, stopping at the first project that does not fit
greedy-threshold  greedy over projects whose score reaches the threshold
                  (META min_project_score_threshold, or `threshold=`)
greedy-exclusive  greedy where funding a project rules out the others of its
                  group (`exclusions=[{"a","b"}]`, or read from META comment)
mes               Method of Equal Shares with add-one completion; options
                  utility="cost"|"approval", completion="add1" (as
                  equalshares.net: raise the share while the outcome fits)|
                  "add1u"|"add1-exhaustive" (as pabutools: also stop at the
                  first exhaustive outcome)|"add1u-exhaustive"|"utilitarian"|
                  "none", budget_step=1, integral_start=False,
                  engine="fast"|"reference" (the textbook oracle, exact and
                  slow). See app/tally/mes/__init__.py.

`threshold=N` works with every rule: projects scoring below N are ineligible. When META
`threshold_scope` names a VOTES column (Qatysu's `in_territory`), only the votes with 1 in that
column count towards N (Election.threshold_ballots); every vote still counts for the rule.
Ties: tie_breaking="pabulib" (default: lower cost, then more votes, then
project id in text order) or "lexicographic" (project id only, pabutools'
default).
"""

from .election import Ballot, Election, Project
from .mes import method_of_equal_shares
from .pabulib import PabulibError, PabulibWarning, parse, parse_file, write
from .rules import Result, TallyError, greedy, greedy_exclusive, greedy_no_skip, greedy_threshold

RULES = {
    "greedy": greedy,
    "greedy-no-skip": greedy_no_skip,
    "greedy-threshold": greedy_threshold,
    "greedy-exclusive": greedy_exclusive,
    "mes": method_of_equal_shares,
}

# How Pabulib's META `rule` names map to our keys.
PABULIB_RULES = {
    "greedy": "greedy",
    "greedy-no-skip": "greedy-no-skip",
    "greedy-threshold": "greedy-threshold",
    "greedy-exclusive": "greedy-exclusive",
    "equalshares": "mes",
    "equalshares/add1": "mes",
}


def count(election, rule, threshold=None, **options):
    """Count `election` with RULES[rule]; returns a Result."""
    if rule not in RULES:
        raise TallyError(f"unknown rule {rule!r}; expected one of {', '.join(RULES)}")
    if threshold is not None:
        from .election import as_fraction

        threshold = as_fraction(threshold)
    return RULES[rule](election, threshold=threshold, **options)


__all__ = ["Ballot", "Election", "Project", "PabulibError", "PabulibWarning", "Result", "TallyError", "RULES",
           "PABULIB_RULES", "count", "parse", "parse_file", "write"]
