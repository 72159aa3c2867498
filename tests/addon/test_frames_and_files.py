"""Hostile frames, the SQLite history, the animated-WebP timelapse and the KServe v2 decoder."""

from __future__ import annotations

import io
import json
from pathlib import Path
import random
import sqlite3

import numpy as np
from PIL import Image
import pytest

from ml_addon.printfarm_addon.capture import MAX_PIXELS, WORK_WIDTH, decode_frame, to_jpeg
from ml_addon.printfarm_addon.ha import CameraError
from ml_addon.printfarm_addon.history import History, restore_if_missing
from ml_addon.printfarm_addon.inference.backends import InferenceError, KServeBackend
from ml_addon.printfarm_addon.timelapse import Timelapse
from ml_addon.printfarm_addon.webp import AnimatedWebP

from .conftest import FRAMES


def jpeg(size: tuple[int, int], colour: tuple[int, int, int] = (90, 120, 150)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


# ---------------------------------------------------------------- frames


def test_a_real_frame_decodes_and_large_ones_are_scaled_down() -> None:
    image = decode_frame((FRAMES / "normal" / "normal_1.jpg").read_bytes())
    assert image.mode == "RGB"
    big = decode_frame(jpeg((3840, 2160)))
    assert big.width == WORK_WIDTH
    assert big.height == WORK_WIDTH * 2160 // 3840
    png = io.BytesIO()
    Image.new("RGB", (64, 48)).save(png, "PNG")
    assert decode_frame(png.getvalue()).size == (64, 48)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "an HTML page"),
        (b'{"message": "camera offline"}', "JSON"),
        (b"", "nothing"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "corrupt JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "corrupt PNG"),
    ],
)
def test_garbage_is_a_camera_error_not_a_frame(data: bytes, message: str) -> None:
    with pytest.raises(CameraError, match=message):
        decode_frame(data)


def test_decompression_bombs_are_refused_before_decoding() -> None:
    # A PNG header claiming a huge canvas: refused from the header, nothing is decoded.
    side = int(MAX_PIXELS**0.5) + 10
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    with pytest.raises(CameraError, match="too large"):
        decode_frame(out.getvalue())


