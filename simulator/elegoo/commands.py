"""What the simulated Centauri Carbon does with a command: print control, video, parameters."""

from __future__ import annotations

import asyncio
from typing import Any

from ..base import SimOptions
from ..job import ACTIVE, JobError, Phase
from .messages import PAUSING, RESUMING, SPEED_PRESET_PCTS, STOPPING, Messages


class Commands(Messages):
    """Applies SDCP commands to the shared print job."""

    options: SimOptions
    status_period: float
    video_port: int
    video_enabled: bool
    stored: set[str]
    ignore_changes_while_printing: bool
    _video_off: asyncio.Event | None

    async def _broadcast(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _command(self, cmd: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Apply one command; return (Ack, extra response fields)."""
        job = self.job
        try:
            if cmd == 128:
                filename = str(data.get("Filename", ""))
                if job.phase in ACTIVE:
                    return 1, {}
                if filename not in self.stored:
                    return 2, {}
                self._task_id += 1
                job.start(filename.rsplit("/", 1)[-1])
            elif cmd == 129:
                await self._transient(PAUSING, job.phase in (Phase.PRINTING, Phase.HEATING))
                job.pause()
            elif cmd == 130:
                await self._transient(STOPPING, job.phase in ACTIVE)
                job.cancel()
            elif cmd == 131:
                await self._transient(RESUMING, job.phase is Phase.PAUSED)
                job.resume()
            elif cmd == 258:
                return self._file_list(str(data.get("Url", "")))
            elif cmd == 386:
                return 0, self._video(enable=bool(data.get("Enable")))
            elif cmd == 403:
                self._device_params(data)
            elif cmd == 512:
                period = data.get("TimePeriod")
                if isinstance(period, int | float) and period > 0:
                    self.status_period = period / 1000
        except JobError:
            return 1, {}
        return 0, {}

    def _file_list(self, url: str) -> tuple[int, dict[str, Any]]:
        """Cmd 258: the entries right under ``url`` (type 1 a file, 0 a folder), as SDCP v3."""
        folder = url.rstrip("/") + "/"
        if folder not in ("/local/", "/usb/"):
            return 1, {}
        entries: dict[str, int] = {}
        for path in sorted(self.stored):
            if path.startswith(folder):
                head, sep, _rest = path[len(folder) :].partition("/")
                entries[folder + head] = 0 if sep else 1
        listing = [
            {"name": name, "usedSize": 0, "totalSize": 0, "storageType": 0, "type": kind}
            for name, kind in entries.items()
        ]
        return 0, {"FileList": listing}

    async def _transient(self, code: int, applies: bool) -> None:
        if applies:
            await self._broadcast(self._status_message(code))

    def _video(self, *, enable: bool) -> dict[str, Any]:
        assert self._video_off is not None
        self.video_enabled = enable
        if enable:
            self._video_off.clear()
            return {"VideoUrl": f"http://{self.options.host}:{self.video_port}/video"}
        self._video_off.set()
        return {}

    def _device_params(self, data: dict[str, Any]) -> None:
        job = self.job
        frozen = self.ignore_changes_while_printing and job.phase in ACTIVE
        light = data.get("LightStatus")
        if isinstance(light, dict) and not frozen:
            if "SecondLight" in light:
                job.set_light(bool(light["SecondLight"]))
            rgb = light.get("RgbLight")
            if isinstance(rgb, list) and len(rgb) == 3:
                self._rgb = [int(c) for c in rgb]
        if "TempTargetNozzle" in data and not frozen:
            job.set_nozzle_target(float(data["TempTargetNozzle"]))
        if "TempTargetHotbed" in data and not frozen:
            job.set_bed_target(float(data["TempTargetHotbed"]))
        fans = data.get("TargetFanSpeed")
        if isinstance(fans, dict) and not frozen:
            for key, fan in (("ModelFan", "part"), ("AuxiliaryFan", "aux"), ("BoxFan", "chamber")):
                value = fans.get(key)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if 0 <= value <= 100:
                    job.set_fan(fan, round(value))
        speed = data.get("PrintSpeedPct")
        # Only the four presets work, and only during a job; anything else is acked and dropped.
        if speed in SPEED_PRESET_PCTS and job.phase in ACTIVE:
            job.set_speed_factor(int(speed))
