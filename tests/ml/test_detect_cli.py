"""scripts/detect and its Python entry point on the shipped demo frames."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess

import pytest

from ml_addon.printfarm_detect import cli
from ml_addon.printfarm_detect.model import FailureModel

from .conftest import FRAMES, MODEL_PATH, ROOT


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_json_output_for_a_folder(capsys: pytest.CaptureFixture[str], model: FailureModel) -> None:
    assert cli.main([str(FRAMES), "--json", "--model", str(MODEL_PATH)]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert len(rows) == 8
    for row in rows:
        assert set(row) >= {"path", "score", "failure"}
        score = row["score"]
        assert isinstance(score, float)
        assert 0.0 <= score <= 1.0
        assert row["failure"] == (score >= model.threshold)
    by_kind: dict[str, list[dict[str, object]]] = {"failure": [], "normal": []}
    for r in rows:
        by_kind[Path(str(r["path"])).parent.name].append(r)
    # The shipped model must get its own demo frames right.
    assert all(r["failure"] for r in by_kind["failure"])
    assert not any(r["failure"] for r in by_kind["normal"])


def test_plain_output_one_tab_separated_line_per_image(
    capsys: pytest.CaptureFixture[str], failure_frames: list[Path]
) -> None:
    assert cli.main([str(p) for p in failure_frames[:2]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, failure_frames[:2], strict=True):
        name, score, failure = line.split("\t")
        assert name == str(path)
        assert 0.0 <= float(score) <= 1.0
        assert failure in {"True", "False"}


def test_threshold_option_overrides_the_model_default(
    capsys: pytest.CaptureFixture[str], normal_frames: list[Path]
) -> None:
    assert cli.main([str(normal_frames[0]), "--json", "--threshold", "0.000001"]) == 0
    (row,) = _json_lines(capsys.readouterr().out)
    assert row["failure"] is True
    assert cli.main([str(normal_frames[0]), "--threshold", "2"]) == 2


def test_unreadable_file_is_reported_and_others_still_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], normal_frames: list[Path]
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    assert cli.main([str(broken), str(normal_frames[0]), "--json"]) == 1
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err
    assert len(_json_lines(captured.out)) == 1


def test_scripts_detect_runs_end_to_end(failure_frames: list[Path]) -> None:
    done = subprocess.run(
        [str(ROOT / "scripts" / "detect"), str(failure_frames[0]), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (row,) = _json_lines(done.stdout)
    assert row["path"] == str(failure_frames[0])
    assert row["failure"] is True
