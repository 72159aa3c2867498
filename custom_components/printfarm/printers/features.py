"""The public command surface of a client, with the answer for features a kind lacks."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from .commands import check_percent
from .exceptions import PrinterNotSupportedError
from .models import CameraInfo, CameraKind, Capabilities, FanKind, PrinterKind


class Features:
    """What a caller may ask of any printer; kinds override what they can do."""

    kind: ClassVar[PrinterKind]
    host: str
    _capabilities: Capabilities
    _camera: CameraInfo

    def _unsupported(self, what: str) -> PrinterNotSupportedError:
        return PrinterNotSupportedError(f"{self.kind} printer {self.host} has no {what}")

    @abstractmethod
    async def pause(self) -> None:
        """Pause the job; returns when the printer reports paused."""

    @abstractmethod
    async def resume(self) -> None:
        """Resume the job; returns when the printer reports printing again."""

    @abstractmethod
    async def stop(self) -> None:
        """Cancel the job; returns when the printer reports it stopped."""

    async def set_nozzle_target(self, celsius: float) -> None:
        """Set the nozzle target temperature; returns when the printer reports it."""
        raise self._unsupported("settable nozzle temperature")

    async def set_bed_target(self, celsius: float) -> None:
        """Set the bed target temperature; returns when the printer reports it."""
        raise self._unsupported("settable bed temperature")

    async def set_light(self, on: bool) -> None:
        """Switch the chamber light."""
        raise self._unsupported("controllable light")

    async def send_gcode(self, gcode: str) -> None:
        """Send raw G-code."""
        raise self._unsupported("G-code console")

    async def set_speed_factor(self, percent: int) -> None:
        """Set the feed-rate override in percent."""
        raise self._unsupported("speed factor")

    async def set_speed_preset(self, preset: str) -> None:
        """Choose one of ``capabilities.speed_presets``."""
        raise self._unsupported("speed presets")

    async def set_fan_speed(self, fan: FanKind, percent: int) -> None:
        """Set one of ``capabilities.controllable_fans`` to ``percent`` (0-100).

        Returns once the printer reports the new speed, where it reports fan
        speeds at all. Raises PrinterNotSupportedError for a fan it cannot
        set and PrinterCommandError ``invalid_value`` for a bad percentage.
        """
        self._check_fan(fan, percent)
        raise self._unsupported("controllable fan")

    def _check_fan(self, fan: FanKind | str, percent: int) -> FanKind:
        """Validate a fan request before anything is sent; returns the fan."""
        try:
            kind = FanKind(fan)
        except ValueError:
            raise PrinterNotSupportedError(f"{self.host}: there is no fan {fan!r}") from None
        if kind not in self._capabilities.controllable_fans:
            raise self._unsupported(f"settable {kind.value} fan")
        check_percent(percent, 0, 100, f"{kind.value} fan")
        return kind

    async def emergency_stop(self) -> None:
        """Halt the machine at once (Klipper)."""
        raise self._unsupported("emergency stop")

    async def firmware_restart(self) -> None:
        """Restart the firmware (Klipper)."""
        raise self._unsupported("firmware restart")

    async def pair(self, app_name: str) -> dict[str, str]:
        """Ask the printer for a credential the user approves there; returns the fields.

        Only kinds whose descriptor names a pairing do this (OctoPrint's app keys).
        """
        raise self._unsupported("pairing")

    async def open_stream(self) -> str | None:
        """Make the camera's stream available; return its URL (None: no stream).

        Call ``close_stream()`` when the viewer leaves: some printers serve a
        single stream that also counts against their connection limit.
        """
        return self._camera.stream_url if self._camera.kind is CameraKind.MJPEG else None

    async def close_stream(self) -> None:
        """Release what ``open_stream()`` took."""

    async def snapshot(self) -> bytes:
        """Return one JPEG frame from the printer's camera."""
        raise self._unsupported("camera")

    async def thumbnail(self) -> bytes | None:
        """Return the current job's thumbnail (PNG or JPEG), or None."""
        return None
