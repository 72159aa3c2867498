"""Image: the current job's thumbnail or cover."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .addon import DetectionError
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .detection import DetectionEntity, PrinterLink, async_add_detection_entities
from .entity import ExistsFn, PrintfarmEntity, async_add_when_present
from .printers import PrinterError

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrintfarmImageDescription(ImageEntityDescription):
    """An image the printer provides."""

    exists_fn: ExistsFn


THUMBNAIL = PrintfarmImageDescription(
    key="thumbnail", translation_key="thumbnail", exists_fn=lambda c, _s: c.thumbnail
)
PNG_MAGIC = b"\x89PNG"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the thumbnail image when the printer provides job thumbnails."""
    coordinator = entry.runtime_data
    async_add_when_present(
        entry, async_add_entities, (THUMBNAIL,), lambda _d: ThumbnailImage(hass, coordinator)
    )
    async_add_detection_entities(
        hass,
        entry,
        coordinator.client.info.unique_id,
        async_add_entities,
        lambda link: [LastDetectionImage(hass, link)],
    )


class ThumbnailImage(PrintfarmEntity, ImageEntity):
    """The job's preview; refetched when the job changes."""

    def __init__(self, hass: HomeAssistant, coordinator: PrintfarmCoordinator) -> None:
        """Start with the current job's thumbnail id."""
        super().__init__(coordinator, THUMBNAIL)
        ImageEntity.__init__(self, hass)
        self._thumbnail_id = coordinator.data.thumbnail_id
        self._attr_image_last_updated = dt_util.utcnow()
        self._cached: bytes | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        if self.coordinator.data.thumbnail_id != self._thumbnail_id:
            self._thumbnail_id = self.coordinator.data.thumbnail_id
            self._cached = None
            self._attr_image_last_updated = dt_util.utcnow()
        super()._handle_coordinator_update()

    async def async_image(self) -> bytes | None:
        """The thumbnail bytes (PNG or JPEG), fetched once per job."""
        if self._cached is None and self._thumbnail_id is not None:
            try:
                self._cached = await self.coordinator.client.thumbnail()
            except PrinterError:
                return None
            if self._cached is not None:
                is_png = self._cached.startswith(PNG_MAGIC)
                self._attr_content_type = "image/png" if is_png else "image/jpeg"
        return self._cached


LAST_DETECTION = ImageEntityDescription(key="last_detection", translation_key="last_detection")


class LastDetectionImage(DetectionEntity, ImageEntity):
    """The frame of the detection add-on's latest detection, with the evidence drawn."""

    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, link: PrinterLink) -> None:
        """On the printer's device; no image until the first detection."""
        DetectionEntity.__init__(self, link, LAST_DETECTION)
        ImageEntity.__init__(self, hass)
        self._detection_id: int | None = None
        self._cached: bytes | None = None

    @callback
    def _hub_updated(self) -> None:
        printer = self.printer
        detection = printer.detection if printer is not None else None
        if detection is not None and detection.id != self._detection_id:
            self._detection_id = detection.id
            self._cached = None
            self._attr_image_last_updated = dt_util.utc_from_timestamp(detection.time)
        super()._hub_updated()

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """What the detection was."""
        printer = self.printer
        detection = printer.detection if printer is not None else None
        if detection is None:
            return {}
        return {
            "level": detection.level,
            "score": None if detection.score is None else round(detection.score * 100.0, 1),
            "action": detection.action,
            "feedback": detection.feedback,
        }

    async def async_image(self) -> bytes | None:
        """The evidence image, fetched once per detection."""
        printer = self.printer
        if printer is None or self._detection_id is None:
            return None
        if self._cached is None:
            try:
                self._cached = await self.link.hub.client().detection_image(printer.key)
            except DetectionError:
                return None
        return self._cached
