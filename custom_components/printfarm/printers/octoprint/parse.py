"""OctoPrint payloads, parsed once into typed models.

Every parser accepts whatever JSON arrived (``object``) and never raises on
odd shapes: wrong types become ``None``, numbers sent as strings are read,
unknown keys are ignored. Only a body that is not a JSON object at all is a
protocol error, and the caller decides what that means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..coerce import as_dict, as_float, as_int, as_list, as_text as as_str
from ..exceptions import PrinterProtocolError
from ..files import FileCollector, print_file
from ..limits import MAX_DEPTH
from ..models import PrintFile

__all__ = ["as_dict", "as_float", "as_int", "as_str"]


def require_object(value: object, what: str) -> dict[str, Any]:
    """The body as a JSON object, or PrinterProtocolError."""
    if not isinstance(value, dict):
        raise PrinterProtocolError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """``GET /api/version`` (plus ``/api/server`` when read)."""

    api: str | None
    server: str | None
    text: str | None
    safemode: str | None = None


def parse_version(body: object) -> VersionInfo:
    """Parse ``/api/version``."""
    data = as_dict(body)
    return VersionInfo(
        api=as_str(data.get("api")),
        server=as_str(data.get("server")),
        text=as_str(data.get("text")),
    )


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """``GET /api/connection``: the serial link between OctoPrint and the printer."""

    state: str | None
    port: str | None
    baudrate: int | None
    profile: str | None
    ports: tuple[str, ...] = ()
    profile_name: str | None = None  # the user's name for the printer profile


def parse_connection(body: object) -> ConnectionInfo:
    """Parse ``/api/connection``."""
    data = as_dict(body)
    current = as_dict(data.get("current"))
    options = as_dict(data.get("options"))
    ports = options.get("ports")
    profile = as_str(current.get("printerProfile"))
    profiles = options.get("printerProfiles")
    profile_name = next(
        (
            as_str(p.get("name"))
            for p in (profiles if isinstance(profiles, list) else [])
            if isinstance(p, dict) and p.get("id") == profile
        ),
        None,
    )
    return ConnectionInfo(
        state=as_str(current.get("state")),
        port=as_str(current.get("port")),
        baudrate=as_int(current.get("baudrate")),
        profile=profile,
        ports=tuple(p for p in ports if isinstance(p, str)) if isinstance(ports, list) else (),
        profile_name=profile_name,
    )


@dataclass(frozen=True, slots=True)
class Heater:
    """One heater of ``temperature``: actual and target in degrees Celsius."""

    actual: float | None
    target: float | None


def parse_heater(value: object) -> Heater | None:
    """Parse ``{"actual": .., "target": .., "offset": ..}`` (None when absent)."""
    if not isinstance(value, dict):
        return None
    return Heater(actual=as_float(value.get("actual")), target=as_float(value.get("target")))


@dataclass(frozen=True, slots=True)
class PrinterReport:
    """``GET /api/printer`` (200): state text, flags, error and temperatures."""

    text: str | None
    flags: dict[str, bool]
    error: str | None
    tool0: Heater | None
    bed: Heater | None
    chamber: Heater | None


def parse_state_block(value: object) -> tuple[str | None, dict[str, bool], str | None]:
    """Parse a ``state`` block ``{"text", "flags", "error"}``."""
    state = as_dict(value)
    flags = {k: v for k, v in as_dict(state.get("flags")).items() if isinstance(v, bool)}
    return as_str(state.get("text")), flags, as_str(state.get("error"))


def parse_printer(body: object) -> PrinterReport:
    """Parse ``/api/printer``."""
    data = require_object(body, "/api/printer")
    text, flags, error = parse_state_block(data.get("state"))
    temps = as_dict(data.get("temperature"))
    return PrinterReport(
        text=text,
        flags=flags,
        error=error,
        tool0=parse_heater(temps.get("tool0")),
        bed=parse_heater(temps.get("bed")),
        chamber=parse_heater(temps.get("chamber")),
    )


@dataclass(frozen=True, slots=True)
class JobReport:
    """``GET /api/job`` (and the job part of a push ``current`` message)."""

    state: str | None
    file_name: str | None
    file_display: str | None
    file_path: str | None
    file_origin: str | None
    completion: float | None  # percent 0-100
    print_time: int | None  # seconds
    print_time_left: int | None  # seconds
    estimated_print_time: int | None
    error: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_job_parts(job: object, progress: object, state: str | None, error: object) -> JobReport:
    """Build a JobReport from the ``job`` and ``progress`` blocks."""
    job_data = as_dict(job)
    file = as_dict(job_data.get("file"))
    prog = as_dict(progress)
    completion = as_float(prog.get("completion"))
    if completion is not None:
        completion = min(100.0, max(0.0, completion))
    name = as_str(file.get("name"))
    return JobReport(
        state=state,
        file_name=name,
        # 1.11 lists "display"; older releases and look-alikes only "name"
        file_display=as_str(file.get("display")) or name,
        file_path=as_str(file.get("path")),
        file_origin=as_str(file.get("origin")),
        completion=completion,
        print_time=_non_negative(as_int(prog.get("printTime"))),
        print_time_left=_non_negative(as_int(prog.get("printTimeLeft"))),
        estimated_print_time=_non_negative(as_int(job_data.get("estimatedPrintTime"))),
        error=as_str(error),
    )


def _non_negative(value: int | None) -> int | None:
    return value if value is None or value >= 0 else None


def parse_job(body: object) -> JobReport:
    """Parse ``/api/job``."""
    data = require_object(body, "/api/job")
    return parse_job_parts(
        data.get("job"), data.get("progress"), as_str(data.get("state")), data.get("error")
    )


@dataclass(frozen=True, slots=True)
class CurrentMessage:
    """A SockJS push ``current`` (or ``history``) message."""

    text: str | None
    flags: dict[str, bool]
    error: str | None
    job: JobReport
    tool0: Heater | None
    bed: Heater | None
    chamber: Heater | None


def parse_current(payload: object) -> CurrentMessage:
    """Parse the body of a push ``current``/``history`` message."""
    data = as_dict(payload)
    text, flags, error = parse_state_block(data.get("state"))
    job = parse_job_parts(data.get("job"), data.get("progress"), text, error)
    temps = data.get("temps")
    latest = as_dict(temps[-1]) if isinstance(temps, list) and temps else {}
    return CurrentMessage(
        text=text,
        flags=flags,
        error=error,
        job=job,
        tool0=parse_heater(latest.get("tool0")),
        bed=parse_heater(latest.get("bed")),
        chamber=parse_heater(latest.get("chamber")),
    )


@dataclass(frozen=True, slots=True)
class WebcamSettings:
    """The camera part of ``/api/settings`` (URLs as OctoPrint stores them)."""

    enabled: bool
    snapshot_url: str | None
    stream_url: str | None


def parse_webcam(body: object) -> WebcamSettings:
    """Pick the snapshot and stream URLs out of ``/api/settings``.

    Order: the default webcam's ``compat`` URLs, the legacy top-level
    ``webcam.snapshotUrl``/``streamUrl``, then ``plugins.classicwebcam``.
    """
    data = as_dict(body)
    webcam = as_dict(data.get("webcam"))
    enabled = webcam.get("webcamEnabled")
    snapshot = stream = None
    default = as_str(webcam.get("defaultWebcam"))
    cams = webcam.get("webcams")
    for cam in cams if isinstance(cams, list) else []:
        cam_data = as_dict(cam)
        if default is not None and cam_data.get("name") != default:
            continue
        compat = as_dict(cam_data.get("compat"))
        snapshot = snapshot or as_str(compat.get("snapshot"))
        stream = stream or as_str(compat.get("stream"))
    snapshot = snapshot or as_str(webcam.get("snapshotUrl"))
    stream = stream or as_str(webcam.get("streamUrl"))
    classic = as_dict(as_dict(data.get("plugins")).get("classicwebcam"))
    snapshot = snapshot or as_str(classic.get("snapshot"))
    stream = stream or as_str(classic.get("stream"))
    return WebcamSettings(enabled=enabled is not False, snapshot_url=snapshot, stream_url=stream)


def parse_error(body: object) -> str | None:
    """The ``error`` text of an OctoPrint error body, if any."""
    return as_str(as_dict(body).get("error"))


def parse_files(body: object) -> list[PrintFile]:
    """Parse ``/api/files/local?recursive=true``: the machine-code files, folders walked.

    Folders nest ``children``; the walk is iterative and bounded in depth and
    count, so no listing can exhaust the stack or memory.
    """
    collector = FileCollector()
    stack: list[tuple[object, int]] = [(require_object(body, "/api/files").get("files"), 0)]
    while stack and not collector.full:
        entries, depth = stack.pop()
        for entry in as_list(entries):
            item = as_dict(entry)
            if item.get("type") == "folder":
                if depth < MAX_DEPTH:
                    stack.append((item.get("children"), depth + 1))
                continue
            if item.get("type") != "machinecode" or item.get("origin", "local") != "local":
                continue
            collector.add(
                print_file(
                    item.get("path"), item.get("display"), item.get("size"), item.get("date")
                )
            )
    return collector.files
