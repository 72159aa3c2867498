"""SDCP status reports turned into printfarm state: ticks, progress, errors, speed presets."""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any

from ..models import (
    CameraInfo,
    CameraKind,
    Capabilities,
    FanKind,
    PrinterInfo,
    PrinterKind,
    StateUpdate,
    present,
)
from .const import SPEED_PRESETS
from .parse import AttributesReport, StatusReport
from .status import FILE_ERRORS, Flavor, ResolvedStatus, resolve_status

# ---------------------------------------------------------------- ticks


#: More than this many "seconds" cannot be a real print: the unit is ms.
_MAX_PLAUSIBLE_S = 10 * 24 * 3600


class TicksClock:
    """Decides, per printer, whether ``*Ticks`` count seconds or milliseconds.

    Starts from the flavor's convention (Centauri Carbon: s, spec/resin: ms),
    switches to ms at once for implausibly long jobs, and locks the unit as
    soon as ``CurrentTicks`` is seen advancing against the wall clock while
    printing (about 1 per second, or about 1000 per second; rates far from
    both, such as a simulator's accelerated clock, leave the guess alone).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """No unit known yet."""
        self._clock = clock
        self._locked: float | None = None
        self._sample: tuple[float, float] | None = None

    @property
    def locked(self) -> bool:
        """Whether the unit has been measured (not guessed)."""
        return self._locked is not None

    def seconds_per_tick(self, flavor: Flavor, report: StatusReport, *, printing: bool) -> float:
        """Observe ``report`` and return the unit in seconds per tick."""
        total = report.total_ticks or 0.0
        if self._locked is None and total > _MAX_PLAUSIBLE_S:
            self._locked = 0.001
        current = report.current_ticks
        if self._locked is None and printing and current is not None:
            self._measure(current)
        elif not printing:
            self._sample = None
        if self._locked is not None:
            return self._locked
        return 1.0 if flavor is Flavor.FDM else 0.001

    def _measure(self, current: float) -> None:
        now = self._clock()
        if self._sample is None:
            self._sample = (now, current)
            return
        then, before = self._sample
        elapsed = now - then
        if current < before or elapsed > 30.0:
            self._sample = (now, current)
            return
        if elapsed < 2.0 or current == before:
            return
        rate = (current - before) / elapsed
        # Narrow bands: a simulator running its clock fast must not be taken for ms.
        if 300 < rate < 3000:
            self._locked = 0.001
        elif 0.3 < rate < 3:
            self._locked = 1.0
        self._sample = (now, current)


# ---------------------------------------------------------------- state


def status_changes(
    report: StatusReport, flavor: Flavor, ticks: TicksClock
) -> tuple[ResolvedStatus | None, StateUpdate]:
    """PrinterState field changes carried by ``report`` (absent fields left out)."""
    changes = present(
        {
            "nozzle_temp": report.nozzle_temp,
            "nozzle_target": report.nozzle_target,
            "bed_temp": report.bed_temp,
            "bed_target": report.bed_target,
            "chamber_temp": report.box_temp,
            "fan_part_cooling": report.fan_model,
            "fan_auxiliary": report.fan_auxiliary,
            "fan_chamber": report.fan_box,
            "light_on": report.light_on,
            "layer": report.layer,
            "total_layers": report.total_layers,
            "speed_factor": report.speed_pct,
            "filament_used_mm": report.current_extrusion,
        }
    )
    resolved: ResolvedStatus | None = None
    if report.print_code is not None or report.machine_codes:
        resolved = resolve_status(flavor, report.print_code, report.machine_codes)
        changes["status"] = resolved.status
        changes["native_status"] = resolved.native
    if report.speed_pct is not None:
        changes["speed_preset"] = speed_preset_name(report.speed_pct)
    if report.filename is not None:
        changes["job"] = report.filename.rsplit("/", 1)[-1] or None
    progress = _progress(report)
    if progress is not None:
        changes["progress"] = progress
    if report.current_ticks is not None and report.total_ticks is not None:
        printing = resolved is not None and resolved.status.value == "printing"
        unit = ticks.seconds_per_tick(flavor, report, printing=printing)
        changes["elapsed_s"] = round(max(0.0, report.current_ticks) * unit)
        changes["remaining_s"] = round(max(0.0, report.total_ticks - report.current_ticks) * unit)
    if report.has_print_info:
        number = report.error_number or 0
        changes["error"] = FILE_ERRORS.get(number, f"error number {number}") if number else None
        if resolved is not None and resolved.status.value == "error" and not changes["error"]:
            changes["error"] = "printer reported an error"
    return resolved, changes


def _progress(report: StatusReport) -> float | None:
    if report.progress is not None:
        return min(100.0, max(0.0, report.progress))
    if report.layer is not None and report.total_layers:
        return round(min(100.0, max(0.0, 100.0 * report.layer / report.total_layers)), 1)
    return None


def speed_preset_name(percent: int) -> str | None:
    """Name of the Centauri Carbon preset for ``percent``, None when it is not one."""
    for name, value in SPEED_PRESETS.items():
        if value == percent:
            return name
    return None


def details(report: StatusReport) -> dict[str, Any]:
    """What a status says that no entity shows (for diagnostics only)."""
    values = {
        "position": list(report.position) if report.position else None,
        "z_offset": report.z_offset,
        "chamber_target": report.box_target,
        "uv_led_temp": report.uvled_temp,
        "task_id": report.task_id or None,
        "print_status_code": report.print_code,
        "machine_status": list(report.machine_codes) or None,
    }
    return {key: value for key, value in values.items() if value is not None}


def identity(
    host: str,
    mainboard: str,
    flavor: Flavor,
    attrs: AttributesReport | None,
    status: StatusReport,
    stream_url: str,
) -> tuple[PrinterInfo, Capabilities, CameraInfo]:
    """Who the printer is and what it can do, from its attributes and first status."""
    fdm = flavor is Flavor.FDM
    name = (attrs.name or attrs.machine_name) if attrs else None
    info = PrinterInfo(
        kind=PrinterKind.ELEGOO,
        unique_id=mainboard,
        name=name or f"Elegoo {host}",
        model=attrs.machine_name if attrs else None,
        serial=mainboard,
        firmware=attrs.firmware if attrs else None,
        host=host,
        configuration_url=f"http://{host}/",
    )
    has_camera = attrs.has_camera if attrs else fdm
    capabilities = Capabilities(
        camera=CameraKind.MJPEG if has_camera else CameraKind.NONE,
        chamber_temperature=status.box_temp is not None,
        light=fdm,
        temperature_control=fdm,
        speed_presets=tuple(SPEED_PRESETS) if fdm else (),
        controllable_fans=_reported_fans(status) if fdm else (),
        layers=True,
        print_files=True,  # Cmd 258 lists the storage, Cmd 128 starts a file
        reprint=True,  # the status keeps the last job's file name
    )
    camera = (
        CameraInfo(kind=CameraKind.MJPEG, stream_url=stream_url) if has_camera else CameraInfo()
    )
    return info, capabilities, camera


def _reported_fans(status: StatusReport) -> tuple[FanKind, ...]:
    """The fans whose speed the printer reports (and so can be set and confirmed)."""
    speeds = (
        (FanKind.PART_COOLING, status.fan_model),
        (FanKind.AUXILIARY, status.fan_auxiliary),
        (FanKind.CHAMBER, status.fan_box),
    )
    return tuple(fan for fan, speed in speeds if speed is not None)
