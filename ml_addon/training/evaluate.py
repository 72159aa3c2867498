"""Validation by camera: folds that leave whole cameras out, per-camera rates with intervals."""

from __future__ import annotations

import math
from typing import Any

from data import Frame, Sample, assign_groups
from metrics import auroc, recall_at_false_alarms
import numpy as np


def merge_web_copies(frames: list[Frame]) -> None:
    """Web photos that are near-copies of each other become one 'camera' (one fold)."""
    web = [i for i, f in enumerate(frames) if f.kind == "web"]
    samples = [
        Sample(frames[i].path, frames[i].label, frames[i].dataset, frames[i].camera) for i in web
    ]
    if samples:
        assign_groups(samples)
        for i, s in zip(web, samples, strict=True):
            frames[i].camera = f"{frames[i].dataset}/group-{s.group}"


def camera_folds(frames: list[Frame], folds: int, seed: int) -> np.ndarray:
    """Fold of every frame (-1: evaluation-only). Real cameras are spread evenly over the
    folds (the big one-camera set alone in one), web-photo groups at random."""
    rng = np.random.default_rng(seed)
    cameras = sorted({f.camera for f in frames if f.trainable and f.kind == "camera"})
    sizes = {c: sum(1 for f in frames if f.camera == c) for c in cameras}
    cameras.sort(key=lambda c: (-sizes[c], c))
    fold_of: dict[str, int] = {}
    load = np.zeros(folds)
    for c in cameras:  # the big camera first, then round-robin on the folds with fewest cameras
        counts = np.bincount([fold_of[x] for x in fold_of], minlength=folds).astype(float)
        counts[load > 100] += 1000  # the fold with the big camera gets no other
        k = int(np.argmin(counts + 1e-3 * rng.random(folds)))
        fold_of[c] = k
        load[k] += sizes[c]
    web = sorted({f.camera for f in frames if f.trainable and f.kind == "web"})
    for c in web:
        fold_of[c] = int(rng.integers(0, folds))
    return np.array([fold_of[f.camera] if f.trainable else -1 for f in frames], dtype=np.int64)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def camera_bootstrap_auroc(
    logits: np.ndarray, labels: np.ndarray, cameras: list[str], seed: int, draws: int = 1000
) -> tuple[float, float]:
    """95 % interval of the AUROC, resampling whole cameras (frames of a camera are not
    independent)."""
    rng = np.random.default_rng(seed)
    names = sorted(set(cameras))
    index = {c: np.array([i for i, x in enumerate(cameras) if x == c]) for c in names}
    values = []
    for _ in range(draws):
        pick = np.concatenate([index[names[j]] for j in rng.integers(0, len(names), len(names))])
        pos, neg = logits[pick][labels[pick] == 1], logits[pick][labels[pick] == 0]
        if pos.size and neg.size:
            values.append(auroc(pos, neg))
    return (float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975)))


def summarise(
    logits: np.ndarray, labels: np.ndarray, cameras: list[str], threshold: float, seed: int
) -> dict[str, Any]:
    """Pooled and per-camera numbers at ``threshold`` (a logit) on unseen-camera scores."""
    pos, neg = logits[labels == 1], logits[labels == 0]
    out: dict[str, Any] = {"failures": int(pos.size), "normal": int(neg.size)}
    flagged = int((neg >= threshold).sum())
    caught = int((pos >= threshold).sum())
    out["false_alarms"] = flagged
    out["false_alarm_rate"] = flagged / neg.size if neg.size else None
    out["false_alarm_interval"] = wilson(flagged, neg.size)
    out["detected"] = caught
    out["recall"] = caught / pos.size if pos.size else None
    out["recall_interval"] = wilson(caught, pos.size)
    if pos.size and neg.size:
        out["auroc"] = auroc(pos, neg)
        if len(set(cameras)) > 2:
            out["auroc_interval"] = camera_bootstrap_auroc(logits, labels, cameras, seed)
        for rate in (0.01, 0.02, 0.05):
            out[f"recall_at_{round(rate * 100)}pct_false_alarms"] = recall_at_false_alarms(
                pos, neg, rate
            )
    per_camera = {}
    for camera in sorted(set(cameras)):
        sel = np.array([c == camera for c in cameras])
        n_neg = int((sel & (labels == 0)).sum())
        n_pos = int((sel & (labels == 1)).sum())
        fa = int((sel & (labels == 0) & (logits >= threshold)).sum())
        tp = int((sel & (labels == 1) & (logits >= threshold)).sum())
        per_camera[camera] = {
            "normal": n_neg,
            "false_alarms": fa,
            "false_alarm_interval": wilson(fa, n_neg) if n_neg else None,
            "failures": n_pos,
            "detected": tp,
            "recall_interval": wilson(tp, n_pos) if n_pos else None,
            "max_normal_logit": float(logits[sel & (labels == 0)].max()) if n_neg else None,
        }
    out["per_camera"] = per_camera
    rates = [v["false_alarms"] / v["normal"] for v in per_camera.values() if v["normal"]]
    out["worst_camera_false_alarm_rate"] = max(rates) if rates else None
    out["cameras_over_5pct"] = sum(1 for r in rates if r > 0.05)
    return out
