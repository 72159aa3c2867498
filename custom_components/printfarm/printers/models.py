"""Normalized printer model shared by every protocol client.

Each client parses its brand's payloads once, at the edge, and fills these
frozen dataclasses. Nothing above this package ever sees a raw payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, TypedDict, cast

from .exceptions import Reason


class PrinterKind(StrEnum):
    """The protocol families printfarm speaks."""

    BAMBU = "bambu"
    MOONRAKER = "moonraker"
    OCTOPRINT = "octoprint"
    PRUSALINK = "prusalink"
    ELEGOO = "elegoo"


class PrintStatus(StrEnum):
    """One status vocabulary for every brand.

    The brand's own word is kept next to it in ``PrinterState.native_status``.
    """

    OFFLINE = "offline"
    IDLE = "idle"
    PREPARING = "preparing"
    PRINTING = "printing"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    ERROR = "error"


#: Statuses in which a job is under way (pause/stop make sense).
ACTIVE_STATUSES = frozenset({PrintStatus.PREPARING, PrintStatus.PRINTING, PrintStatus.PAUSED})


class PrinterNotice(StrEnum):
    """A condition only the user can fix, at the printer; each becomes a repair issue.

    Clients set these in ``PrinterState.notices`` from what the printer itself
    reports, and clear them as soon as it reports otherwise.
    """

    #: Bambu "authorization control" firmware refuses unsigned commands until
    #: LAN-only mode and Developer mode are on (the ``fun`` bit or a refusal).
    DEVELOPER_MODE_REQUIRED = "developer_mode_required"
    #: Bambu X1/H2/P2: "LAN only liveview" is off (``ipcam.rtsp_url`` is "disable").
    LIVEVIEW_DISABLED = "liveview_disabled"
    #: PrusaLink: the firmware has no PrusaLink API v1 (Buddy < 5.1, Prusa-Link < 0.7).
    FIRMWARE_TOO_OLD = "firmware_too_old"
    #: Elegoo SDCP: the printer already serves its maximum of clients and turned us away.
    CONNECTION_SLOTS_EXHAUSTED = "connection_slots_exhausted"


class CameraKind(StrEnum):
    """How a printer's camera is reached."""

    NONE = "none"
    MJPEG = "mjpeg"  # HTTP multipart stream (and usually an HTTP still)
    SNAPSHOT = "snapshot"  # HTTP still image only
    JPEG_SOCKET = "jpeg_socket"  # Bambu P1/A1: JPEG frames over TLS on port 6000
    RTSPS = "rtsps"  # Bambu X1/H2: RTSP over TLS on port 322


class FanKind(StrEnum):
    """The fans printfarm knows by role (their speeds are in ``PrinterState``)."""

    PART_COOLING = "part_cooling"  # the model / part-cooling fan
    AUXILIARY = "auxiliary"  # side / auxiliary part-cooling fan
    CHAMBER = "chamber"  # chamber / enclosure exhaust fan


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraInfo:
    """Where the camera lives. URLs are absolute (already resolved)."""

    kind: CameraKind = CameraKind.NONE
    stream_url: str | None = None
    snapshot_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What a printer can do; decides which entities exist above this layer."""

    camera: CameraKind = CameraKind.NONE
    chamber_temperature: bool = False
    light: bool = False
    temperature_control: bool = True
    speed_factor: bool = False  # numeric feed-rate override, percent
    speed_presets: tuple[str, ...] = ()  # named speed levels (Bambu, Elegoo)
    ams: bool = False
    hms: bool = False
    gcode: bool = False
    door: bool = False
    emergency_stop: bool = False
    firmware_restart: bool = False
    controllable_fans: tuple[FanKind, ...] = ()  # set_fan_speed() works for these
    thumbnail: bool = False
    layers: bool = False
    wifi_signal: bool = False
    print_files: bool = False  # list_files() and start_print() work
    reprint: bool = False  # reprint() starts the last job's file again


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintFile:
    """One file stored on a printer that it can print."""

    path: str  # the printer's own reference: what ``start_print`` takes
    name: str  # what a user recognises (the display name, else the file name)
    size: int | None = None  # bytes
    modified: float | None = None  # seconds since the epoch


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterInfo:
    """Static identity of a printer, known after the first connection."""

    kind: PrinterKind
    unique_id: str  # the printer's own identity: serial, UUID, mainboard id ...
    name: str
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    host: str | None = None
    configuration_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmsTray:
    """One filament slot of a Bambu AMS (or external spool)."""

    unit: int
    slot: int
    material: str | None = None
    color: str | None = None  # "#RRGGBB"
    remaining: int | None = None  # percent, None when the printer does not know
    active: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterState:
    """Everything live about a printer. Replaced, never mutated.

    Units: temperatures in degrees Celsius, progress in percent (0-100),
    durations in whole seconds, fan speeds and speed factor in percent,
    Wi-Fi signal in dBm, filament in millimetres.
    """

    connected: bool = False
    status: PrintStatus = PrintStatus.OFFLINE
    native_status: str | None = None
    progress: float | None = None
    remaining_s: int | None = None
    elapsed_s: int | None = None
    job: str | None = None
    layer: int | None = None
    total_layers: int | None = None
    nozzle_temp: float | None = None
    nozzle_target: float | None = None
    bed_temp: float | None = None
    bed_target: float | None = None
    chamber_temp: float | None = None
    error: str | None = None
    fan_part_cooling: int | None = None
    fan_auxiliary: int | None = None
    fan_chamber: int | None = None
    speed_factor: int | None = None
    speed_preset: str | None = None
    light_on: bool | None = None
    door_open: bool | None = None
    wifi_signal: int | None = None
    filament_used_mm: float | None = None
    ams_trays: tuple[AmsTray, ...] = ()
    hms_errors: tuple[str, ...] = ()
    thumbnail_id: str | None = None  # changes whenever the job's thumbnail changes
    control_available: bool = True
    control_unavailable_reason: Reason | None = None
    notices: frozenset[PrinterNotice] = frozenset()  # conditions the user must fix

    def updated(self, update: StateUpdate) -> PrinterState:
        """This state with ``update`` applied (fields it does not name are kept)."""
        return replace(self, **update)

    def fan_speed(self, fan: FanKind) -> int | None:
        """The reported speed of one fan in percent (None: not reported)."""
        return _FAN_SPEEDS[fan](self)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (enums as their values)."""
        data = asdict(self)
        data["status"] = self.status.value
        reason = self.control_unavailable_reason
        data["control_unavailable_reason"] = None if reason is None else reason.value
        data["notices"] = sorted(notice.value for notice in self.notices)
        return data


