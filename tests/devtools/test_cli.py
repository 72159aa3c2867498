"""scripts/develop's command line."""

from __future__ import annotations

import pytest

from devtools.cli import main, parse_args


def test_defaults() -> None:
    args = parse_args([])
    assert args.speed == 5.0
    assert args.port is None
    assert not args.fresh
    assert args.simulator_args == []


def test_simulator_arguments_after_double_dash() -> None:
    args = parse_args(["--speed", "2", "--port", "18123", "--", "--failure-after", "60"])
    assert args.speed == 2.0
    assert args.port == 18123
    assert args.simulator_args == ["--failure-after", "60"]


def test_bad_arguments_stop_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--speed", "0"]) == 2
    assert "--speed must be positive" in capsys.readouterr().out
    # scripts/simulate's own parser judges the farm arguments.
    with pytest.raises(SystemExit):
        main(["--", "--moonraker", "many"])


def test_screenshot_without_a_develop_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("PRINTFARM_DEVELOP_DIR", str(tmp_path))
    monkeypatch.setattr("devtools.cli.find_chromium", lambda: "/usr/bin/chromium")
    assert main(["screenshot", str(tmp_path / "x.png")]) == 1
    assert "run scripts/develop first" in capsys.readouterr().out