def test_random_bytes_never_crash_the_decoder() -> None:
    rng = random.Random(7)
    good = (FRAMES / "failure" / "failure_1.jpg").read_bytes()
    for _ in range(200):
        data = bytearray(good[: rng.randint(0, len(good))])
        for _flip in range(rng.randint(0, 20)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            image = decode_frame(bytes(data))
        except CameraError:
            continue
        assert image.mode == "RGB"


# --------------------------------------------------------------- history


def test_history_is_bounded_and_keeps_feedback(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db", max_image_bytes=50_000, max_detections=5)
    ids = [
        history.add_detection(
            printer="p1",
            print_id="x",
            time=float(i),
            level="failure",
            score=0.9,
            smoothed=0.95,
            action="pause",
            image=b"i" * 6000,
            frame=b"f" * 6000,
        )
        for i in range(8)
    ]
    kept = [r.id for r in history.detections("p1", 50)]
    assert len(kept) <= 5
    assert kept[0] == ids[-1]  # newest first, oldest pruned
    history.set_feedback(ids[-1], "false_alarm", 1.0)
    record = history.detection(ids[-1])
    assert record is not None
    assert record.feedback == "false_alarm"
    assert history.blob(ids[-1], "frame") == b"f" * 6000
    mode = sqlite3.connect(tmp_path / "h.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    history.close()


def test_history_backup_is_restored_when_the_live_file_is_gone(tmp_path: Path) -> None:
    live, copy = tmp_path / "history.db", tmp_path / "backup" / "history.db"
    history = History(live)
    history.save_settings("p1", False, 1.5)
    history.save_reference("p1", {"frames": 3, "level": 1.0, "variance": 0.2})
    history.backup(copy)
    history.close()
    live.unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"history.db{suffix}").unlink(missing_ok=True)
    assert restore_if_missing(live, copy)
    again = History(live)
    assert again.settings() == {"p1": (False, 1.5)}
    assert again.references()["p1"]["frames"] == 3
    assert not restore_if_missing(live, copy)
    again.close()


def test_series_are_thinned_for_the_plot(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db")
    history.start_print("x", "p1", 0.0, "benchy")
    for i in range(100):
        history.add_point("p1", "x", float(i), 0.1, 0.1, "ok")
    assert len(history.series("x", limit=30)) <= 30
    assert history.series("x")[0]["time"] == 0.0
    history.close()


# ------------------------------------------------------------- timelapse


def test_animated_webp_is_written_frame_by_frame(tmp_path: Path) -> None:
    path = tmp_path / "t.webp"
    with AnimatedWebP(path, (160, 90), frame_ms=80) as movie:
        for shade in range(0, 250, 50):
            movie.add(Image.new("RGB", (320, 180), (shade, 255 - shade, 100)))
    with Image.open(path) as read:
        assert read.format == "WEBP"
        assert read.is_animated
        assert read.n_frames == 5
        assert read.size == (160, 90)
        read.seek(4)
        assert read.convert("RGB").getpixel((80, 45))[0] > 150


def test_timelapse_is_bounded_marked_and_retained(tmp_path: Path) -> None:
    lapse = Timelapse(tmp_path / "work", tmp_path / "media", keep=2, max_frames=8)
    frame = Image.open(FRAMES / "normal" / "normal_1.jpg").convert("RGB")
    for print_no in range(3):
        print_id = f"print{print_no}"
        for i in range(40):
            lapse.add(print_id, frame, "failure" if i == 39 else "ok")
            assert len(list((tmp_path / "work").rglob("*.jpg"))) <= 8
        path = lapse.finish(print_id, "Voron 2.4", f"job {print_no}")
        assert path is not None
        assert path.parent == tmp_path / "media" / "printfarm" / "timelapse" / "voron-2-4"
        with Image.open(path) as movie:
            assert movie.n_frames <= 8
    assert len(list((tmp_path / "media").rglob("*.webp"))) == 2  # the newest two kept
    assert not list((tmp_path / "work").iterdir())
    assert Timelapse(tmp_path / "w2", None, keep=3).finish("x", "p", None) is None


# ----------------------------------------------------- KServe v2 answers


class _Offline(KServeBackend):
    """The v2 decoder without a server (metadata given)."""

    def __init__(self) -> None:
        self.binary = False


def test_v2_answers_decode_json_and_binary() -> None:
    backend = _Offline()
    answer = {
        "outputs": [{"name": "score", "shape": [1, 2], "datatype": "FP32", "data": [0.25, 0.75]}]
    }
    out = backend._decode(json.dumps(answer).encode(), None, ["score"])
    np.testing.assert_allclose(out["score"], [[0.25, 0.75]])
    blob = np.asarray([1.5, 2.5], dtype=np.float32).tobytes()
    header = json.dumps(
        {
            "outputs": [
                {
                    "name": "x",
                    "shape": [2],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 8},
                }
            ]
        }
    ).encode()
    out = backend._decode(header + blob, str(len(header)), ["x"])
    np.testing.assert_allclose(out["x"], [1.5, 2.5])


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b"[]",
        b'{"outputs": 3}',
        b'{"outputs": [{"name": "score", "shape": [2], "datatype": "FP32", "data": [1]}]}',
        b'{"outputs": [{"name": "score", "shape": [-1], "datatype": "FP32", "data": []}]}',
        b'{"outputs": [{"name": "score", "shape": [1], "datatype": "STRING", "data": ["a"]}]}',
        b'{"outputs": [{"name": "other", "shape": [1], "datatype": "FP32", "data": [1]}]}',
        b'{"outputs": [{"name": "score", "shape": [4], "datatype": "FP32",'
        b' "parameters": {"binary_data_size": 16}}]}',
    ],
)
def test_malformed_v2_answers_are_inference_errors(answer: bytes) -> None:
    with pytest.raises(InferenceError):
        _Offline()._decode(answer, None, ["score"])


def test_to_jpeg_scales() -> None:
    data = to_jpeg(Image.new("RGB", (2000, 1000)), max_width=500)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (500, 250)
