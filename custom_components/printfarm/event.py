"""Event: the print lifecycle (started, paused, resumed, finished, cancelled, failed)."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .entity import PrintfarmEntity
from .printers import PrinterState, PrintStatus

PARALLEL_UPDATES = 0

EVENT_TYPES = ["started", "paused", "resumed", "finished", "cancelled", "failed"]

PRINT_EVENT = EventEntityDescription(
    key="print_event", translation_key="print_event", event_types=EVENT_TYPES
)

_RUNNING = (PrintStatus.PREPARING, PrintStatus.PRINTING)


def lifecycle_event(old: PrintStatus | None, new: PrintStatus) -> str | None:
    """The lifecycle event a status change means, if any.

    ``offline`` in between is ignored: a printer that drops off the network
    mid-print and comes back printing did not start a new job.
    """
    if old is None or old is new or PrintStatus.OFFLINE in (old, new):
        return None
    if new in _RUNNING:
        if old is PrintStatus.PAUSED:
            return "resumed"
        if old in _RUNNING:
            return None
        return "started"
    return {
        PrintStatus.PAUSED: "paused",
        PrintStatus.FINISHED: "finished",
        PrintStatus.CANCELLED: "cancelled",
        PrintStatus.ERROR: "failed",
    }.get(new)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintfarmConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One lifecycle event entity per printer."""
    async_add_entities([PrintEventEntity(entry.runtime_data)])


class PrintEventEntity(PrintfarmEntity, EventEntity):
    """Fires when a job starts, pauses, resumes or ends."""

    def __init__(self, coordinator: PrintfarmCoordinator) -> None:
        """Remember the status seen last (offline excluded)."""
        super().__init__(coordinator, PRINT_EVENT)
        self._last_status: PrintStatus | None = self._known(coordinator.data)

    @staticmethod
    def _known(state: PrinterState) -> PrintStatus | None:
        return None if state.status is PrintStatus.OFFLINE else state.status

    @callback
    def _handle_coordinator_update(self) -> None:
        state = self.coordinator.data
        status = self._known(state)
        if status is not None:
            event = lifecycle_event(self._last_status, status)
            self._last_status = status
            if event is not None:
                self._trigger_event(event, {"job": state.job})
        super()._handle_coordinator_update()
