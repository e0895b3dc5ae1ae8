"""The novelty filter's scores equal rouge-score's rougeL F-measure exactly, and so do its decisions."""

import json
import random
import string

import pytest
from germinate_novelty.lcs_index import AnchorIndex, tokens
from rouge_score import rouge_scorer

pytestmark = pytest.mark.fast

SCORER = rouge_scorer.RougeScorer(["rougeL"])


def _texts(datasets):
    out = []
    for path in sorted(datasets.glob("*/*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            for key in ("input", "question", "answer", "context"):
                if isinstance(row.get(key), str):
                    out.append(row[key])
    return out


def _assert_identical(anchors, candidate):
    index = AnchorIndex()
    for anchor in anchors:
        index.add(tokens(anchor))
    ours = index.scores(tokens(candidate))
    for anchor, score in zip(anchors, ours):
        expected = SCORER.score(anchor, candidate)["rougeL"].fmeasure
        assert score == expected, (anchor[:80], candidate[:80], score, expected)
    return len(anchors)


def test_real_pairs_from_shared_datasets(datasets):
    texts = _texts(datasets)
    rng = random.Random(7)
    pairs = 0
    for _ in range(250):
        pairs += _assert_identical(rng.sample(texts, 12), rng.choice(texts))
    assert pairs == 3000


def _random_text(rng):
    vocab = ["the", "a", "of", "Cat", "dog", "x1", "42", "naïve", "İstanbul", "co-op", "e-mail", "ÆØÅ"]
    parts = []
    for _ in range(rng.choice([0, 1, 3, 10, 63, 64, 65, 130, 300])):
        if rng.random() < 0.15:
            parts.append("".join(rng.choice(string.punctuation + " \t\n") for _ in range(rng.randint(1, 4))))
        else:
            parts.append(rng.choice(vocab))
    return " ".join(parts)


def test_random_strings_including_empty_unicode_and_multiword_lengths():
    rng = random.Random(11)
    pairs = 0
    for _ in range(200):
        pairs += _assert_identical([_random_text(rng) for _ in range(8)], _random_text(rng))
    assert pairs == 1600


def test_stream_decisions_match_naive_loop(datasets):
    texts = _texts(datasets)
    rng = random.Random(3)
    seeds = rng.sample(texts, 20)
    stream = [rng.choice(texts) for _ in range(150)] + seeds[:5]
    index, naive_anchors = AnchorIndex(), list(seeds)
    for seed in seeds:
        index.add(tokens(seed))
    for candidate in stream:
        naive = max(SCORER.score(a, candidate)["rougeL"].fmeasure for a in naive_anchors)
        ours, _ = index.best(tokens(candidate))
        assert ours == naive
        if 0.1 <= naive <= 0.9:
            naive_anchors.append(candidate)
            index.add(tokens(candidate))
    assert len(index) == len(naive_anchors) > len(seeds)
