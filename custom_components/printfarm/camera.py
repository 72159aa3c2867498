"""Camera: each brand's own transport behind one entity.

MJPEG-capable printers (Moonraker, OctoPrint, Prusa-Link, Elegoo) and Bambu's
TLS JPEG socket are served as MJPEG built from the client's ``snapshot()``;
printers with a direct MJPEG URL are proxied; Bambu X1/H2 hand Home Assistant's stream
component a loopback URL of the client's RTSPS relay: the stream component does
not verify the printer's certificate, so it never talks to the printer itself.

The camera option picks live video (the default), still images only (a frame
every few seconds, fetched one at a time, so no printer stream or connection
slot is held open) or no camera at all. RTSPS printers have no still endpoint:
their stills are cut from the stream in both modes.
"""

from __future__ import annotations

import contextlib

from aiohttp import web
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.components.stream import CONF_RTSP_TRANSPORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import (
    async_aiohttp_proxy_web,
    async_get_clientsession,
)
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CAMERA_OFF, CAMERA_SNAPSHOT, camera_mode
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import PrintfarmEntity
from .helpers import translate_error
from .printers import CameraKind, PrinterError

PARALLEL_UPDATES = 1

CAMERA = EntityDescription(key="camera", translation_key="camera")

#: Seconds between frames when the camera shows still images only.
SNAPSHOT_INTERVAL = 5.0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the camera when the printer has one and the user wants it."""
    coordinator = entry.runtime_data
    if coordinator.client.camera.kind is CameraKind.NONE:
        return
    mode = camera_mode(entry.options)
    if mode == CAMERA_OFF:
        return
    async_add_entities([PrinterCamera(coordinator, stills_only=mode == CAMERA_SNAPSHOT)])


class PrinterCamera(PrintfarmEntity, Camera):
    """The printer's camera."""

    _attr_frame_interval = 1.0

    def __init__(self, coordinator: PrintfarmCoordinator, *, stills_only: bool = False) -> None:
        """Pick the transport from the printer's camera info."""
        super().__init__(coordinator, CAMERA)
        Camera.__init__(self)
        self._camera = coordinator.client.camera
        self._stills_only = stills_only
        if stills_only:
            self._attr_frame_interval = SNAPSHOT_INTERVAL
        if self._camera.kind is CameraKind.RTSPS:
            self._attr_supported_features = CameraEntityFeature.STREAM
            # the relay speaks RTSP over one TCP connection (no RTP over UDP beside it)
            self.stream_options[CONF_RTSP_TRANSPORT] = "tcp"

    @property
    def use_stream_for_stills(self) -> bool:
        """RTSPS printers have no still endpoint: Home Assistant cuts stills from the stream."""
        return self._camera.kind is CameraKind.RTSPS

    async def stream_source(self) -> str | None:
        """The verified relay's loopback URL, for printers that stream over RTSPS."""
        if self._camera.kind is not CameraKind.RTSPS:
            return None
        try:
            return await self.coordinator.client.open_stream()
        except PrinterError:
            return None

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """One JPEG frame from the printer."""
        if not self.coordinator.data.connected:
            return None
        try:
            return await self.coordinator.client.snapshot()
        except PrinterError as err:
            raise translate_error(err, self.coordinator.config_entry.title) from err

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """Proxy the printer's MJPEG stream; otherwise build one from snapshots."""
        if self._stills_only:
            return await self.handle_async_still_stream(request, self.frame_interval)
        client = self.coordinator.client
        try:
            url = await client.open_stream()
        except PrinterError:
            url = None
        if url is None:
            return await super().handle_async_mjpeg_stream(request)
        try:
            session = async_get_clientsession(self.hass)
            return await async_aiohttp_proxy_web(self.hass, request, session.get(url))
        finally:
            with contextlib.suppress(PrinterError):
                await client.close_stream()
