"""Elegoo commands and camera: print control, Cmd 403 device parameters, the MJPEG switch."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from yarl import URL

from .. import commands as cmd
from ..commands import Command, check_temperature
from ..engine import Ack
from ..exceptions import (
    PrinterCommandError,
    PrinterConnectionError,
    PrinterError,
    PrinterNotSupportedError,
    PrinterProtocolError,
    Reason,
)
from ..http import transport_error
from ..limits import MAX_IMAGE_BYTES, MAX_URL_LENGTH
from ..models import CameraKind, FanKind, PrintFile, PrintStatus
from .camera import read_first_jpeg
from .client import ElegooClientBase
from .const import SPEED_PRESETS, STORAGES, Cmd
from .parse import parse_file_list
from .status import Flavor

#: ``TargetFanSpeed`` / ``CurrentFanSpeed`` keys of each fan.
_FAN_KEYS = {
    FanKind.PART_COOLING: "ModelFan",
    FanKind.AUXILIARY: "AuxiliaryFan",
    FanKind.CHAMBER: "BoxFan",
}


def video_url(reported: object, host: str, default: str) -> str:
    """The stream URL the printer named, moved to the host this client reaches it by.

    The printer names itself by its own IP. Anything that is not a short,
    printable ASCII http(s) URL gives ``default``.
    """
    if (
        not isinstance(reported, str)
        or not reported
        or len(reported) > MAX_URL_LENGTH
        or not reported.isascii()
        or not reported.isprintable()
    ):
        return default
    try:
        url = URL(reported if "://" in reported else f"http://{reported}")
        if url.scheme not in ("http", "https") or not url.host:
            return default
        return str(url.with_host(host))
    except (ValueError, TypeError, UnicodeError):
        return default


class ElegooClient(ElegooClientBase):
    """Client of one Elegoo SDCP v3 printer (Centauri Carbon, SDCP v3 resin printers)."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        """See ``ElegooClientBase``."""
        super().__init__(host, **kwargs)
        self._camera_lock = asyncio.Lock()
        self._video_held = False  # enable_video(on=True) was called by a stream user

    async def _do(self, command: Command, code: Cmd, data: dict[str, Any] | None = None) -> None:
        async def send() -> Ack:
            await self._request(code, data or {})
            return None

        try:
            await self._run(command, send)
        except PrinterCommandError as err:
            if code is not Cmd.DEVICE_PARAMS or err.reason is not Reason.NOT_CONFIRMED:
                raise
            if self._state.status not in (PrintStatus.PRINTING, PrintStatus.PREPARING):
                raise
            raise PrinterCommandError(
                f"{command.name}: the printer accepted the change but its status does not show "
                "it; some firmware (Centauri Carbon 1.1.29) ignores it while printing",
                reason=Reason.NOT_CONFIRMED,
            ) from err

    # ---------------------------------------------------------------- files

    async def _list_files(self) -> list[PrintFile]:
        """Cmd 258 on each storage; one that refuses (no USB stick) is left out."""
        files: list[PrintFile] = []
        for storage in STORAGES:
            try:
                data = await self._request(Cmd.LIST_FILES, {"Url": storage})
            except PrinterCommandError:
                continue
            files.extend(parse_file_list(data, storage))
        return files

    async def _send_start(self, path: str) -> Ack:
        """Cmd 128 from the first layer; the ack's code names a refusal (busy, no file ...)."""
        await self._request(Cmd.START_PRINT, {"Filename": path, "StartLayer": 0})
        return None

    async def _last_job_file(self) -> str | None:
        """The stored file named like the last job (the status names it without its storage)."""
        name = self.last_job_name
        if name is None:
            return None
        for file in await self.list_files():
            if file.path.rsplit("/", 1)[-1] == name:
                return file.path
        raise PrinterCommandError(
            f"reprint: {name} is no longer on {self.host}", reason=Reason.FILE_NOT_FOUND
        )

    async def pause(self) -> None:
        """Pause (Cmd 129); returns once the printer reports pausing or paused."""
        await self._do(cmd.PAUSE, Cmd.PAUSE)

    async def resume(self) -> None:
        """Resume (Cmd 131); returns once the printer reports printing again."""
        await self._do(cmd.RESUME, Cmd.RESUME)

    async def stop(self) -> None:
        """Cancel the job (Cmd 130); returns once the printer reports stopped."""
        await self._do(cmd.STOP, Cmd.STOP)

    def _require_fdm(self, what: str) -> None:
        if self.flavor is not Flavor.FDM:
            raise PrinterNotSupportedError(f"{what}: resin printers have no such control")

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target (Cmd 403 ``TempTargetNozzle``), confirmed by status."""
        self._require_fdm("nozzle target")
        limit = self.descriptor.limits.nozzle_max
        target = round(check_temperature(celsius, limit, "nozzle target"))
        await self._do(cmd.nozzle_target(target), Cmd.DEVICE_PARAMS, {"TempTargetNozzle": target})

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target (Cmd 403 ``TempTargetHotbed``), confirmed by status."""
        self._require_fdm("bed target")
        target = round(check_temperature(celsius, self.descriptor.limits.bed_max, "bed target"))
        await self._do(cmd.bed_target(target), Cmd.DEVICE_PARAMS, {"TempTargetHotbed": target})

    async def set_light(self, on: bool) -> None:
        """Switch the chamber light (Cmd 403 ``LightStatus.SecondLight``)."""
        self._require_fdm("light")
        data = {"LightStatus": {"SecondLight": on, "RgbLight": list(self._rgb)}}
        await self._do(cmd.light(on), Cmd.DEVICE_PARAMS, data)

    async def set_speed_preset(self, preset: str) -> None:
        """Choose a speed preset (silent, balanced, sport, ludicrous) via ``PrintSpeedPct``.

        The printer applies presets only during a job.
        """
        self._require_fdm("speed")
        if preset not in SPEED_PRESETS:
            raise PrinterCommandError(
                f"speed: {preset!r} is not one of {', '.join(SPEED_PRESETS)}",
                reason=Reason.INVALID_VALUE,
            )
        percent = SPEED_PRESETS[preset]
        command = cmd.speed_preset(preset, needs_job=True)
        await self._do(command, Cmd.DEVICE_PARAMS, {"PrintSpeedPct": percent})

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set a fan (Cmd 403 ``TargetFanSpeed``, 0-100), confirmed by ``CurrentFanSpeed``."""
        kind = self._check_fan(fan, percent)
        self._require_fdm(f"{kind.value} fan")
        command = cmd.fan(kind, percent, self.descriptor.fan_step)
        await self._do(command, Cmd.DEVICE_PARAMS, {"TargetFanSpeed": {_FAN_KEYS[kind]: percent}})

    # ------------------------------------------------------------ camera

    async def enable_video(self, *, on: bool) -> str:
        """Switch the MJPEG server on or off (Cmd 386); return the stream URL.

        Only one stream may be open at a time, and an open stream counts
        against the printer's client limit: switch it off when done. While it
        is switched on here, ``snapshot()`` leaves it on.
        """
        url = await self._switch_video(on=on)
        self._video_held = on
        return url

    async def open_stream(self) -> str | None:
        """Switch the MJPEG server on for a viewer (see ``enable_video``)."""
        if self._camera.kind is CameraKind.NONE:
            return None
        return await self.enable_video(on=True)

    async def close_stream(self) -> None:
        """Switch the MJPEG server off again when the viewer leaves."""
        if self._video_held and self.connected:
            await self.enable_video(on=False)

    async def _switch_video(self, *, on: bool) -> str:
        if not self._state.connected:
            raise PrinterConnectionError(f"printer {self.host} is offline")
        data = await self._request(Cmd.VIDEO, {"Enable": 1 if on else 0})
        return video_url(data.get("VideoUrl"), self.host, self.stream_url)

    async def snapshot(self) -> bytes:
        """Open the camera, read one JPEG from the MJPEG stream, then release it.

        Raises PrinterCommandError ``camera_busy`` when another viewer holds
        the printer's only stream.
        """
        if self._camera.kind is CameraKind.NONE:
            raise self._unsupported("camera")
        session = await self._session()
        async with self._camera_lock:
            url = await self._switch_video(on=True)
            try:
                async with (
                    asyncio.timeout(self.request_timeout),
                    session.get(url) as response,
                ):
                    if response.status == 503:
                        raise PrinterCommandError(
                            "the camera's only stream is in use by another viewer",
                            reason=Reason.CAMERA_BUSY,
                        )
                    if response.status != 200:
                        raise PrinterProtocolError(
                            f"the video stream answered HTTP {response.status}"
                        )
                    return await read_first_jpeg(response, MAX_IMAGE_BYTES)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                raise transport_error(err, "the video stream") from err
            finally:
                if not self._video_held:
                    with contextlib.suppress(PrinterError):
                        await self._switch_video(on=False)
