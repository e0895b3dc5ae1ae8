"""Novelty filter speed: ours vs the naive rouge-score loop, same decisions.

    python bench/novelty_filter.py [--n 10000] [--naive-n 2000] [--dataset trec,banking77]

Both filters start from the same 20 seeds and grow their anchors with every acceptance
(τ_min 0.1, τ_max 0.9). The naive loop scores each candidate against every anchor with
``RougeScorer(["rougeL"])``; it runs on the first --naive-n candidates only (it is quadratic).
Prints the times, the speed-up at N = naive-n, and whether every decision and score matched.
"""

import argparse
import json
import time
from pathlib import Path

from _data import generated_like, rows
from germinate_novelty.lcs_index import AnchorIndex, tokens
from rouge_score import rouge_scorer

TAU_MIN, TAU_MAX = 0.1, 0.9


def fast(seeds, candidates):
    index = AnchorIndex()
    for seed in seeds:
        index.add(tokens(seed))
    out = []
    for text in candidates:
        toks = tokens(text)
        score, _ = index.best(toks)
        keep = TAU_MIN <= score <= TAU_MAX
        if keep:
            index.add(toks)
        out.append((keep, score))
    return out


def naive(seeds, candidates):
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    anchors = list(seeds)
    out = []
    for text in candidates:
        score = max(scorer.score(anchor, text)["rougeL"].fmeasure for anchor in anchors)
        keep = TAU_MIN <= score <= TAU_MAX
        if keep:
            anchors.append(text)
        out.append((keep, score))
    return out


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--naive-n", type=int, default=2_000)
    parser.add_argument("--dataset", default="trec,banking77")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "novelty_filter.json")
    args = parser.parse_args()
    names = args.dataset.split(",")
    seeds = [r["input"] for r in rows(names[0], "seeds")][:20]
    candidates = generated_like(names, args.n)

    t_full, full = timed(fast, seeds, candidates)
    t_fast_small, fast_small = timed(fast, seeds, candidates[: args.naive_n])
    t_naive, slow = timed(naive, seeds, candidates[: args.naive_n])
    identical = fast_small == slow and full[: args.naive_n] == slow
    result = {
        "dataset": names,
        "candidates": args.n,
        "accepted": sum(k for k, _ in full),
        "fast_seconds_all": round(t_full, 3),
        "naive_n": args.naive_n,
        "naive_seconds": round(t_naive, 3),
        "fast_seconds_at_naive_n": round(t_fast_small, 3),
        "speedup_at_naive_n": round(t_naive / t_fast_small, 1),
        "decisions_and_scores_identical": identical,
    }
    print(f"novelty filter, {args.n} candidates ({'+'.join(names)}), 20 seeds, growing anchors")
    print(f"  ours:  {t_full:8.2f} s for {args.n}  ({result['accepted']} accepted)")
    print(f"  naive: {t_naive:8.2f} s for {args.naive_n}; ours {t_fast_small:.2f} s for the same {args.naive_n}")
    print(
        f"  speed-up at N={args.naive_n}: {result['speedup_at_naive_n']}x; decisions and scores identical: {identical}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
