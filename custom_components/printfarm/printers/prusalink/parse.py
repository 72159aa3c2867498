"""PrusaLink payloads parsed once, at the edge, into typed records.

Every field is optional: Buddy firmware and Prusa-Link on a Pi send different
subsets, and older firmware leaves fields out. Numbers sent as strings are
accepted, booleans are never numbers, NaN and infinities are dropped, and a
wrong type becomes ``None`` rather than an exception. Only a payload that is
not a JSON object at all, or a status without ``printer.state``, is refused
with :class:`PrinterProtocolError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..coerce import as_bool, as_dict as _obj, as_float, as_int, decode_object
from ..exceptions import PrinterProtocolError
from ..files import FileCollector, print_file
from ..models import PrintFile

__all__ = ["as_bool", "as_float", "as_int", "decode_object"]

# --------------------------------------------------------------------- coercion


def as_str(value: Any) -> str | None:
    """A non-empty string (numbers are turned into text), else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _non_negative(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and number >= 0 else None


def _percent(value: Any) -> float | None:
    number = as_float(value)
    return None if number is None else min(100.0, max(0.0, number))


# ---------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionInfo:
    """``GET /api/version``; ``firmware``/``printer`` only on newer Buddy firmware."""

    api: str | None = None
    server: str | None = None
    text: str | None = None
    hostname: str | None = None
    firmware: str | None = None
    printer: str | None = None
    original: str | None = None  # Prusa-Link: "PrusaLink MK3S"
    sdk: str | None = None  # Prusa-Link: version of its Prusa Connect SDK
    nozzle_diameter: float | None = None

    @property
    def is_prusa_link(self) -> bool:
        """Prusa-Link on a Pi (``original``/``sdk`` are its own); else Buddy firmware."""
        return self.original is not None or self.sdk is not None

    @property
    def model(self) -> str | None:
        """Printer model: Buddy's ``printer``, or the type in Prusa-Link's ``original``."""
        if self.printer:
            return self.printer
        prefix = "PrusaLink "
        if self.original and self.original.startswith(prefix):
            return self.original.removeprefix(prefix).strip() or None
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkInfo:
    """``GET /api/v1/info``: identity and fixed hardware facts."""

    serial: str | None = None
    hostname: str | None = None  # the printer's own host name
    connect_hostname: str | None = None  # Prusa-Link: the Prusa Connect server
    name: str | None = None
    location: str | None = None
    nozzle_diameter: float | None = None
    mmu: bool | None = None
    min_extrusion_temp: float | None = None
    active_camera: bool | None = None
    farm_mode: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobProgress:
    """The ``job`` object of ``/api/v1/status`` (present only while a job exists)."""

    id: int | None = None
    progress: float | None = None
    time_remaining: int | None = None
    time_printing: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkStatus:
    """``GET /api/v1/status``: the printer's live values and the job summary."""

    state: str
    temp_nozzle: float | None = None
    target_nozzle: float | None = None
    temp_bed: float | None = None
    target_bed: float | None = None
    axis_z: float | None = None
    flow: int | None = None
    speed: int | None = None
    fan_hotend: int | None = None  # RPM
    fan_print: int | None = None  # RPM
    message: str | None = None  # status_printer.message (attention / error text)
    job: JobProgress | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFile:
    """The file of the current job."""

    name: str | None = None  # 8.3 short name on Buddy
    display_name: str | None = None
    path: str | None = None
    size: int | None = None
    thumbnail_ref: str | None = None
    icon_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkJob:
    """``GET /api/v1/job`` (200; a 204 means no job and is not parsed)."""

    id: int | None = None
    state: str | None = None
    progress: float | None = None
    time_remaining: int | None = None
    time_printing: int | None = None
    file: JobFile | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkCamera:
    """One entry of ``GET /api/v1/cameras`` (Prusa-Link on a Pi)."""

    camera_id: str
    name: str | None = None
    connected: bool = False


# ---------------------------------------------------------------------- parsers


def parse_version(data: dict[str, Any]) -> VersionInfo:
    """Parse ``/api/version``."""
    return VersionInfo(
        api=as_str(data.get("api")),
        server=as_str(data.get("server")),
        text=as_str(data.get("text")),
        hostname=as_str(data.get("hostname")),
        firmware=as_str(data.get("firmware")),
        printer=as_str(data.get("printer")),
        original=as_str(data.get("original")),
        sdk=as_str(data.get("sdk")),
        nozzle_diameter=as_float(data.get("nozzle_diameter")),
    )


def parse_info(data: dict[str, Any]) -> LinkInfo:
    """Parse ``/api/v1/info``.

    Quirk: Prusa-Link 0.8 fills ``hostname`` and ``port`` from its Prusa
    Connect settings (``connect.prusa3d.com``, port 0 or 443), not with the
    Pi's own name. That form is recognised by an integer ``port`` next to the
    Prusa-Link-only ``network_error_chime``, and its host name is kept apart
    so it can never become the printer's identity.
    """
    hostname = as_str(data.get("hostname"))
    port = data.get("port")
    is_connect = (
        "network_error_chime" in data and isinstance(port, int) and not isinstance(port, bool)
    )
    return LinkInfo(
        serial=as_str(data.get("serial")),
        hostname=None if is_connect else hostname,
        connect_hostname=hostname if is_connect else None,
        name=as_str(data.get("name")),
        location=as_str(data.get("location")),
        nozzle_diameter=as_float(data.get("nozzle_diameter")),
        mmu=as_bool(data.get("mmu")),
        min_extrusion_temp=as_float(data.get("min_extrusion_temp")),
        active_camera=as_bool(data.get("active_camera")),
        farm_mode=as_bool(data.get("farm_mode")),
    )


def _parse_job_progress(value: Any) -> JobProgress | None:
    if not isinstance(value, dict):
        return None
    return JobProgress(
        id=as_int(value.get("id")),
        progress=_percent(value.get("progress")),
        time_remaining=_non_negative(value.get("time_remaining")),
        time_printing=_non_negative(value.get("time_printing")),
    )


def parse_status(data: dict[str, Any]) -> LinkStatus:
    """Parse ``/api/v1/status``; a missing ``printer.state`` is a protocol error."""
    printer = data.get("printer")
    if not isinstance(printer, dict):
        raise PrinterProtocolError("status: no printer object")
    state = as_str(printer.get("state"))
    if state is None:
        raise PrinterProtocolError("status: printer.state is missing")
    status_printer = _obj(printer.get("status_printer"))
    return LinkStatus(
        state=state.strip().upper(),
        temp_nozzle=as_float(printer.get("temp_nozzle")),
        target_nozzle=as_float(printer.get("target_nozzle")),
        temp_bed=as_float(printer.get("temp_bed")),
        target_bed=as_float(printer.get("target_bed")),
        axis_z=as_float(printer.get("axis_z")),
        flow=as_int(printer.get("flow")),
        speed=as_int(printer.get("speed")),
        fan_hotend=_non_negative(printer.get("fan_hotend")),
        fan_print=_non_negative(printer.get("fan_print")),
        # Prusa-Link always sends {"ok": true, "message": "OK"}: only a problem is a message
        message=(
            as_str(status_printer.get("message"))
            if as_bool(status_printer.get("ok")) is not True
            else None
        ),
        job=_parse_job_progress(data.get("job")),
    )


def _parse_file(value: Any) -> JobFile | None:
    if not isinstance(value, dict):
        return None
    refs = _obj(value.get("refs"))
    return JobFile(
        name=as_str(value.get("name")),
        display_name=as_str(value.get("display_name")),
        path=as_str(value.get("path")),
        size=_non_negative(value.get("size")),
        thumbnail_ref=as_str(refs.get("thumbnail")),
        icon_ref=as_str(refs.get("icon")),
    )


def parse_job(data: dict[str, Any]) -> LinkJob:
    """Parse ``/api/v1/job`` (a 200 answer)."""
    state = as_str(data.get("state"))
    return LinkJob(
        id=as_int(data.get("id")),
        state=state.strip().upper() if state else None,
        progress=_percent(data.get("progress")),
        time_remaining=_non_negative(data.get("time_remaining")),
        time_printing=_non_negative(data.get("time_printing")),
        file=_parse_file(data.get("file")),
    )


def parse_cameras(data: dict[str, Any]) -> tuple[LinkCamera, ...]:
    """Parse ``/api/v1/cameras``; entries without an id are skipped."""
    entries = data.get("camera_list")
    if not isinstance(entries, list):
        return ()
    cameras: list[LinkCamera] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        camera_id = as_str(entry.get("camera_id"))
        if camera_id is None:
            continue
        cameras.append(
            LinkCamera(
                camera_id=camera_id,
                name=as_str(_obj(entry.get("config")).get("name")),
                connected=as_bool(entry.get("connected")) is True,
            )
        )
    return tuple(cameras)


def parse_storages(data: dict[str, Any]) -> list[str]:
    """The paths of the available storages of ``/api/v1/storage`` (``/usb``, ``/local``)."""
    paths: list[str] = []
    entries = data.get("storage_list")
    for entry in entries[:16] if isinstance(entries, list) else []:
        item = _obj(entry)
        raw = item.get("path")
        path = print_file(raw.rstrip("/")) if isinstance(raw, str) else None
        if path is not None and item.get("available", True) is not False:
            paths.append("/" + path.path.strip("/"))
    return paths


def parse_folder(data: dict[str, Any], storage: str) -> list[PrintFile]:
    """The print files among the ``children`` of a folder of ``/api/v1/files``.

    A child's ``name`` is the short (8.3) name on Buddy firmware: it makes the
    path a start is sent to; ``display_name`` is what a user recognises.
    """
    collector = FileCollector()
    children = data.get("children")
    for entry in children if isinstance(children, list) else []:
        item = _obj(entry)
        name = item.get("name")
        if item.get("type") != "PRINT_FILE" or not isinstance(name, str) or "/" in name:
            continue
        collector.add(
            print_file(
                f"{storage}/{name}",
                item.get("display_name"),
                item.get("size"),
                item.get("m_timestamp"),
            )
        )
        if collector.full:
            break
    return collector.files
