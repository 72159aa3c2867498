"""A simulated print job that every simulated printer shares the logic of.

Time is the monotonic clock multiplied by ``speed``, so tests can run a
whole job in seconds. The job is a small state machine; each brand simulator
translates its phase into that brand's own words and fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
import math
import time


class Phase(StrEnum):
    """Brand-neutral phases of the simulated machine."""

    IDLE = "idle"
    HEATING = "heating"  # preparing: heating up before the first layer
    PRINTING = "printing"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    ERROR = "error"


ACTIVE = frozenset({Phase.HEATING, Phase.PRINTING, Phase.PAUSED})


class JobError(Exception):
    """A command that does not fit the job's phase (the brand decides the answer)."""


@dataclass(slots=True)
class Snapshot:
    """The job as seen at one instant."""

    phase: Phase
    file: str | None
    progress: float  # 0..1
    elapsed_s: float
    remaining_s: float
    layer: int
    total_layers: int
    nozzle_temp: float
    nozzle_target: float
    bed_temp: float
    bed_target: float
    chamber_temp: float
    error: str | None
    speed_factor: int
    fan: int
    light_on: bool
    aux_fan: int = 0
    chamber_fan: int = 0


class PrintJob:
    """One printer's mechanics: heaters, job progress, pause/resume/cancel/fail."""

    def __init__(
        self,
        *,
        file: str = "benchy.gcode",
        duration_s: float = 1800.0,
        heat_s: float = 20.0,
        total_layers: int = 120,
        nozzle_print_target: float = 215.0,
        bed_print_target: float = 60.0,
        speed: float = 1.0,
        start_printing: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Create the job; it starts at once unless ``start_printing`` is false."""
        self._clock = clock or time.monotonic
        self.speed = speed
        self.duration_s = duration_s
        self.heat_s = heat_s
        self.total_layers = total_layers
        self.nozzle_print_target = nozzle_print_target
        self.bed_print_target = bed_print_target
        self.file: str | None = None
        self.phase = Phase.IDLE
        self.error: str | None = None
        self.speed_factor = 100
        self.fan = 0  # part-cooling fan, percent
        self.aux_fan = 0
        self.chamber_fan = 0
        self.light_on = True
        self.nozzle_target = 0.0
        self.bed_target = 0.0
        self._nozzle = 25.0
        self._bed = 25.0
        self._ambient = 25.0
        self._printed = 0.0  # simulated seconds of printing done
        self._heated = 0.0
        self._last = self._clock()
        self._listeners: list[Callable[[], None]] = []
        if start_printing:
            self.start(file)

    # -------------------------------------------------------------- clock

    def _advance(self) -> None:
        now = self._clock()
        dt = max(0.0, (now - self._last) * self.speed)
        self._last = now
        if dt == 0:
            return
        # heaters: first-order approach to target, tau 8 s
        k = 1 - math.exp(-dt / 8.0)
        self._nozzle += ((self.nozzle_target or self._ambient) - self._nozzle) * k
        self._bed += ((self.bed_target or self._ambient) - self._bed) * k
        if self.phase is Phase.HEATING:
            self._heated += dt
            if self._heated >= self.heat_s:
                self.phase = Phase.PRINTING
                self.fan, self.aux_fan = 100, 50
                self._notify()
        elif self.phase is Phase.PRINTING:
            self._printed += dt * self.speed_factor / 100
            if self._printed >= self.duration_s:
                self._printed = self.duration_s
                self.phase = Phase.FINISHED
                self.nozzle_target = self.bed_target = 0.0
                self.fan = self.aux_fan = 0
                self._notify()

    def tick(self) -> Snapshot:
        """Advance the clock and return the current snapshot."""
        self._advance()
        progress = self._printed / self.duration_s if self.duration_s else 1.0
        layer = 0
        if self.phase is not Phase.IDLE and self.file is not None:
            layer = min(self.total_layers, max(1, math.ceil(progress * self.total_layers)))
        return Snapshot(
            phase=self.phase,
            file=self.file,
            progress=progress,
            elapsed_s=self._heated + self._printed,
            remaining_s=max(0.0, self.duration_s - self._printed),
            layer=layer,
            total_layers=self.total_layers if self.file else 0,
            nozzle_temp=round(self._nozzle, 1),
            nozzle_target=self.nozzle_target,
            bed_temp=round(self._bed, 1),
            bed_target=self.bed_target,
            chamber_temp=round(self._ambient + (self._bed - self._ambient) * 0.3, 1),
            error=self.error,
            speed_factor=self.speed_factor,
            fan=self.fan,
            light_on=self.light_on,
            aux_fan=self.aux_fan,
            chamber_fan=self.chamber_fan,
        )

    # -------------------------------------------------------------- listeners

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Called after every phase change or command (push simulators report then)."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -------------------------------------------------------------- commands

    def start(self, file: str | None = None) -> None:
        """Start a new job (from idle or any finished state)."""
        self._advance()
        if self.phase in ACTIVE:
            raise JobError("busy")
        self.file = file or self.file or "benchy.gcode"
        self.phase = Phase.HEATING
        self.error = None
        self._printed = 0.0
        self._heated = 0.0
        self.nozzle_target = self.nozzle_print_target
        self.bed_target = self.bed_print_target
        self._notify()

    def pause(self) -> None:
        """Pause a running job."""
        self._advance()
        if self.phase not in (Phase.PRINTING, Phase.HEATING):
            raise JobError("not printing")
        self.phase = Phase.PAUSED
        self._notify()

    def resume(self) -> None:
        """Resume a paused job."""
        self._advance()
        if self.phase is not Phase.PAUSED:
            raise JobError("not paused")
        self.phase = Phase.PRINTING if self._heated >= self.heat_s else Phase.HEATING
        self._notify()

    def cancel(self) -> None:
        """Cancel the running job."""
        self._advance()
        if self.phase not in ACTIVE:
            raise JobError("not printing")
        self.phase = Phase.CANCELLED
        self.nozzle_target = self.bed_target = 0.0
        self.fan = self.aux_fan = 0
        self._notify()

    def fail(self, reason: str = "Thermal runaway on extruder") -> None:
        """Make the printer fail (as told by a test or the CLI)."""
        self._advance()
        self.phase = Phase.ERROR
        self.error = reason
        self.nozzle_target = self.bed_target = 0.0
        self.fan = self.aux_fan = 0
        self._notify()

    def clear(self) -> None:
        """Acknowledge an error or finished job: back to idle."""
        self._advance()
        if self.phase in ACTIVE:
            raise JobError("busy")
        self.phase = Phase.IDLE
        self.error = None
        self._notify()

    def set_nozzle_target(self, celsius: float) -> None:
        """Set the hotend target."""
        self._advance()
        self.nozzle_target = float(celsius)
        self._notify()

    def set_bed_target(self, celsius: float) -> None:
        """Set the bed target."""
        self._advance()
        self.bed_target = float(celsius)
        self._notify()

    def set_light(self, on: bool) -> None:
        """Switch the chamber light."""
        self.light_on = on
        self._notify()

    def set_fan(self, fan: str, percent: int) -> None:
        """Set the ``part``, ``aux`` or ``chamber`` fan (percent, clamped to 0-100)."""
        self._advance()
        value = max(0, min(100, round(percent)))
        if fan == "part":
            self.fan = value
        elif fan == "aux":
            self.aux_fan = value
        elif fan == "chamber":
            self.chamber_fan = value
        else:
            raise JobError(f"no {fan} fan")
        self._notify()

    def set_speed_factor(self, percent: int) -> None:
        """Feed-rate override."""
        self._advance()
        self.speed_factor = percent
        self._notify()
