"""The farm: every printer of this Home Assistant seen as one.

The farm has a config entry of its own, created by the integration when the
first printer is set up and removed with the last one. Its device and its
entities belong to that entry alone (a device belongs to one entry from Home
Assistant 2026.8), so removing any printer never touches them; printers join
and leave through the ``FarmHub``, which every printer entry registers with
while it is loaded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, TypedDict

from homeassistant.config_entries import SOURCE_SYSTEM, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import CONF_KIND, DOMAIN, KIND_ADDON, KIND_FARM, LOGGER
from .coordinator import PrintfarmConfigEntry, PrintfarmCoordinator
from .precision import MINUTE
from .printers import PrinterState, PrintStatus

FARM_UNIQUE_ID = "farm"
FARM_TITLE = "Print farm"
FARM_PLATFORMS = [Platform.BUTTON, Platform.SENSOR]
#: The add-on's event (ml_addon/printfarm_addon/actions.py).
EVENT_DETECTION = "printfarm_detection"
#: How often the print-time total moves on while printers print.
TICK = timedelta(minutes=1)
#: Progress and time left reach the farm at most this often (seconds); a printer's status,
#: job or connection reaches it at once. The farm shows them at minute precision.
PROGRESS_EVERY = 1.0
STORE_VERSION = 1
STORE_SAVE_DELAY = 60.0

HUB_KEY: HassKey[FarmHub] = HassKey(f"{DOMAIN}_farm")

type FarmConfigEntry = ConfigEntry[FarmCoordinator]


def is_farm_entry(entry: ConfigEntry) -> bool:
    """Whether a printfarm entry is the farm rather than a printer."""
    return entry.data.get(CONF_KIND) == KIND_FARM


def is_printer_entry(entry: ConfigEntry) -> bool:
    """Whether a printfarm entry is a printer (not the farm, not the detection add-on)."""
    return entry.data.get(CONF_KIND) not in (KIND_FARM, KIND_ADDON)


def farm_device_info() -> DeviceInfo:
    """The farm's device: named by translation, one per Home Assistant."""
    return DeviceInfo(
        identifiers={(DOMAIN, FARM_UNIQUE_ID)},
        translation_key="farm",
        manufacturer="printfarm",
        model="Print farm",
    )


class FarmCategory(StrEnum):
    """What the farm counts a printer as."""

    PRINTING = "printing"
    PAUSED = "paused"
    IDLE = "idle"
    ERROR = "error"
    OFFLINE = "offline"


def farm_category(state: PrinterState) -> FarmCategory:
    """The one category of a printer's state."""
    if not state.connected or state.status is PrintStatus.OFFLINE:
        return FarmCategory.OFFLINE
    if state.status in (PrintStatus.PREPARING, PrintStatus.PRINTING):
        return FarmCategory.PRINTING
    if state.status is PrintStatus.PAUSED:
        return FarmCategory.PAUSED
    if state.status is PrintStatus.ERROR:
        return FarmCategory.ERROR
    return FarmCategory.IDLE


@dataclass(frozen=True, slots=True)
class FarmPrinter:
    """One printer as the farm sees it."""

    entry_id: str
    device_id: str | None
    name: str
    category: FarmCategory
    status: PrintStatus
    job: str | None
    progress: float | None
    remaining_s: int | None


@dataclass(frozen=True, slots=True)
class FarmState:
    """The farm at one moment. Replaced, never mutated."""

    printers: tuple[FarmPrinter, ...] = ()
    next_printer: str | None = None
    next_finish: datetime | None = None
    print_time_today_s: int = 0
    failures_today: int = 0
    counts: dict[FarmCategory, int] = field(default_factory=dict)

    def count(self, category: FarmCategory) -> int:
        """Printers in ``category``."""
        return self.counts.get(category, 0)

    @property
    def utilisation(self) -> float | None:
        """Percent of the farm's printers that are printing (None without printers)."""
        if not self.printers:
            return None
        return round(100.0 * self.count(FarmCategory.PRINTING) / len(self.printers), 1)


