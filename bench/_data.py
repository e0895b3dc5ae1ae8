"""Benchmark inputs built from the shared datasets (never copied into the repo)."""

import json
import os
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("GERMINATE_DATASETS", REPO.parent / "shared" / "datasets"))


def rows(name: str, split: str) -> list[dict]:
    return [json.loads(line) for line in (DATASETS / name / f"{split}.jsonl").read_text().splitlines()]


def generated_like(names: list[str], n: int, seed: int = 0) -> list[str]:
    """Texts shaped like a teacher's output: real task inputs with a few words dropped, inserted
    or replaced, so some are near-copies and most are new."""
    texts = [r["input"] for name in names for split in ("test", "seeds") for r in rows(name, split)]
    vocab = [w for t in texts for w in t.split()]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = rng.choice(texts).split()
        for _ in range(rng.randint(0, 4)):
            op = rng.random()
            if op < 0.4 and len(words) > 2:
                words.pop(rng.randrange(len(words)))
            elif op < 0.8:
                words.insert(rng.randrange(len(words) + 1), rng.choice(vocab))
            else:
                words[rng.randrange(len(words))] = rng.choice(vocab)
        out.append(" ".join(words))
    return out
