"""The add-on's options and where it runs: inside the Supervisor, or standalone.

Inside the Supervisor: ``SUPERVISOR_TOKEN`` is set, Home Assistant is
``http://supervisor/core``, options come from ``/data/options.json``, state lives
in ``/data``, the add-on's config folder is ``/config`` and HA's media folder
``/media``. Standalone: ``HA_URL``, ``HA_WS_URL`` and ``HA_TOKEN`` (a long-lived
token) point at any Home Assistant; ``PRINTFARM_OPTIONS``, ``PRINTFARM_DATA``,
``PRINTFARM_CONFIG`` and ``PRINTFARM_MEDIA`` move the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
from typing import Any

from ..printfarm_detect.decision import OnFailure

SUPERVISOR_CORE = "http://supervisor/core"
SUPERVISOR_WS = "ws://supervisor/core/websocket"
ENTITY_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
ACTION = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
MAX_OPTIONS_BYTES = 256 * 1024


class OptionsError(ValueError):
    """The options file is missing, unreadable or holds a bad value."""


@dataclass(frozen=True, slots=True)
class ExtraCamera:
    """A camera of a printer from another integration, listed by the user."""

    camera: str
    pause: str | None = None
    status: str | None = None
    printing_state: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """What the user chose (``options`` in config.yaml)."""

    interval: float = 10.0
    sensitivity: float = 1.0
    on_failure: OnFailure = OnFailure.PAUSE_AND_NOTIFY
    notify: str | None = "persistent_notification.create"
    ai_task_entity: str | None = None
    ai_task_veto: bool = False
    timelapse: bool = True
    timelapse_keep: int = 30
    model: str | None = None
    inference_url: str | None = None
    inference_model: str = "printfarm"
    threads: int | None = None
    log_level: str = "info"
    cameras: tuple[ExtraCamera, ...] = ()
    #: Decision warm-up in frames (not in the UI: tests and demos shorten it).
    warmup_frames: int | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Options:
        """Validate the options; OptionsError names the first bad one."""
        interval = _number(raw, "interval", 10.0, 0.1, 3600.0)
        sensitivity = _number(raw, "sensitivity", 1.0, 0.5, 2.0)
        try:
            on_failure = OnFailure(raw.get("on_failure", OnFailure.PAUSE_AND_NOTIFY.value))
        except ValueError as err:
            raise OptionsError("on_failure must be notify, pause or pause_and_notify") from err
        notify = _text(raw, "notify", "persistent_notification.create")
        if notify is not None and not ACTION.match(notify):
            raise OptionsError(
                f"notify must be an action such as notify.mobile_app_x, not {notify!r}"
            )
        ai_task = _text(raw, "ai_task_entity")
        if ai_task is not None and not (
            ENTITY_ID.match(ai_task) and ai_task.startswith("ai_task.")
        ):
            raise OptionsError("ai_task_entity must be an ai_task entity id")
        cameras = raw.get("cameras") or []
        if not isinstance(cameras, list):
            raise OptionsError("cameras must be a list")
        threads = raw.get("threads")
        if threads is not None and (not isinstance(threads, int) or not 1 <= threads <= 16):
            raise OptionsError("threads must be a whole number from 1 to 16")
        warmup = raw.get("warmup_frames")
        if warmup is not None and (not isinstance(warmup, int) or not 0 <= warmup <= 10_000):
            raise OptionsError("warmup_frames must be a whole number from 0 to 10000")
        keep = raw.get("timelapse_keep", 30)
        if not isinstance(keep, int) or not 0 <= keep <= 10_000:
            raise OptionsError("timelapse_keep must be a whole number from 0 to 10000")
        level = str(raw.get("log_level") or "info").lower()
        if level not in ("debug", "info", "warning", "error"):
            raise OptionsError("log_level must be debug, info, warning or error")
        url = _text(raw, "inference_url")
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            raise OptionsError("inference_url must be an http(s) URL")
        return cls(
            interval=interval,
            sensitivity=sensitivity,
            on_failure=on_failure,
            notify=notify,
            ai_task_entity=ai_task,
            ai_task_veto=bool(raw.get("ai_task_veto", False)),
            timelapse=bool(raw.get("timelapse", True)),
            timelapse_keep=keep,
            model=_text(raw, "model"),
            inference_url=url,
            inference_model=_text(raw, "inference_model") or "printfarm",
            threads=threads,
            log_level=level,
            cameras=tuple(_camera(item) for item in cameras),
            warmup_frames=warmup,
        )


def _number(raw: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise OptionsError(f"{key} must be a number from {low:g} to {high:g}")
    return float(value)


def _text(raw: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise OptionsError(f"{key} must be text")
    return value.strip() or None


def _camera(item: object) -> ExtraCamera:
    if not isinstance(item, dict):
        raise OptionsError("each camera must be a mapping with at least 'camera'")
    camera = _text(item, "camera")
    if camera is None or not camera.startswith("camera.") or not ENTITY_ID.match(camera):
        raise OptionsError(f"camera {camera!r} is not a camera entity id")
    pause = _text(item, "pause")
    if pause is not None and not ACTION.match(pause):
        raise OptionsError(f"pause {pause!r} for {camera} is not an entity id or an action")
    status = _text(item, "status")
    if status is not None and not ENTITY_ID.match(status):
        raise OptionsError(f"status {status!r} for {camera} is not an entity id")
    return ExtraCamera(
        camera=camera,
        pause=pause,
        status=status,
        printing_state=_text(item, "printing_state"),
        name=_text(item, "name"),
    )


@dataclass(frozen=True, slots=True)
class Environment:
    """Where the add-on finds Home Assistant and keeps its files."""

    ha_url: str
    ws_url: str
    token: str
    options_path: Path
    data_dir: Path
    config_dir: Path
    media_dir: Path | None
    supervisor: bool
    ui_host: str = "0.0.0.0"  # noqa: S104 - the Supervisor's network; only the proxy may connect
    ui_port: int = 8099
    api_host: str = "0.0.0.0"  # noqa: S104 - HA Core reaches the API over the internal network
    api_port: int = 8100
    ingress_peer: str | None = "172.30.32.2"
    supervisor_url: str = "http://supervisor"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Environment:
        """Supervisor mode when SUPERVISOR_TOKEN is set, else standalone (HA_URL, HA_TOKEN)."""
        env = os.environ if env is None else env
        supervisor_token = env.get("SUPERVISOR_TOKEN")
        token = env.get("HA_TOKEN") or supervisor_token
        if not token:
            raise OptionsError(
                "no Home Assistant token: run as an add-on (SUPERVISOR_TOKEN), or set HA_URL and "
                "HA_TOKEN (a long-lived access token)"
            )
        supervisor = bool(supervisor_token) and not env.get("HA_URL")
        if supervisor:
            ha_url, ws_url = SUPERVISOR_CORE, SUPERVISOR_WS
        else:
            ha_url = (env.get("HA_URL") or "http://127.0.0.1:8123").rstrip("/")
            ws_url = env.get("HA_WS_URL") or ha_url.replace("http", "ws", 1) + "/api/websocket"
        data = Path(env.get("PRINTFARM_DATA") or ("/data" if supervisor else "./.addon-data"))
        media = env.get("PRINTFARM_MEDIA") or ("/media" if supervisor else "")
        return cls(
            ha_url=ha_url,
            ws_url=ws_url,
            token=token,
            options_path=Path(env.get("PRINTFARM_OPTIONS") or data / "options.json"),
            data_dir=data,
            config_dir=Path(env.get("PRINTFARM_CONFIG") or ("/config" if supervisor else data)),
            media_dir=Path(media) if media else None,
            supervisor=supervisor,
            ui_host=env.get("PRINTFARM_UI_HOST") or ("0.0.0.0" if supervisor else "127.0.0.1"),  # noqa: S104
            ui_port=int(env.get("PRINTFARM_UI_PORT") or 8099),
            api_host=env.get("PRINTFARM_API_HOST") or ("0.0.0.0" if supervisor else "127.0.0.1"),  # noqa: S104
            api_port=int(env.get("PRINTFARM_API_PORT") or 8100),
            ingress_peer="172.30.32.2" if supervisor else None,
        )


def load_options(path: Path) -> Options:
    """Read and validate the options file; a missing file means the defaults."""
    if not path.exists():
        return Options()
    try:
        if path.stat().st_size > MAX_OPTIONS_BYTES:
            raise OptionsError(f"{path} is too large")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OptionsError(f"cannot read {path}: {err}") from err
    if not isinstance(raw, dict):
        raise OptionsError(f"{path} must hold a JSON object")
    return Options.from_mapping(raw)
