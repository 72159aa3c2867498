"""Numbers of the Elegoo SDCP v3 protocol: ports, command codes, acks, speed presets."""

from __future__ import annotations

from enum import IntEnum

from ..exceptions import Reason

#: Websocket port and path of an SDCP v3 printer.
DEFAULT_PORT = 3030
WEBSOCKET_PATH = "/websocket"
#: Port of the MJPEG server that streams only after ``Cmd.VIDEO`` with ``Enable: 1``.
DEFAULT_VIDEO_PORT = 3031
VIDEO_PATH = "/video"
#: UDP port the printers listen on for the ``M99999`` discovery probe.
DISCOVERY_PORT = 3000
DISCOVERY_PROBE = b"M99999"

#: The printer drops a client it has heard nothing from for about 60 s.
PRINTER_IDLE_DROP_S = 60.0
#: How often the client sends a status refresh (Cmd 0) to stay well inside that window.
KEEPALIVE_INTERVAL_S = 20.0
#: Without a status round trip this long the state is stale (a half-open socket): reconnect.
SILENCE_TIMEOUT_S = 50.0

#: ``From`` value of requests: 0 = "PC on the LAN" in the SDCP spec.
FROM_LAN_CLIENT = 0


class Cmd(IntEnum):
    """SDCP v3 command codes (``Data.Cmd``) this package sends or simulates."""

    STATUS = 0
    ATTRIBUTES = 1
    START_PRINT = 128
    PAUSE = 129
    STOP = 130
    RESUME = 131
    LIST_FILES = 258
    VIDEO = 386
    DEVICE_PARAMS = 403  # light, target temperatures, speed, fans (Centauri Carbon)
    STATUS_PERIOD = 512


#: Ack code -> reason, per command; ``GENERIC_ACKS`` for everything else.
GENERIC_ACKS: dict[int, Reason] = {1: Reason.BUSY}
START_PRINT_ACKS: dict[int, Reason] = {
    1: Reason.BUSY,
    2: Reason.FILE_NOT_FOUND,
    3: Reason.FILE_INVALID,  # MD5 check failed
    4: Reason.FILE_INVALID,  # file read failed
    5: Reason.FILE_INVALID,  # resolution mismatch
    6: Reason.FILE_INVALID,  # unknown format
    7: Reason.FILE_INVALID,  # made for another model
}
VIDEO_ACKS: dict[int, Reason] = {
    1: Reason.CAMERA_BUSY,  # too many streams
    2: Reason.CAMERA_UNAVAILABLE,  # no camera
    3: Reason.CAMERA_UNAVAILABLE,  # camera error
}
#: The storages whose files printfarm lists (Cmd 258 ``Url``); the USB stick may be absent.
STORAGES = ("/local", "/usb")
ACKS_BY_CMD: dict[int, dict[int, Reason]] = {
    Cmd.START_PRINT: START_PRINT_ACKS,
    Cmd.VIDEO: VIDEO_ACKS,
}


def ack_reason(cmd: int, ack: int) -> Reason:
    """Reason of a non-zero ack for ``cmd`` (``rejected`` when unknown)."""
    return ACKS_BY_CMD.get(cmd, GENERIC_ACKS).get(ack, Reason.REJECTED)


#: Centauri Carbon speed presets: name -> ``PrintSpeedPct``.
SPEED_PRESETS: dict[str, int] = {
    "silent": 50,
    "balanced": 100,
    "sport": 130,
    "ludicrous": 160,
}
