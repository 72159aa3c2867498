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
    # The shipped model gets its own demo frames right (spaghetti on a printer's bed).
    failure_scores = [float(str(r["score"])) for r in by_kind["failure"]]
    normal_scores = [float(str(r["score"])) for r in by_kind["normal"]]
    assert min(failure_scores) > max(normal_scores)
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
        [str(ROOT / "scripts" / "detect"), str(failure_frames[-1]), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (row,) = _json_lines(done.stdout)
    assert row["path"] == str(failure_frames[-1])
    assert row["failure"] is True


def _flagged(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, bool]:
    """Run the CLI with JSON output; path name -> failure."""
    assert cli.main([*args, "--json"]) == 0
    return {
        Path(str(r["path"])).name: bool(r["failure"]) for r in _json_lines(capsys.readouterr().out)
    }


def test_camera_marks_clear_its_false_alarms_until_reset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user's sensitive camera: the normal demo frames flagged, marked, cleared, reset."""
    camera = ["--camera", "garage", "--data", str(tmp_path), "--threshold", "0.05"]
    before = _flagged(capsys, str(FRAMES), *camera)
    false_alarms = {n for n, flagged in before.items() if flagged and n.startswith("normal")}
    assert false_alarms, "the low threshold must flag some normal frames"

    _flagged(capsys, str(FRAMES / "normal"), *camera, "--mark", "false_alarm")
    assert (tmp_path / "adaptation").is_dir()
    after = _flagged(capsys, str(FRAMES), *camera)
    assert not any(after[n] for n in false_alarms)
    assert all(flag for n, flag in after.items() if n.startswith("failure"))

    assert cli.main(["--camera", "garage", "--data", str(tmp_path), "--reset"]) == 0
    assert _flagged(capsys, str(FRAMES), *camera) == before


def test_camera_results_report_the_base_score_and_the_camera(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], normal_frames: list[Path]
) -> None:
    assert (
        cli.main([str(normal_frames[0]), "--camera", "c1", "--data", str(tmp_path), "--json"]) == 0
    )
    (row,) = _json_lines(capsys.readouterr().out)
    assert row["camera"] == "c1"
    assert row["base_score"] == row["score"]  # no marks yet: nothing changed


@pytest.mark.parametrize(
    "args",
    [
        ["x.jpg", "--mark", "false_alarm"],  # marks belong to a camera
        ["--reset"],
        ["--camera", "c1"],  # nothing to score
        ["--camera", "c1", "--reset", "--mark", "false_alarm"],  # nothing to mark
    ],
)
def test_mark_and_reset_usage_errors(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*args, "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip()
    assert not (tmp_path / "adaptation").exists()


def test_a_mark_that_cannot_be_stored_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], normal_frames: list[Path]
) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data folder should be")
    args = [str(normal_frames[0]), "--camera", "c1", "--data", str(not_a_folder)]
    assert cli.main([*args, "--mark", "false_alarm"]) == 1
    captured = capsys.readouterr()
    assert "cannot store the mark" in captured.err
    assert len(captured.out.splitlines()) == 1  # the frame is still scored
