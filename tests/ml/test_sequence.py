"""scripts/detect --sequence: a print replayed from frames through the add-on's decision."""

from __future__ import annotations

import io
import json
from pathlib import Path
import random
import subprocess

from PIL import Image, ImageEnhance
import pytest

from ml_addon.printfarm_detect import cli

from .conftest import FRAMES, MODEL_PATH, ROOT


def camera_frame(source: Path, rng: random.Random) -> bytes:
    """A frame as a fixed camera would send it again: a little shift, light and JPEG noise."""
    image = Image.open(source).convert("RGB")
    w, h = image.size
    dx, dy = rng.randint(0, w // 40), rng.randint(0, h // 40)
    image = image.crop((dx, dy, w - w // 40 + dx, h - h // 40 + dy))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.85, 1.15))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=rng.randint(55, 90))
    return out.getvalue()


def write_print(folder: Path, frames: list[Path], seed: int) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for index, source in enumerate(frames):
        (folder / f"frame_{index:05d}.jpg").write_bytes(camera_frame(source, rng))
    return folder


def replay(
    capsys: pytest.CaptureFixture[str], folder: Path, *extra: str
) -> tuple[int, list[dict[str, object]]]:
    status = cli.main(["--sequence", str(folder), "--json", "--model", str(MODEL_PATH), *extra])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return status, rows


def test_normal_print_never_pauses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    normal = sorted((FRAMES / "normal").glob("*.jpg"))
    folder = write_print(tmp_path / "print", [normal[i % len(normal)] for i in range(150)], seed=1)
    status, rows = replay(capsys, folder)
    assert status == 0
    assert len(rows) == 150
    for row in rows:
        assert set(row) >= {"path", "score", "level", "action"}
    assert {row["action"] for row in rows} == {None}
    assert {row["level"] for row in rows} == {"ok"}
    assert [Path(str(row["path"])).name for row in rows] == sorted(p.name for p in folder.iterdir())


def test_failure_pauses_within_the_bound_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    normal = sorted((FRAMES / "normal").glob("*.jpg"))
    failure = sorted((FRAMES / "failure").glob("*.jpg"))
    frames = [normal[i % 4] for i in range(60)] + [failure[i % 4] for i in range(30)]
    status, rows = replay(capsys, write_print(tmp_path / "print", frames, seed=2))
    assert status == 0
    pauses = [i for i, row in enumerate(rows) if row["action"] == "pause"]
    assert len(pauses) == 1
    assert 60 <= pauses[0] < 60 + 8  # 8 frames: 80 s at the default 10 s interval
    assert rows[-1]["level"] == "failure"


def test_unreadable_frames_are_skipped_never_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    normal = sorted((FRAMES / "normal").glob("*.jpg"))
    folder = write_print(tmp_path / "print", [normal[i % 4] for i in range(40)], seed=3)
    (folder / "frame_00010.jpg").write_text("<html><body>camera offline</body></html>")
    (folder / "frame_00020.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)  # cut-off JPEG
    status = cli.main(["--sequence", str(folder), "--json", "--model", str(MODEL_PATH)])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 1
    assert len(rows) == 38
    assert {row["action"] for row in rows} == {None}
    assert "frame_00010.jpg: cannot read image" in err
    assert "frame_00020.jpg: cannot read image" in err


def test_script_runs_as_users_run_it(tmp_path: Path) -> None:
    normal = sorted((FRAMES / "normal").glob("*.jpg"))
    folder = write_print(tmp_path / "print", normal * 3, seed=4)
    done = subprocess.run(
        [str(ROOT / "scripts" / "detect"), "--sequence", str(folder), "--interval", "5"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 12
    assert all(line.split("\t")[2:] == ["ok", "-"] for line in lines)


def test_sequence_takes_no_other_images(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--sequence", str(FRAMES), str(FRAMES)]) == 2
    assert "--sequence" in capsys.readouterr().err
