"""Exact ROUGE-L F against a growing set of anchors, fast.

The naive filter scores every candidate against every anchor with ``rouge_score`` (a Python DP
table per pair): quadratic, about two hours for 10,000 candidates. Here each anchor is a
bit-vector sequence (Hyyrö's bit-parallel LCS: one add, and, or per token instead of a DP row),
and an inverted index maps each token to the anchors containing it with their match masks. A
candidate token only updates the anchors that contain it; for all others the LCS state is
unchanged. LCS lengths are exact integers, and F is computed with rouge-score's own formula in
IEEE float64, so scores are bit-identical to ``RougeScorer(["rougeL"])`` on any hardware.
"""

from __future__ import annotations

import numpy as np
from rouge_score.tokenize import tokenize as _rouge_tokenize

WORD = 64
ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def tokens(text: str) -> list[str]:
    """rouge-score's default tokenisation (lower-case, ASCII alphanumerics, no stemming)."""
    return _rouge_tokenize(text, None)


def _words(mask: int, width: int) -> list[int]:
    return [(mask >> (WORD * w)) & 0xFFFFFFFFFFFFFFFF for w in range(width)]


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Multi-word unsigned addition of (rows, words) arrays, carries rippling upward."""
    out = a + b
    carry = out < a
    for w in range(1, a.shape[1]):
        summed = out[:, w] + carry[:, w - 1].astype(np.uint64)
        carry[:, w] |= summed < out[:, w]
        out[:, w] = summed
    return out


class _Postings:
    """For one token: the anchors of a bucket containing it, and the token's position mask (and
    its complement) in each."""

    __slots__ = ("inverse", "masks", "rows", "size")

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.rows = np.empty(8, dtype=np.int64)
        self.masks = np.zeros((8,) + shape, dtype=np.uint64)
        self.inverse = np.zeros((8,) + shape, dtype=np.uint64)
        self.size = 0

    def append(self, row: int, words: list[int]) -> None:
        if self.size == len(self.rows):
            self.rows = np.resize(self.rows, 2 * self.size)
            self.masks = np.concatenate([self.masks, np.zeros_like(self.masks)])
            self.inverse = np.concatenate([self.inverse, np.zeros_like(self.inverse)])
        self.rows[self.size] = row
        self.masks[self.size] = words if len(words) > 1 else words[0]
        self.inverse[self.size] = ~self.masks[self.size]
        self.size += 1


class _Bucket:
    """Anchors whose bit-vectors need ``width`` 64-bit words. Keeping widths apart means one long
    anchor never slows the comparisons with all the short ones."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.shape: tuple[int, ...] = () if width == 1 else (width,)
        self.ids = np.empty(16, dtype=np.int64)  # global anchor index of each row
        self.lengths = np.zeros(16, dtype=np.int64)
        self.low = np.zeros((16,) + self.shape, dtype=np.uint64)
        self.count = 0
        self.postings: dict[str, _Postings] = {}

    def add(self, toks: list[str], anchor: int) -> None:
        if self.count == len(self.ids):
            self.ids = np.resize(self.ids, 2 * self.count)
            self.lengths = np.resize(self.lengths, 2 * self.count)
            self.low = np.concatenate([self.low, np.zeros_like(self.low)])
        row = self.count
        masks: dict[str, int] = {}
        for position, token in enumerate(toks):
            masks[token] = masks.get(token, 0) | (1 << position)
        for token, mask in masks.items():
            postings = self.postings.get(token)
            if postings is None:
                postings = self.postings[token] = _Postings(self.shape)
            postings.append(row, _words(mask, self.width))
        self.ids[row] = anchor
        self.lengths[row] = len(toks)
        low = _words((1 << len(toks)) - 1, self.width)
        self.low[row] = low if self.width > 1 else low[0]
        self.count += 1

    def lcs(self, toks: list[str]) -> np.ndarray:
        """LCS length of ``toks`` with every anchor of the bucket (Hyyrö: V' = (V + (V & M)) | (V & ~M))."""
        n = self.count
        state = np.full((n,) + self.shape, ONES, dtype=np.uint64)
        wide = self.width > 1
        for token in toks:
            postings = self.postings.get(token)
            if postings is None:
                continue  # no anchor here has this token: no state changes
            size = postings.size
            rows = postings.rows[:size]
            v = state[rows]
            u = v & postings.masks[:size]
            state[rows] = (_add(v, u) if wide else v + u) | (v & postings.inverse[:size])
        unmatched = np.bitwise_count(state & self.low[:n])
        if wide:
            unmatched = unmatched.sum(axis=1, dtype=np.int64)
        return self.lengths[:n] - unmatched


class AnchorIndex:
    """Anchors (seeds, then every accepted example) and exact max ROUGE-L F against them."""

    def __init__(self) -> None:
        self.count = 0
        self.lengths = np.zeros(16, dtype=np.float64)
        self.buckets: dict[int, _Bucket] = {}

    def __len__(self) -> int:
        return self.count

    def add(self, toks: list[str]) -> int:
        """Add an anchor; returns its index."""
        width = 1 << max(0, (-(-len(toks) // WORD) - 1).bit_length())  # 1, 2, 4, 8... words
        bucket = self.buckets.get(width)
        if bucket is None:
            bucket = self.buckets[width] = _Bucket(width)
        bucket.add(toks, self.count)
        if self.count == len(self.lengths):
            self.lengths = np.resize(self.lengths, 2 * self.count)
        self.lengths[self.count] = len(toks)
        self.count += 1
        return self.count - 1

    def lcs(self, toks: list[str]) -> np.ndarray:
        """LCS length of ``toks`` with every anchor, in anchor order."""
        out = np.zeros(self.count, dtype=np.int64)
        for bucket in self.buckets.values():
            out[bucket.ids[: bucket.count]] = bucket.lcs(toks)
        return out

    def scores(self, toks: list[str]) -> np.ndarray:
        """ROUGE-L F of ``toks`` (the prediction) against every anchor (the targets), computed
        exactly as rouge_score does: P = lcs/len(pred), R = lcs/len(target), F = 2PR/(P+R)."""
        n = self.count
        if not toks or n == 0:
            return np.zeros(n)
        lcs = self.lcs(toks).astype(np.float64)
        lengths = self.lengths[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = lcs / len(toks)
            recall = np.where(lengths > 0, lcs / lengths, 0.0)
            total = precision + recall
            f = np.where(total > 0, 2 * precision * recall / total, 0.0)
        return f

    def best(self, toks: list[str]) -> tuple[float, int | None]:
        """The highest F and the first anchor reaching it (None when there are no anchors)."""
        f = self.scores(toks)
        if len(f) == 0:
            return 0.0, None
        at = int(np.argmax(f))
        return float(f[at]), at
