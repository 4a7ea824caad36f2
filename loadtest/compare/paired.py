#!/usr/bin/env python3
"""Paired, per-round comparison of one compare.py run (its WORK/results.json).

compare.py interleaves the peers, so within a round every peer ran within seconds of
h2ring on the same noisy machine. Comparing medians of whole columns throws that pairing
away; this prints, per (profile, tool, metric, peer), h2ring's per-round advantage (the
peer's latency over h2ring's, or h2ring's rate over the peer's: above 1 is h2ring ahead),
how many rounds h2ring won, the median advantage and a 95% bootstrap interval for it. An
interval that contains 1 is a tie at this machine's resolution.

    python3 loadtest/compare/paired.py /tmp/h2ring-compare [--profile latency] [--all]

Several work directories pool their rounds (a round pairs runs of the same directory):

    python3 loadtest/compare/paired.py /tmp/run1 /tmp/run2 --profile latency
"""

import argparse
import json
import os
import random
import statistics

# metric -> True when lower is better
LOWER_BETTER = {"rps": False, "mean_us": True, "p50_us": True, "p99_us": True,
                "req_per_server_cpu_s": False}
# What the docs table shows per profile (every metric with --all).
KEY_METRICS = {
    "small": ["rps", "req_per_server_cpu_s"],
    "latency": ["rps", "mean_us", "p99_us"],
    "1m": ["rps", "req_per_server_cpu_s"],
}
BOOTSTRAP = 10_000


def bootstrap_median(values, rng):
    n = len(values)
    meds = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(BOOTSTRAP))
    return meds[int(0.025 * BOOTSTRAP)], meds[int(0.975 * BOOTSTRAP) - 1]


def paired_rows(results, profile=None, every_metric=False):
    """results: {(profile, peer, tool): [run dicts with "round"]} as compare.py keeps them.
    Yields (profile, tool, metric, peer, wins, rounds, median, ci_low, ci_high)."""
    by_key = {k: {run["round"]: run for run in runs} for k, runs in results.items()}
    for prof in sorted({k[0] for k in by_key if profile in (None, k[0])}):
        metrics = list(LOWER_BETTER) if every_metric else KEY_METRICS.get(prof, ["rps"])
        for tool in ("h2load", "h2ring-loadtest"):
            ours = by_key.get((prof, "h2ring", tool))
            if not ours:
                continue
            for metric in metrics:
                lower_better = LOWER_BETTER[metric]
                for (p, peer, t), theirs in sorted(by_key.items()):
                    if (p, t) != (prof, tool) or peer == "h2ring":
                        continue
                    adv = []
                    for n, run in ours.items():
                        a, b = run.get(metric), theirs.get(n, {}).get(metric)
                        if a and b:
                            adv.append(b / a if lower_better else a / b)
                    if not adv:
                        continue
                    wins = sum(1 for x in adv if x > 1)
                    # Seeded per row: the same results give the same interval.
                    rng = random.Random(f"{prof}/{tool}/{metric}/{peer}")
                    lo, hi = bootstrap_median(adv, rng)
                    yield (prof, tool, metric, peer, wins, len(adv),
                           statistics.median(adv), lo, hi)


def table(rows):
    out = ["| profile | tool | metric | peer | h2ring ahead in | h2ring's advantage (median) "
           "| 95% interval |", "| --- | --- | --- | --- | ---: | ---: | --- |"]
    for prof, tool, metric, peer, wins, n, med, lo, hi in rows:
        out.append(f"| {prof} | {tool} | {metric} | {peer} | {wins}/{n} | {med:.3f}× "
                   f"| {lo:.3f}–{hi:.3f} |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", nargs="+", help="compare.py work directories (pooled)")
    ap.add_argument("--profile")
    ap.add_argument("--all", action="store_true", help="every metric, not the key ones")
    args = ap.parse_args()
    results = {}
    for work in args.work:
        with open(os.path.join(work, "results.json")) as f:
            for r in json.load(f):
                runs = results.setdefault((r["profile"], r["peer"], r["tool"]), [])
                # Rounds pair only within their own run.
                runs += [dict(run, round=(work, run["round"])) for run in r["runs"]]
    print("\n".join(table(paired_rows(results, args.profile, args.all))))


if __name__ == "__main__":
    main()
