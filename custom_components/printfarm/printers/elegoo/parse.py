"""Parse SDCP v3 messages once, at the edge, into typed reports.

Firmware quirks are fixed here and nowhere else:

* misspelled keys (``CurrenCoord``, ``RelaseFilmState``,
  ``MaximumCloudSDCPSercicesAllowed``, ``ModeFan``) are renamed;
* keys sent hex-encoded (``"54 6F 74 61 6C ... 00"``) are decoded;
* numbers sent as strings are accepted, booleans are not numbers;
* ``TotalTicks``/``CurrentTicks`` are seconds on the Centauri Carbon and
  milliseconds per the spec: ``TicksClock`` decides which, per printer.

Every reader is lenient: a field of the wrong type becomes ``None`` (the
client then keeps its last good value); only a message that is not JSON or
not an object at all is rejected with ``SdcpParseError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Any

from ..coerce import as_bool as _as_bool, as_dict, as_float, as_int, as_list, as_str, decode_json
from ..exceptions import PrinterProtocolError
from ..files import FileCollector, print_file
from ..limits import MAX_DEPTH
from ..models import PrintFile
from .status import Flavor

__all__ = ["as_dict", "as_float", "as_int", "as_str"]

#: Misspelled keys as sent by the firmware -> the spelling printfarm uses.
KEY_FIXES: dict[str, str] = {
    "CurrenCoord": "CurrentCoord",
    "RelaseFilmState": "ReleaseFilmState",
    "MaximumCloudSDCPSercicesAllowed": "MaximumCloudSDCPServicesAllowed",
}
_HEX_KEY = re.compile(r"^[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})+$")


class SdcpParseError(PrinterProtocolError):
    """A message that is not an SDCP JSON object."""


# ---------------------------------------------------------------- primitives


def fix_key(key: str) -> str:
    """Decode a hex-encoded key and correct a known misspelling."""
    if _HEX_KEY.match(key):
        try:
            decoded = bytes.fromhex(key.replace(" ", "")).rstrip(b"\x00").decode("ascii")
        except (ValueError, UnicodeDecodeError):
            decoded = key
        if decoded.isprintable() and decoded:
            key = decoded
    return KEY_FIXES.get(key, key)


def normalize_keys(value: Any, depth: int = MAX_DEPTH) -> Any:
    """Return ``value`` with every dict key fixed, down to ``depth`` levels.

    Deeper parts are kept as they are: SDCP never nests that far, and a
    hostile message must not exhaust the stack.
    """
    if depth <= 0:
        return value
    if isinstance(value, dict):
        return {fix_key(str(k)): normalize_keys(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_keys(v, depth - 1) for v in value]
    return value


def as_bool(value: Any) -> bool | None:
    """0/1, true/false, "0"/"1" -> bool, else None (2 is not a bool)."""
    if isinstance(value, bool):
        return value
    number = as_float(value)
    if number in (0, 1):
        return bool(number)
    return _as_bool(value) if isinstance(value, str) else None


def as_codes(value: Any) -> tuple[int, ...]:
    """``CurrentStatus``: a list of ints (a bare int is accepted too)."""
    if isinstance(value, list):
        return tuple(c for c in (as_int(v) for v in value) if c is not None)
    single = as_int(value)
    return (single,) if single is not None else ()


# ---------------------------------------------------------------- reports


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    """One ``sdcp/status`` push, typed. ``None`` = absent or unusable."""

    machine_codes: tuple[int, ...] = ()
    print_code: int | None = None
    nozzle_temp: float | None = None
    nozzle_target: float | None = None
    bed_temp: float | None = None
    bed_target: float | None = None
    box_temp: float | None = None
    box_target: float | None = None
    uvled_temp: float | None = None
    position: tuple[float, ...] | None = None
    z_offset: float | None = None
    fan_model: int | None = None
    fan_auxiliary: int | None = None
    fan_box: int | None = None
    light_on: bool | None = None
    rgb_light: tuple[int, ...] | None = None
    filename: str | None = None
    task_id: str | None = None
    layer: int | None = None
    total_layers: int | None = None
    current_ticks: float | None = None
    total_ticks: float | None = None
    progress: float | None = None
    speed_pct: int | None = None
    error_number: int | None = None
    total_extrusion: float | None = None
    current_extrusion: float | None = None
    mainboard_id: str | None = None
    has_print_info: bool = False

    @property
    def flavor_hint(self) -> Flavor | None:
        """FDM when nozzle fields are present, resin when UV-LED fields are."""
        if self.nozzle_temp is not None or self.fan_model is not None:
            return Flavor.FDM
        if self.uvled_temp is not None:
            return Flavor.RESIN
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributesReport:
    """One ``sdcp/attributes`` push (or discovery reply), typed."""

    name: str | None = None
    machine_name: str | None = None
    brand: str | None = None
    firmware: str | None = None
    protocol_version: str | None = None
    mainboard_id: str | None = None
    mainboard_ip: str | None = None
    capabilities: tuple[str, ...] = ()
    file_types: tuple[str, ...] = ()
    max_video_streams: int | None = None
    video_streams_connected: int | None = None
    camera_status: int | None = None

    @property
    def flavor(self) -> Flavor:
        """Resin unless the printer prints G-code or calls itself a Centauri."""
        if "GCODE" in (t.upper() for t in self.file_types):
            return Flavor.FDM
        model = (self.machine_name or "").lower()
        if "centauri" in model or not self.file_types:
            return Flavor.FDM
        return Flavor.RESIN

    @property
    def has_camera(self) -> bool:
        """Whether the printer advertises a video stream."""
        return any(c.upper().startswith("VIDEO") for c in self.capabilities)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReport:
    """An ``sdcp/response`` message: the ack of one request."""

    cmd: int | None
    request_id: str | None
    ack: int | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorReport:
    """An ``sdcp/error`` message."""

    code: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeReport:
    """An ``sdcp/notice`` message."""

    message: str | None
    type: int | None


type Report = StatusReport | AttributesReport | ResponseReport | ErrorReport | NoticeReport


def loads(text: str | bytes) -> dict[str, Any]:
    """JSON text -> a dict with fixed keys, or ``SdcpParseError``."""
    try:
        value = decode_json(text, "SDCP message")
    except PrinterProtocolError as err:
        raise SdcpParseError(str(err), reason=err.reason) from err
    if not isinstance(value, dict):
        raise SdcpParseError(f"not a JSON object but {type(value).__name__}")
    fixed: dict[str, Any] = normalize_keys(value)
    return fixed


def parse_message(text: str | bytes) -> Report | None:
    """Parse one websocket message; ``None`` for a well-formed but unknown topic."""
    msg = loads(text)
    topic = as_str(msg.get("Topic")) or ""
    kind = topic.split("/")[1] if topic.count("/") >= 2 else ""
    if kind == "status" or (not kind and "Status" in msg):
        return parse_status(msg)
    if kind == "attributes" or (not kind and "Attributes" in msg):
        return parse_attributes(as_dict(msg.get("Attributes")), msg.get("MainboardID"))
    data = as_dict(msg.get("Data"))
    inner = as_dict(data.get("Data"))
    if kind == "response" or (not kind and "RequestID" in data):
        return ResponseReport(
            cmd=as_int(data.get("Cmd")),
            request_id=as_str(data.get("RequestID")),
            ack=as_int(inner.get("Ack")),
            data=inner,
        )
    if kind == "error":
        return ErrorReport(code=as_int(inner.get("ErrorCode")))
    if kind == "notice":
        return NoticeReport(message=as_str(inner.get("Message")), type=as_int(inner.get("Type")))
    return None


def parse_status(msg: dict[str, Any]) -> StatusReport:
    """The body of a status push (``msg["Status"]``) into a report."""
    status = as_dict(msg.get("Status"))
    info = as_dict(status.get("PrintInfo"))
    fans = as_dict(status.get("CurrentFanSpeed"))
    light = as_dict(status.get("LightStatus"))
    rgb = light.get("RgbLight", status.get("RgbLight"))
    model_fan = fans.get("ModelFan", fans.get("ModeFan"))
    return StatusReport(
        machine_codes=as_codes(status.get("CurrentStatus")),
        print_code=as_int(info.get("Status")),
        nozzle_temp=as_float(status.get("TempOfNozzle")),
        nozzle_target=as_float(status.get("TempTargetNozzle")),
        bed_temp=as_float(status.get("TempOfHotbed")),
        bed_target=as_float(status.get("TempTargetHotbed")),
        box_temp=as_float(status.get("TempOfBox")),
        box_target=as_float(status.get("TempTargetBox")),
        uvled_temp=as_float(status.get("TempOfUVLED")),
        position=_coords(status.get("CurrentCoord")),
        z_offset=as_float(status.get("ZOffset")),
        fan_model=as_int(model_fan),
        fan_auxiliary=as_int(fans.get("AuxiliaryFan")),
        fan_box=as_int(fans.get("BoxFan")),
        light_on=as_bool(light.get("SecondLight")),
        rgb_light=_rgb(rgb),
        filename=as_str(info.get("Filename")),
        task_id=as_str(info.get("TaskId")),
        layer=as_int(info.get("CurrentLayer")),
        total_layers=as_int(info.get("TotalLayer")),
        current_ticks=as_float(info.get("CurrentTicks")),
        total_ticks=as_float(info.get("TotalTicks")),
        progress=as_float(info.get("Progress")),
        speed_pct=as_int(info.get("PrintSpeedPct", info.get("PrintSpeed"))),
        error_number=as_int(info.get("ErrorNumber")),
        total_extrusion=as_float(info.get("TotalExtrusion")),
        current_extrusion=as_float(info.get("CurrentExtrusion")),
        mainboard_id=as_str(msg.get("MainboardID")),
        has_print_info=bool(info),
    )


def parse_attributes(attrs: dict[str, Any], mainboard_id: Any = None) -> AttributesReport:
    """An ``Attributes`` object (or a discovery reply's ``Data``) into a report."""
    caps = attrs.get("Capabilities")
    types = attrs.get("SupportFileType")
    return AttributesReport(
        name=as_str(attrs.get("Name")),
        machine_name=as_str(attrs.get("MachineName")),
        brand=as_str(attrs.get("BrandName")),
        firmware=as_str(attrs.get("FirmwareVersion")),
        protocol_version=as_str(attrs.get("ProtocolVersion")),
        mainboard_id=as_str(attrs.get("MainboardID")) or as_str(mainboard_id),
        mainboard_ip=as_str(attrs.get("MainboardIP")),
        capabilities=tuple(c for c in caps if isinstance(c, str)) if isinstance(caps, list) else (),
        file_types=tuple(t for t in types if isinstance(t, str)) if isinstance(types, list) else (),
        max_video_streams=as_int(attrs.get("MaximumVideoStreamAllowed")),
        video_streams_connected=as_int(attrs.get("NumberOfVideoStreamConnected")),
        camera_status=as_int(attrs.get("CameraStatus")),
    )


def _coords(value: Any) -> tuple[float, ...] | None:
    if not isinstance(value, str):
        return None
    parts = [as_float(p) for p in value.split(",")]
    if not parts or any(p is None for p in parts):
        return None
    return tuple(p for p in parts if p is not None)


def _rgb(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, list) or len(value) != 3:
        return None
    channels = [as_int(v) for v in value]
    if any(c is None or not 0 <= c <= 255 for c in channels):
        return None
    return tuple(c for c in channels if c is not None)


def parse_file_list(data: object, storage: str) -> list[PrintFile]:
    """The files (``type`` 1) of a Cmd 258 answer under ``storage``; folders are not walked."""
    collector = FileCollector()
    prefix = storage.rstrip("/") + "/"
    for entry in as_list(as_dict(data).get("FileList")):
        item = as_dict(entry)
        name = item.get("name")
        if as_int(item.get("type")) != 1 or not isinstance(name, str):
            continue
        if not name.startswith(prefix):
            continue  # a path outside the storage asked for is not this listing's
        collector.add(print_file(name, name.rsplit("/", 1)[-1]))
        if collector.full:
            break
    return collector.files
