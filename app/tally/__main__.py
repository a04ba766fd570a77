"""python -m app.tally FILE.pb --rule RULE [--threshold N] [--json]

Prints the winners; with --json, every project's figures. Exit code 2 with a
one-line message on bad input (unreadable or malformed file, unknown rule).
"""

import argparse
import json
import sys

from . import RULES, PabulibError, TallyError, count, parse_file


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m app.tally", description="Count a Pabulib .pb election.")
    parser.add_argument("file", help="election in Pabulib .pb format")
    parser.add_argument("--rule", required=True, choices=sorted(RULES), help="counting rule")
    parser.add_argument("--threshold", help="minimum votes (points) for a project to be eligible")
    parser.add_argument("--json", action="store_true", help="print all figures as JSON")
    parser.add_argument("--tie-breaking", default="pabulib", choices=["pabulib", "lexicographic"])
    parser.add_argument("--completion", default="add1", choices=["add1", "add1u", "utilitarian", "none"],
                        help="MES completion (mes only)")
    parser.add_argument("--utility", default="cost", choices=["cost", "approval"], help="MES utilities (mes only)")
    args = parser.parse_args(argv)

    options = {"tie_breaking": args.tie_breaking}
    if args.rule == "mes":
        options.update(completion=args.completion, utility=args.utility)
    try:
        election = parse_file(args.file)
        threshold = args.threshold
        if threshold is not None:
            try:
                threshold = int(threshold) if threshold.isdigit() else float(threshold)
            except ValueError:
                raise TallyError(f"--threshold {args.threshold!r} is not a number") from None
        result = count(election, args.rule, threshold=threshold, **options)
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
    print(f"# {len(result.winners)} winners, {result.spent} of {result.budget} spent ({args.rule})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
