"""The add-on's remote backend against a real Open Inference Protocol server (KServe, PyPI).

KServe's own model server runs on loopback from .interop/kserve (scripts/interop/kserve.sh)
and serves ONNX files; the add-on's ``KServeBackend`` and its model formats talk to it
exactly as they would to Triton or Seldon MLServer on another machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import socket
import subprocess
import time
import urllib.error
import urllib.request

from PIL import Image
import pytest
import pytest_socket

from ml_addon.printfarm_addon.inference import (
    InferenceError,
    KServeBackend,
    ModelChoice,
    load_adapter,
)
from ml_addon.printfarm_addon.inference.formats import ObicoAdapter, PrintfarmAdapter, YoloAdapter
from tests.addon.onnx_models import obico_model, yolo_model

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".interop" / "kserve"
DEFAULT_MODEL = ROOT / "ml_addon" / "models" / "default.onnx"
FRAMES = ROOT / "simulator" / "frames"
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One KServe process serving one ONNX model on loopback."""

    def __init__(self, model: Path, name: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [
                str(VENV / "bin" / "python"),
                str(ROOT / "tests" / "interop" / "kserve_server.py"),
                str(model),
                name,
                "--http_port",
                str(self.port),
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"KServe exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/health/ready", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)  # polling a starting process: no event to wait on
        pytest.fail(f"KServe did not get ready:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def kserve_python() -> Path:
    # Module-scoped fixtures run before tests/conftest.py re-opens loopback sockets.
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)
    unavailable = ROOT / ".interop" / "kserve.unavailable"
    if unavailable.exists():
        pytest.skip(unavailable.read_text().strip())
    if not (VENV / "bin" / "python").exists():
        pytest.fail("KServe is not installed: run scripts/interop_setup")
    return VENV / "bin" / "python"


@pytest.fixture(scope="module")
def default_server(
    kserve_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = Server(DEFAULT_MODEL, "printfarm", tmp_path_factory.mktemp("kserve") / "log.txt")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_default_model_served_remotely_scores_like_the_local_one(
    default_server: Server, tmp_path: Path, binary: bool
) -> None:
    remote = load_adapter(
        ModelChoice(server_url=default_server.url, server_model="printfarm", binary=binary),
        tmp_path / "remote",
    )
    local = load_adapter(ModelChoice(), tmp_path / "local")
    assert isinstance(remote, PrintfarmAdapter)
    assert isinstance(remote.backend, KServeBackend)
    for folder in ("normal", "failure"):
        for path in sorted((FRAMES / folder).glob("*.jpg")):
            image = Image.open(path).convert("RGB")
            far, near = remote.analyse("cam", image), local.analyse("cam", image)
            assert far.logit == pytest.approx(near.logit, abs=1e-3), path.name
            assert (far.score >= remote.threshold) == (folder == "failure")
    # The per-camera correction works with the remote model too.
    failure = Image.open(FRAMES / "failure" / "failure_1.jpg").convert("RGB")
    before = remote.analyse("cam", failure).score
    assert remote.false_alarm("cam", failure)
    assert remote.analyse("cam", failure).score < before


def test_yolo_and_obico_models_served_remotely(kserve_python: Path, tmp_path: Path) -> None:
    white = Image.new("RGB", (320, 240), (255, 255, 255))
    for build, name, adapter_type in (
        (yolo_model, "yolo", YoloAdapter),
        (obico_model, "obico", ObicoAdapter),
    ):
        model = build(tmp_path / f"{name}.onnx")
        server = Server(model, name, tmp_path / f"{name}.log")
        try:
            server.wait_ready()
            remote = load_adapter(
                ModelChoice(path=model, server_url=server.url, server_model=name), tmp_path
            )
            local = load_adapter(ModelChoice(path=model), tmp_path)
            assert isinstance(remote, adapter_type)
            assert remote.analyse("c", white).score == pytest.approx(
                local.analyse("c", white).score, abs=1e-4
            )
        finally:
            server.stop()


def test_unknown_model_and_dead_server_are_clear_errors(default_server: Server) -> None:
    with pytest.raises(InferenceError, match="404|not found|answered"):
        KServeBackend(default_server.url, "no-such-model")
    with pytest.raises(InferenceError, match="unreachable"):
        KServeBackend(f"http://127.0.0.1:{free_port()}", "printfarm", timeout=2)
