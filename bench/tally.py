"""Benchmark: each rule on the shared Pabulib files, against pabutools in the same run.

Rows: greedy, greedy-threshold, mes (add-one completion as equalshares.net computes it, our
default) and mes-exhaustive (completion="add1-exhaustive": pabutools' variant, which stops at
the first exhaustive outcome; pabutools' MES is timed and compared on this row). The files
are ../shared/pabulib/*.pb and tests/data/*.pb (Wieliczka 2023).

    python bench/tally.py [--quick] [--skip-slow-pabutools | --pabutools-mes-voters N]
                          [--files STEM ...] [--repeat N]

--quick runs only our engine (no pabutools). --skip-slow-pabutools leaves out
pabutools' MES with completion on files above 20,000 voters (minutes each);
--pabutools-mes-voters N sets that limit (its MES on the Warsaw Mokotow files,
about 10,000 voters, ran for most of an hour on a loaded machine).
Times exclude parsing; pabutools is timed on its own parser's objects. Each
time is printed as wall seconds and CPU seconds of this process (the CPU
figure is the fairer one on a shared, loaded machine); the speed-up is by CPU.
Our engine is timed --repeat times (default 3) and the best time is printed:
on a shared machine single runs of the same code vary by 15 % or more.
"""

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.tally import count, parse_file  # noqa: E402

SHARED = ROOT.parent / "shared" / "pabulib"
DATA = ROOT / "tests" / "data"
# row label -> (rule, options)
RULES = {
    "greedy": ("greedy", {}),
    "greedy-threshold": ("greedy-threshold", {}),
    "mes": ("mes", {"completion": "add1"}),
    "mes-exhaustive": ("mes", {"completion": "add1-exhaustive"}),
}


def pabutools_runner(path, rule):
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

    instance, profile = parse_pabulib(str(path))
    if rule == "mes":
        return None  # pabutools has no add-one walk that goes on past an exhaustive outcome
    if rule == "mes-exhaustive":
        return lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
    if rule == "greedy-threshold":
        threshold = instance.meta.get("min_project_score_threshold")
        if threshold is None:
            return None
        scores = {p: 0 for p in instance}
        for ballot in profile:
            for p in ballot:
                scores[p] += 1
        eligible = [p for p in instance if scores[p] >= float(threshold)]

        def run():
            instance_copy = instance.copy() if hasattr(instance, "copy") else instance
            for p in [p for p in instance if p not in eligible]:
                instance_copy.discard(p)
            return greedy_utilitarian_welfare(instance_copy, profile, sat_class=Cost_Sat)
        return run
    return lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)


def timed(function):
    start, cpu = time.perf_counter(), time.process_time()
    value = function()
    return (time.perf_counter() - start, time.process_time() - cpu), value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="our engine only")
    parser.add_argument("--skip-slow-pabutools", action="store_true",
                        help="leave out pabutools' MES with completion above 20,000 voters")
    parser.add_argument("--pabutools-mes-voters", type=int, default=None,
                        help="leave out pabutools' MES with completion above this many voters")
    parser.add_argument("--files", nargs="*")
    parser.add_argument("--repeat", type=int, default=3,
                        help="time our engine this many times and print the best (pabutools runs once)")
    args = parser.parse_args()
    paths = sorted(SHARED.glob("*.pb")) + sorted(DATA.glob("*.pb"))
    if args.files:
        paths = [p for p in paths if p.stem in args.files]
    print(f"{'file':42} {'rule':17} {'voters':>7} {'qatysu s':>9} {'cpu s':>7} {'pabutools s':>12} {'cpu s':>8} "
          f"{'speed-up':>9}  same")
    for path in paths:
        election = parse_file(path)
        for rule, (key, options) in RULES.items():
            if rule == "greedy-threshold" and "min_project_score_threshold" not in election.meta:
                continue
            if key != "mes" and election.vote_type not in ("approval", "choose-1"):
                continue  # pabutools' Cost_Sat greedy ranks by supporters, not points
            gc.collect()  # pabutools' objects from the previous rule are gone: none of its garbage is ours to sweep
            runs = [timed(lambda: count(election, key, tie_breaking="lexicographic", **options))
                    for _ in range(max(args.repeat, 1))]
            ours = (min(t[0] for t, _ in runs), min(t[1] for t, _ in runs))
            result = runs[0][1]
            theirs, same = None, ""
            limit = args.pabutools_mes_voters if args.pabutools_mes_voters is not None else \
                (20000 if args.skip_slow_pabutools else None)
            slow = key == "mes" and limit is not None and len(election.ballots) > limit
            if not args.quick and not slow:
                runner = pabutools_runner(path, rule)
                if runner is not None:
                    theirs, outcome = timed(runner)
                    same = "yes" if sorted(p.name for p in outcome) == sorted(result.winners) else "NO"
                    del runner, outcome  # (its parsed profile: millions of objects for the GC to walk)
            shown = f"{theirs[0]:12.3f} {theirs[1]:8.3f}" if theirs is not None else f"{'-':>12} {'-':>8}"
            speed = f"{theirs[1] / max(ours[1], 1e-6):8.0f}x" if theirs is not None else f"{'-':>9}"
            print(f"{path.stem[:42]:42} {rule:17} {len(election.ballots):7d} {ours[0]:9.3f} {ours[1]:7.3f} {shown} "
                  f"{speed}  {same}", flush=True)


if __name__ == "__main__":
    main()