class FarmHub:
    """The loaded printers; the farm and voice follow it."""

    def __init__(self, hass: HomeAssistant) -> None:
        """No printers yet."""
        self.hass = hass
        self.printers: dict[str, PrintfarmCoordinator] = {}
        self._listeners: list[CALLBACK_TYPE] = []

    @callback
    def add_printer(self, entry: PrintfarmConfigEntry) -> CALLBACK_TYPE:
        """A printer entry loaded; returns the remover for its unload."""
        self.printers[entry.entry_id] = entry.runtime_data
        self._notify()

        @callback
        def remove() -> None:
            if self.printers.pop(entry.entry_id, None) is not None:
                self._notify()

        return remove

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Called when a printer joins or leaves; returns the remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _device(self, entry_id: str) -> dr.DeviceEntry | None:
        """The printer's device in the registry (None before its entities exist)."""
        devices = dr.async_entries_for_config_entry(dr.async_get(self.hass), entry_id)
        return devices[0] if devices else None

    def device_id(self, entry_id: str) -> str | None:
        """The id of the printer's device (None before its entities exist)."""
        device = self._device(entry_id)
        return device.id if device else None

    def name(self, entry_id: str, device: dr.DeviceEntry | None = None) -> str:
        """The printer's name as the user sees it: their own, the device's, the entry's."""
        device = device or self._device(entry_id)
        if device and (device.name_by_user or device.name):
            return str(device.name_by_user or device.name)
        coordinator = self.printers.get(entry_id)
        if coordinator is not None:
            return coordinator.config_entry.title
        return entry_id

    def snapshot(self) -> tuple[FarmPrinter, ...]:
        """Every loaded printer now, sorted by name (one registry look-up per printer)."""
        printers = []
        for entry_id, coordinator in self.printers.items():
            state: PrinterState | None = coordinator.data  # None before its first state
            if state is None:
                continue
            device = self._device(entry_id)
            printers.append(
                FarmPrinter(
                    entry_id=entry_id,
                    device_id=device.id if device else None,
                    name=self.name(entry_id, device),
                    category=farm_category(state),
                    status=state.status if state.connected else PrintStatus.OFFLINE,
                    job=state.job,
                    progress=state.progress,
                    remaining_s=state.remaining_s,
                )
            )
        return tuple(sorted(printers, key=lambda p: (p.name.casefold(), p.entry_id)))


@callback
def async_get_farm_hub(hass: HomeAssistant) -> FarmHub:
    """The one hub of this Home Assistant."""
    if (hub := hass.data.get(HUB_KEY)) is None:
        hub = hass.data[HUB_KEY] = FarmHub(hass)
    return hub


class _Stored(TypedDict):
    day: str
    print_seconds: float
    failures: int


@dataclass(slots=True)
class DailyTotals:
    """Today's print time and caught failures; they start again at local midnight."""

    day: date
    print_seconds: float = 0.0
    failures: int = 0

    def roll(self, today: date) -> None:
        """Start a new day's totals when the date changed."""
        if today != self.day:
            self.day = today
            self.print_seconds = 0.0
            self.failures = 0

    def as_stored(self) -> _Stored:
        """What the store keeps."""
        return {
            "day": self.day.isoformat(),
            "print_seconds": self.print_seconds,
            "failures": self.failures,
        }

    @classmethod
    def from_stored(cls, data: Any, today: date) -> DailyTotals:
        """Today's totals from the store (a day that is over, or bad data, starts at zero)."""
        if isinstance(data, dict):
            try:
                day = date.fromisoformat(str(data.get("day")))
                seconds = float(data.get("print_seconds", 0.0))
                failures = int(data.get("failures", 0))
            except (TypeError, ValueError):
                return cls(day=today)
            if day == today and seconds >= 0 and failures >= 0:
                return cls(day=today, print_seconds=seconds, failures=failures)
        return cls(day=today)


def _next_to_finish(
    printers: tuple[FarmPrinter, ...], shown: str | None = None
) -> tuple[str | None, datetime | None]:
    """The printing printer with the least time left, and when it finishes.

    The printer ``shown`` now stays next while it finishes within a minute of
    the first: printers on the same job would otherwise take turns with every
    report. The exact moment: the sensor shows it to the minute (precision.py).
    """
    running = [
        p for p in printers if p.category is FarmCategory.PRINTING and p.remaining_s is not None
    ]
    if not running:
        return None, None
    first = min(running, key=lambda p: (p.remaining_s or 0, p.name.casefold()))
    current = next((p for p in running if p.name == shown), None)
    if current is not None and (current.remaining_s or 0) - (first.remaining_s or 0) < MINUTE:
        first = current
    return first.name, dt_util.utcnow() + timedelta(seconds=first.remaining_s or 0)


