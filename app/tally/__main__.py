"""python -m app.tally FILE.pb [--rule RULE] [--threshold N] [--json] [--strict]
                   [--completion C] [--utility U] [--engine fast|reference]
python -m app.tally verify-receipt ...   (see app/tally/seal.py: a ballot in a published seal)

Without --rule, the file's own recipe is used: the rule named in META `rule` and the threshold
in META `min_project_score_threshold` (Qatysu's ballots.pb states both, so
`python -m app.tally ballots.pb` recounts a cycle exactly as it was counted). A threshold
counts only the votes META `threshold_scope` names, when the file names a VOTES column there.

Prints the winners; with --json, every project's figures. Quirks of the file that are read
with a clear meaning (a project listed twice in one vote) are printed on stderr as warnings
naming the line; --strict refuses them. Exit code 2 with a one-line message on bad input
(unreadable or malformed file, unknown rule).
"""

import argparse
import json
import sys

from . import PABULIB_RULES, RULES, PabulibError, TallyError, count, parse_file
from .mes import COMPLETIONS, ENGINES

MAX_WARNINGS = 20  # printed one per line; the rest are counted


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["verify-receipt"]:
        from .seal import verify_receipt_main

        return verify_receipt_main(argv[1:])
    args = _arguments(argv)
    try:
        election = parse_file(args.file, strict=args.strict)
        _print_warnings(args.file, election.warnings)
        rule, threshold = _recipe(args, election)
        options = {"tie_breaking": args.tie_breaking}
        if rule == "mes":
            options.update(completion=args.completion, utility=args.utility, engine=args.engine)
        result = count(election, rule, threshold=threshold, **options)
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    except (PabulibError, TallyError, ValueError) as error:
        print(f"error: {args.file}: {error}", file=sys.stderr)
        return 2

    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    names = {p.id: p.name for p in election.projects}
    for project_id in result.winners:
        figures = result.projects[project_id]
        print(f"{project_id}\t{figures.votes}\t{figures.cost}\t{names[project_id]}")
    print(f"# {len(result.winners)} winners, {result.spent} of {result.budget} spent ({rule})", file=sys.stderr)
    return 0


def _recipe(args, election):
    """(rule, threshold): as given, else the file's own (META `rule`, `min_project_score_threshold`)."""
    if args.rule is not None:
        return args.rule, _threshold(args.threshold)
    named = election.meta.get("rule", "").strip()
    if named not in PABULIB_RULES:
        raise TallyError(f"the file names no rule this program knows (META rule {named!r}): pass --rule")
    threshold = args.threshold
    if threshold is None:
        threshold = election.meta.get("min_project_score_threshold", "").strip() or None
    return PABULIB_RULES[named], _threshold(threshold)


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m app.tally", description="Count a Pabulib .pb election.")
    parser.add_argument("file", help="election in Pabulib .pb format")
    parser.add_argument("--rule", choices=sorted(RULES),
                        help="counting rule (default: the file's META rule, with its threshold)")
    parser.add_argument("--threshold", help="minimum votes (points) for a project to be eligible")
    parser.add_argument("--json", action="store_true", help="print all figures as JSON")
    parser.add_argument("--strict", action="store_true",
                        help="refuse quirks that are otherwise read with a warning (a project listed twice in a vote)")
    parser.add_argument("--tie-breaking", default="pabulib", choices=["pabulib", "lexicographic"])
    parser.add_argument("--completion", default="add1", choices=COMPLETIONS,
                        help="MES completion (mes only): add1 as equalshares.net (default), add1-exhaustive as "
                             "pabutools (stops at the first exhaustive outcome); ...u adds greedy by votes")
    parser.add_argument("--utility", default="cost", choices=["cost", "approval"], help="MES utilities (mes only)")
    parser.add_argument("--engine", default="fast", choices=ENGINES,
                        help="MES engine (mes only): fast (default) or reference, the textbook oracle in exact "
                             "arithmetic (slow: minutes on the large Warsaw files)")
    return parser.parse_args(argv)


def _threshold(text):
    if text is None:
        return None
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        raise TallyError(f"--threshold {text!r} is not a number") from None


def _print_warnings(path, warnings):
    for warning in warnings[:MAX_WARNINGS]:
        print(f"warning: {path}: {warning}", file=sys.stderr)
    if len(warnings) > MAX_WARNINGS:
        print(f"warning: {path}: {len(warnings) - MAX_WARNINGS} more lines with the same kind of quirk",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
