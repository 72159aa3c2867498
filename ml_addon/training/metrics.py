"""Validation metrics on scores (any monotone scale: logits or probabilities)."""

from __future__ import annotations

import numpy as np


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a failure scores above a normal frame (ties count half)."""
    scores = np.concatenate([pos, neg])
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size, dtype=np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < scores.size:  # average ranks of ties
        j = i
        while j + 1 < scores.size and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    rank_sum = ranks[: pos.size].sum()
    return float((rank_sum - pos.size * (pos.size + 1) / 2.0) / (pos.size * neg.size))


def threshold_for_false_alarms(neg: np.ndarray, rate: float) -> float:
    """Lowest threshold (score >= t flags) with at most ``rate`` of ``neg`` flagged."""
    ordered = np.sort(neg)[::-1]
    allowed = int(np.floor(rate * neg.size))
    if allowed >= neg.size:
        return float(ordered[-1])
    # Just above the (allowed+1)-th highest normal score.
    return float(np.nextafter(ordered[allowed], np.inf))


def recall_at_false_alarms(pos: np.ndarray, neg: np.ndarray, rate: float) -> float:
    """Share of failures flagged at the threshold that allows ``rate`` false alarms."""
    return float((pos >= threshold_for_false_alarms(neg, rate)).mean())
