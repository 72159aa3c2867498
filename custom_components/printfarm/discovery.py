"""printfarm's own discovery: Bambu SSDP announcements and the Elegoo SDCP probe.

Home Assistant's SSDP listener (UDP 1900) never hears Bambu printers, which
broadcast to UDP 2021, and Elegoo printers answer only a probe sent to UDP
3000. One scanner for the whole integration does both, from ``async_setup``
until Home Assistant stops, and offers every printer it finds as an
``integration_discovery`` config flow (the flow aborts for configured
printers and updates their host).

Configuration, read from the environment when the integration is set up
(users need none of it; tests and ``scripts/develop`` point it at loopback):

``PRINTFARM_DISCOVERY``
    ``on`` (default) or ``off``: the whole scanner.
``PRINTFARM_BAMBU_SSDP``
    ``IPV4:PORT`` (or just ``PORT``) to listen on for Bambu NOTIFYs, default
    ``0.0.0.0:2021`` (port 0: any free port, for tests); ``off`` disables the
    listener. Listening sends nothing.
``PRINTFARM_ELEGOO_PROBE``
    comma-separated ``IPV4:PORT`` targets of the ``M99999`` probe, default
    ``255.255.255.255:3000`` (a LAN broadcast); ``off`` disables the probe.
    The probe runs at start and every 5 minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import ipaddress
import os
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import CONF_KIND, CONF_MODEL, CONF_SERIAL, DOMAIN, LOGGER
from .printers import DiscoveredPrinter
from .printers.bambu.ssdp import DEFAULT_LISTEN_HOST, SSDP_PORT, SsdpListener
from .printers.elegoo.const import DISCOVERY_PORT
from .printers.elegoo.discovery import discover

ENV_DISCOVERY = "PRINTFARM_DISCOVERY"
ENV_BAMBU_SSDP = "PRINTFARM_BAMBU_SSDP"
ENV_ELEGOO_PROBE = "PRINTFARM_ELEGOO_PROBE"

DEFAULT_ELEGOO_TARGET = ("255.255.255.255", DISCOVERY_PORT)
#: How often the Elegoo probe runs, and how long each run waits for answers.
PROBE_INTERVAL = timedelta(minutes=5)
PROBE_TIMEOUT = 3.0
#: A printer seen again at the same address within this time is not offered again.
REFIRE_AFTER = timedelta(minutes=15)
#: At most this many printers are remembered (junk announcements cannot grow it).
MAX_REMEMBERED = 256

DATA_SCANNER: HassKey[PrintfarmScanner] = HassKey(f"{DOMAIN}_scanner")

_OFF = {"off", "0", "false", "no", "disabled"}


def _address(value: str, default_host: str, *, any_port: bool = False) -> tuple[str, int] | None:
    """``IPV4:PORT`` or ``PORT`` -> (host, port); None when it is neither.

    ``any_port``: port 0 (the system picks one) is allowed, for listening.
    """
    host, sep, port_text = value.strip().rpartition(":")
    if not sep:
        host, port_text = default_host, value.strip()
    try:
        port = int(port_text)
    except ValueError:
        return None
    if not (0 if any_port else 1) <= port < 65536:
        return None
    try:
        # An IPv4 address: a name would need a (blocking) lookup in sendto.
        host = str(ipaddress.IPv4Address(host.strip()))
    except ValueError:
        return None
    return host, port


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """Where the scanner listens and what it probes."""

    enabled: bool = True
    bambu_listen: tuple[str, int] | None = (DEFAULT_LISTEN_HOST, SSDP_PORT)
    elegoo_targets: tuple[tuple[str, int], ...] = (DEFAULT_ELEGOO_TARGET,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DiscoveryConfig:
        """The configuration the environment asks for; bad values are logged and skipped."""
        enabled = environ.get(ENV_DISCOVERY, "on").strip().lower() not in _OFF
        bambu: tuple[str, int] | None = (DEFAULT_LISTEN_HOST, SSDP_PORT)
        if (raw := environ.get(ENV_BAMBU_SSDP)) is not None:
            if raw.strip().lower() in _OFF:
                bambu = None
            elif (parsed := _address(raw, DEFAULT_LISTEN_HOST, any_port=True)) is not None:
                bambu = parsed
            else:
                LOGGER.warning("Ignoring %s=%r: expected IPV4:PORT or off", ENV_BAMBU_SSDP, raw)
        targets: tuple[tuple[str, int], ...] = (DEFAULT_ELEGOO_TARGET,)
        if (raw := environ.get(ENV_ELEGOO_PROBE)) is not None:
            if raw.strip().lower() in _OFF:
                targets = ()
            else:
                found = []
                for part in filter(None, (p.strip() for p in raw.split(","))):
                    if (target := _address(part, "")) is not None:
                        found.append(target)
                    else:
                        LOGGER.warning(
                            "Ignoring %s target %r: expected IPV4:PORT", ENV_ELEGOO_PROBE, part
                        )
                targets = tuple(found)
        return cls(enabled=enabled, bambu_listen=bambu, elegoo_targets=targets)


class PrintfarmScanner:
    """The Bambu listener and the periodic Elegoo probe, one for the whole integration."""

    def __init__(self, hass: HomeAssistant, config: DiscoveryConfig) -> None:
        """Nothing runs until ``async_start``."""
        self.hass = hass
        self.config = config
        self.listener: SsdpListener | None = None
        self._cancel_interval: CALLBACK_TYPE | None = None
        self._probe_task: asyncio.Task[None] | None = None
        self._offered: dict[str, tuple[str, datetime]] = {}

    async def async_start(self) -> None:
        """Listen for Bambu printers and probe for Elegoo printers now and periodically."""
        if self.config.bambu_listen is not None:
            host, port = self.config.bambu_listen
            listener = SsdpListener(self._async_found, host=host, port=port)
            try:
                await listener.start()
            except OSError as err:
                LOGGER.info(
                    "Not listening for Bambu Lab printers on UDP %s:%s (%s); add them by hand",
                    host,
                    port,
                    err,
                )
            else:
                self.listener = listener
        if self.config.elegoo_targets:
            self._cancel_interval = async_track_time_interval(
                self.hass,
                self._async_probe_elegoo,
                PROBE_INTERVAL,
                name="printfarm Elegoo probe",
            )
            self._async_probe_elegoo()

    async def async_stop(self, _event: Event | None = None) -> None:
        """Close the socket, cancel the timer and any probe in flight."""
        if self._cancel_interval is not None:
            self._cancel_interval()
            self._cancel_interval = None
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
            self._probe_task = None

    # ------------------------------------------------------------- Elegoo

    @callback
    def _async_probe_elegoo(self, _now: datetime | None = None) -> None:
        """Start a probe unless one is still waiting for answers."""
        if self._probe_task is not None and not self._probe_task.done():
            return
        self._probe_task = self.hass.async_create_background_task(
            self._async_probe_all(), "printfarm Elegoo probe"
        )

    async def _async_probe_all(self) -> None:
        results = await asyncio.gather(
            *(
                discover(PROBE_TIMEOUT, target=host, port=port, on_found=self._async_found)
                for host, port in self.config.elegoo_targets
            ),
            return_exceptions=True,
        )
        for (host, port), result in zip(self.config.elegoo_targets, results, strict=True):
            if isinstance(result, OSError):
                LOGGER.debug("Elegoo probe to %s:%s failed: %s", host, port, result)
            elif isinstance(result, BaseException):
                raise result

    @callback
    def _async_found(self, printer: DiscoveredPrinter) -> None:
        """A printer answered the probe or announced itself: offer it, once in a while."""
        if not printer.supported:
            LOGGER.debug(
                "%s printer at %s speaks a protocol version printfarm cannot: not offered",
                printer.kind,
                printer.host,
            )
            return
        self._async_offer(
            printer.unique_id,
            {
                CONF_KIND: printer.kind.value,
                CONF_HOST: printer.host,
                CONF_PORT: printer.port,
                CONF_SERIAL: printer.serial,
                CONF_MODEL: printer.model,
                "unique_id": printer.unique_id,
                # Only a name the printer announced is kept; without one the
                # client names it (Bambu: by model and serial tail).
                "name": printer.name,
            },
        )

    # --------------------------------------------------------------- both

    @callback
    def _async_offer(self, unique_id: str, data: dict[str, Any]) -> None:
        """Start a discovery flow unless this printer was offered lately at this address."""
        host = data[CONF_HOST]
        now = dt_util.utcnow()
        last = self._offered.get(unique_id)
        if last is not None and last[0] == host and now - last[1] < REFIRE_AFTER:
            return
        if last is None and len(self._offered) >= MAX_REMEMBERED:
            oldest = min(self._offered, key=lambda key: self._offered[key][1])
            del self._offered[oldest]
        self._offered[unique_id] = (host, now)
        LOGGER.debug("Discovered %s printer %s at %s", data[CONF_KIND], unique_id, host)
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={key: value for key, value in data.items() if value is not None},
        )


async def async_setup_discovery(hass: HomeAssistant) -> None:
    """Start the scanner (unless switched off) and stop it when Home Assistant stops."""
    config = DiscoveryConfig.from_env(os.environ)
    if not config.enabled or DATA_SCANNER in hass.data:
        return
    scanner = hass.data[DATA_SCANNER] = PrintfarmScanner(hass, config)
    await scanner.async_start()
    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, scanner.async_stop)
