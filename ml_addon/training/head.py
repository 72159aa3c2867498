"""The region head: an MLP applied to every cell of the backbone's last map.

Each of the GRID x GRID cells gets a failure logit; the frame's logit is the largest.
Training uses the cell labels where they are known (failure boxes, normal frames) and
the frame label where only that is known (multiple-instance learning on the maximum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

HIDDEN = 128
TAIL_LR = 1e-4  # learning rate of a fine-tuned backbone tail (the head's is 1e-3)


class CellHead(nn.Module):
    """Standardise, Linear(D, HIDDEN), ReLU, dropout, Linear(HIDDEN, 1) on each cell."""

    def __init__(
        self, mean: np.ndarray, std: np.ndarray, dropout: float = 0.2, centre: float = 0.0
    ) -> None:
        super().__init__()
        self.centre = centre  # share of the frame's mean cell taken out of every cell
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.first = nn.Linear(mean.size, HIDDEN)
        self.second = nn.Linear(HIDDEN, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cells: N x C x D -> cell logits N x C, hidden N x C x HIDDEN."""
        if self.centre:
            cells = cells - self.centre * cells.mean(dim=1, keepdim=True)
        hidden = torch.relu(self.first(self.drop((cells - self.mean) / self.std)))
        return self.second(self.drop(hidden))[..., 0], hidden


class Tuned(nn.Module):
    """A fine-tuned backbone tail followed by the region head (same outputs as the head).

    The tail maps its input (the backbone's earlier map) to N x C x D cells; its batch
    norms keep the ImageNet statistics (they are never put in training mode).
    """

    def __init__(self, tail: nn.Module, head: CellHead) -> None:
        super().__init__()
        self.tail = tail
        self.head = head

    def train(self, mode: bool = True) -> Tuned:
        super().train(mode)
        for module in self.tail.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.tail(x))


@dataclass
class Head:
    """The fitted head as plain arrays, with the standardisation folded into layer one."""

    w1: np.ndarray  # HIDDEN x D
    b1: np.ndarray  # HIDDEN
    w2: np.ndarray  # HIDDEN
    b2: float

    @classmethod
    def from_module(cls, module: CellHead | Tuned) -> Head:
        if isinstance(module, Tuned):
            module = module.head
        std = module.std.numpy().astype(np.float64)
        mean = module.mean.numpy().astype(np.float64)
        w1 = module.first.weight.detach().numpy().astype(np.float64) / std[None, :]
        b1 = module.first.bias.detach().numpy().astype(np.float64) - w1 @ mean
        return cls(
            w1=w1.astype(np.float32),
            b1=b1.astype(np.float32),
            w2=module.second.weight.detach().numpy()[0].astype(np.float32),
            b2=float(module.second.bias.detach().numpy()[0]),
        )

    def hidden(self, cells: np.ndarray) -> np.ndarray:
        """N x C x D cells -> N x C x HIDDEN."""
        x = cells.astype(np.float32) @ self.w1.T + self.b1
        return np.maximum(x, 0.0)

    def cell_logits(self, cells: np.ndarray) -> np.ndarray:
        return self.hidden(cells) @ self.w2 + self.b2

    def calibrate(self, scale: float, shift: float) -> None:
        """Fold ``logit * scale + shift`` into the output layer (max commutes with it)."""
        self.w2 = (self.w2 * scale).astype(np.float32)
        self.b2 = self.b2 * scale + shift


def view_weights(groups: np.ndarray, shares: dict[int, float]) -> np.ndarray:
    """Each group of views weighs ``shares[group]`` in total (views of a group alike)."""
    out = np.zeros(groups.size)
    for group, share in shares.items():
        members = groups == group
        if members.any():
            out[members] = share / members.sum()
    return out / out[out > 0].mean()


def fit(
    features: Any,
    cells: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    rows: np.ndarray,
    *,
    seed: int,
    epochs: int,
    weight_decay: float,
    log: Any = None,
    centre: float = 0.0,
    tail: nn.Module | None = None,
) -> CellHead | Tuned:
    """Train on views ``rows``; ``features(idx)`` gives their cells (N x C x D tensor).

    With ``tail``, ``features(idx)`` gives the tail's input instead, and the tail (a copy
    of the backbone's last layers) is trained with the head at a tenth of its rate.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        sample = rows[
            np.random.default_rng(seed).choice(rows.size, min(rows.size, 600), replace=False)
        ]
        probe_cells = features(np.sort(sample))
        if tail is not None:
            tail.eval()
            probe_cells = tail(probe_cells)
        if centre:
            probe_cells = probe_cells - centre * probe_cells.mean(dim=1, keepdim=True)
        probe = probe_cells.reshape(-1, probe_cells.shape[-1]).numpy()
    cell_head = CellHead(probe.mean(axis=0), probe.std(axis=0) + 1e-3, centre=centre)
    head: CellHead | Tuned = cell_head if tail is None else Tuned(tail, cell_head)
    params = [{"params": cell_head.parameters(), "lr": 1e-3}]
    if tail is not None:
        for parameter in tail.parameters():
            parameter.requires_grad_(requires_grad=True)
        params.append({"params": tail.parameters(), "lr": TAIL_LR})
    optimiser = torch.optim.AdamW(params, weight_decay=weight_decay)
    total_steps = epochs * int(np.ceil(rows.size / 128))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[g["lr"] for g in params], total_steps=total_steps, pct_start=0.15
    )
    cell_t = torch.tensor(cells, dtype=torch.float32)
    label_t = torch.tensor(labels, dtype=torch.float32)
    weight_t = torch.tensor(weights, dtype=torch.float32)
    bce = nn.functional.binary_cross_entropy_with_logits
    for epoch in range(epochs):
        head.train()
        order = rows[torch.randperm(rows.size, generator=generator).numpy()]
        running = 0.0
        for start in range(0, order.size, 128):
            idx = np.sort(order[start : start + 128])
            x = features(idx)
            z, _ = head(x)
            c, y, w = cell_t[idx], label_t[idx], weight_t[idx]
            known = (c >= 0).float()
            per_view = (bce(z, c.clamp(min=0), reduction="none") * known).sum(1) / known.sum(
                1
            ).clamp(min=1)
            cell_loss = (per_view * w * (known.sum(1) > 0).float()).mean()
            has = (y >= 0).float()
            frame_loss = (
                bce(z.max(dim=1).values, y.clamp(min=0), reduction="none") * w * has
            ).mean()
            loss = cell_loss + frame_loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            running += float(loss.detach()) * idx.size
        if log is not None:
            log(f"  epoch {epoch + 1}/{epochs}: loss {running / rows.size:.4f}")
    head.eval()
    return head


def frame_logits(
    head: CellHead | Tuned, features: Any, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max cell logit, cell logits and hidden of views ``rows`` (numpy)."""
    out_z, out_h = [], []
    with torch.inference_mode():
        for start in range(0, rows.size, 256):
            z, h = head(features(rows[start : start + 256]))
            out_z.append(z.numpy())
            out_h.append(h.numpy())
    z = np.concatenate(out_z) if out_z else np.zeros((0, 49))
    h = np.concatenate(out_h) if out_h else np.zeros((0, 49, HIDDEN))
    return z.max(axis=1), z, h
