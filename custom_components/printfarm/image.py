"""Image: the current job's thumbnail or cover."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
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