class FarmCoordinator(DataUpdateCoordinator[FarmState]):
    """Keeps ``data`` equal to the farm's state; pushed by the printers, never polled."""

    config_entry: FarmConfigEntry

    def __init__(self, hass: HomeAssistant, entry: FarmConfigEntry) -> None:
        """Follows the hub once started."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} farm",
            update_interval=None,
            always_update=False,
        )
        self.hub = async_get_farm_hub(hass)
        self._store: Store[_Stored] = Store(hass, STORE_VERSION, f"{DOMAIN}.farm")
        self.totals = DailyTotals(day=dt_util.now().date())
        self._printing = 0
        self._last_tick = dt_util.utcnow()
        self._followed: dict[str, CALLBACK_TYPE] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._seen: dict[str, tuple[object, ...]] = {}
        self._pending: asyncio.TimerHandle | None = None

    async def _async_setup(self) -> None:
        """Today's totals from the store; follow printers, the add-on's events and the clock."""
        self.totals = DailyTotals.from_stored(await self._store.async_load(), dt_util.now().date())
        self._unsubs = [
            self.hub.async_add_listener(self._printers_changed),
            self.hass.bus.async_listen(EVENT_DETECTION, self._detection),
            async_track_time_interval(self.hass, self._tick, TICK),
        ]
        self._printers_changed()

    async def _async_update_data(self) -> FarmState:
        return self._compute()

    @callback
    def _printers_changed(self) -> None:
        """Follow every loaded printer's coordinator, and only those."""
        for entry_id in set(self._followed) - set(self.hub.printers):
            self._followed.pop(entry_id)()
            self._seen.pop(entry_id, None)
        for entry_id, coordinator in self.hub.printers.items():
            if entry_id not in self._followed:
                self._followed[entry_id] = coordinator.async_add_listener(
                    partial(self._printer_updated, entry_id, coordinator)
                )
        self._recompute()

    @callback
    def _printer_updated(self, entry_id: str, coordinator: PrintfarmCoordinator) -> None:
        """A printer's state changed: at once when the farm counts it differently, else soon.

        Printers report several times a second; recomputing the farm on each report costs
        a pass over every printer, so a farm of N printers would do N passes per round.
        """
        state = coordinator.data
        key = (
            None
            if state is None
            else (state.connected, state.status, farm_category(state), state.job)
        )
        if self._seen.get(entry_id) != key:
            self._seen[entry_id] = key
            self._recompute()
        elif self._pending is None:
            self._pending = self.hass.loop.call_later(PROGRESS_EVERY, self._recompute)

    @callback
    def _detection(self, event: Event[dict[str, Any]]) -> None:
        """The add-on caught a failing print."""
        if event.data.get("level") != "failure":
            return
        self._advance()
        self.totals.failures += 1
        self._save()
        self._recompute()

    @callback
    def _tick(self, _now: datetime) -> None:
        self._recompute()

    @callback
    def _advance(self) -> None:
        """Add the time since the last look to today's print time."""
        now = dt_util.utcnow()
        local = dt_util.as_local(now)
        if local.date() != self.totals.day:
            # Only the part after midnight belongs to the new day.
            midnight = dt_util.start_of_local_day(local)
            self._last_tick = max(self._last_tick, dt_util.as_utc(midnight))
            self.totals.roll(local.date())
        elapsed = max((now - self._last_tick).total_seconds(), 0.0)
        if self._printing and elapsed:
            self.totals.print_seconds += elapsed * self._printing
            self._save()
        self._last_tick = now

    @callback
    def _save(self) -> None:
        self._store.async_delay_save(self.totals.as_stored, STORE_SAVE_DELAY)

    def _compute(self) -> FarmState:
        self._advance()
        printers = self.hub.snapshot()
        counts: dict[FarmCategory, int] = {category: 0 for category in FarmCategory}  # noqa: C420
        for printer in printers:
            counts[printer.category] += 1
        self._printing = counts[FarmCategory.PRINTING]
        shown = self.data.next_printer if self.data is not None else None
        next_printer, next_finish = _next_to_finish(printers, shown)
        return FarmState(
            printers=printers,
            next_printer=next_printer,
            next_finish=next_finish,
            print_time_today_s=int(self.totals.print_seconds),
            failures_today=self.totals.failures,
            counts=counts,
        )

    @callback
    def _recompute(self) -> None:
        """Publish the farm's state when it changed."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        state = self._compute()
        if state != self.data:
            self.async_set_updated_data(state)

    async def async_shutdown(self) -> None:
        """Stop following; keep today's totals."""
        await super().async_shutdown()
        for unsub in (*self._unsubs, *self._followed.values()):
            unsub()
        self._unsubs = []
        self._followed = {}
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._advance()
        await self._store.async_save(self.totals.as_stored())


async def async_setup_farm_entry(hass: HomeAssistant, entry: FarmConfigEntry) -> bool:
    """Start the farm's coordinator and its entities."""
    coordinator = FarmCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, FARM_PLATFORMS)
    return True


async def async_unload_farm_entry(hass: HomeAssistant, entry: FarmConfigEntry) -> bool:
    """Remove the farm's entities; its totals are saved."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, FARM_PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded


def _farm_entries(hass: HomeAssistant) -> list[ConfigEntry]:
    return [e for e in hass.config_entries.async_entries(DOMAIN) if is_farm_entry(e)]


@callback
def async_ensure_farm_entry(hass: HomeAssistant) -> None:
    """Create the farm's entry if there is none (a disabled one counts: the user chose)."""
    if _farm_entries(hass):
        return
    if any(
        flow["context"].get("source") == SOURCE_SYSTEM
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ):
        return
    hass.async_create_task(
        hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_SYSTEM}, data={CONF_KIND: KIND_FARM}
        ),
        f"{DOMAIN} farm entry",
    )


@callback
def async_remove_farm_with_last_printer(hass: HomeAssistant, removed_entry_id: str) -> None:
    """The last printer was removed: the farm goes with it."""
    printers = [
        e
        for e in hass.config_entries.async_entries(DOMAIN)
        if is_printer_entry(e) and e.entry_id != removed_entry_id
    ]
    if printers:
        return
    for farm in _farm_entries(hass):
        hass.async_create_task(
            hass.config_entries.async_remove(farm.entry_id), f"{DOMAIN} remove farm"
        )
