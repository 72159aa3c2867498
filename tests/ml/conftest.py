"""Fixtures for the failure-detector runtime tests (shipped model and demo frames only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_addon.printfarm_detect.model import FailureModel

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT / "simulator" / "frames"
MODEL_PATH = ROOT / "ml_addon" / "models" / "default.onnx"


@pytest.fixture(scope="session")
def model() -> FailureModel:
    """The shipped default model, loaded once."""
    return FailureModel(MODEL_PATH)


@pytest.fixture
def normal_frames() -> list[Path]:
    return sorted((FRAMES / "normal").glob("*.jpg"))


@pytest.fixture
def failure_frames() -> list[Path]:
    return sorted((FRAMES / "failure").glob("*.jpg"))