class StateUpdate(TypedDict, total=False):
    """The fields one message changes; a parser returns one, the client applies it.

    Every key is a ``PrinterState`` field with its type, so mypy checks each one.
    """

    connected: bool
    status: PrintStatus
    native_status: str | None
    progress: float | None
    remaining_s: int | None
    elapsed_s: int | None
    job: str | None
    layer: int | None
    total_layers: int | None
    nozzle_temp: float | None
    nozzle_target: float | None
    bed_temp: float | None
    bed_target: float | None
    chamber_temp: float | None
    error: str | None
    fan_part_cooling: int | None
    fan_auxiliary: int | None
    fan_chamber: int | None
    speed_factor: int | None
    speed_preset: str | None
    light_on: bool | None
    door_open: bool | None
    wifi_signal: int | None
    filament_used_mm: float | None
    ams_trays: tuple[AmsTray, ...]
    hms_errors: tuple[str, ...]
    thumbnail_id: str | None
    control_available: bool
    control_unavailable_reason: Reason | None
    notices: frozenset[PrinterNotice]


def present(update: StateUpdate) -> StateUpdate:
    """``update`` without the fields whose value is None (the state keeps what it knows)."""
    return cast("StateUpdate", {key: value for key, value in update.items() if value is not None})


_FAN_SPEEDS: dict[FanKind, Callable[[PrinterState], int | None]] = {
    FanKind.PART_COOLING: lambda state: state.fan_part_cooling,
    FanKind.AUXILIARY: lambda state: state.fan_auxiliary,
    FanKind.CHAMBER: lambda state: state.fan_chamber,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionOptions:
    """Everything needed to reach one printer, whatever its kind.

    The probe CLI and the integration's config flow both fill this and hand
    it to ``create_client``. Fields a kind does not use are ignored by it.
    """

    kind: PrinterKind
    host: str
    port: int | None = None
    #: Bambu: the serial (TLS name); Elegoo: the MainboardID; OctoPrint: an instance UUID.
    serial: str | None = None
    access_code: str | None = None  # Bambu LAN access code
    api_key: str | None = None  # Moonraker, OctoPrint, PrusaLink (instead of a password)
    username: str | None = None  # PrusaLink digest user
    password: str | None = None  # PrusaLink digest password
    camera_port: int | None = None  # Bambu camera socket, Elegoo MJPEG server
    model: str | None = None  # a model code or name the user or discovery knows
    name: str | None = None  # Bambu: the name the printer announced (its reports carry none)
    ca_file: str | None = None  # Bambu: one more CA to trust (a simulator's)
    poll_interval: float | None = None  # seconds between round trips (polls, or probes)
    ssl: bool = False  # OctoPrint: reached over HTTPS
    path: str = "/"  # OctoPrint: base path behind a reverse proxy
    push: bool = True  # OctoPrint: listen to its websocket as well as polling
    stale_after: float | None = None  # seconds without a fresh state before it is stale


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredPrinter:
    """A printer found on the network, whatever the way it was found."""

    kind: PrinterKind
    host: str
    unique_id: str  # the identity the client will report (serial, MainboardID ...)
    port: int | None = None
    name: str | None = None  # the name the printer announced, if any
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    supported: bool = True  # False: seen, but speaks a protocol version printfarm cannot
