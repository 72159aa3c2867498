"""Build a protocol client from a config entry's data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import (
    CONF_API_KEY,
    CONF_HOST,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_USERNAME,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.httpx_client import get_async_client

from .const import (
    CONF_ACCESS_CODE,
    CONF_CA_FILE,
    CONF_CAMERA_PORT,
    CONF_KIND,
    CONF_MODEL,
    CONF_SERIAL,
    OPTION_POLL_INTERVAL,
)

# Import every protocol module with the integration (HA does that in its
# executor), so building a client later never imports inside the event loop.
from .printers import (  # noqa: F401
    ConnectionOptions,
    PrinterClient,
    PrinterKind,
    bambu,
    elegoo,
    moonraker,
    octoprint,
    prusalink,
)
from .printers.factory import create_client


def connection_options(
    data: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> ConnectionOptions:
    """ConnectionOptions from entry data (or a config flow's input) and entry options."""
    interval = (options or {}).get(OPTION_POLL_INTERVAL)
    return ConnectionOptions(
        kind=PrinterKind(data[CONF_KIND]),
        host=data[CONF_HOST],
        port=data.get(CONF_PORT),
        serial=data.get(CONF_SERIAL),
        access_code=data.get(CONF_ACCESS_CODE),
        api_key=data.get(CONF_API_KEY),
        username=data.get(CONF_USERNAME),
        password=data.get(CONF_PASSWORD),
        camera_port=data.get(CONF_CAMERA_PORT),
        model=data.get(CONF_MODEL),
        name=data.get(CONF_NAME),
        ca_file=data.get(CONF_CA_FILE) or None,
        poll_interval=float(interval) if interval else None,
    )


def async_create_client(
    hass: HomeAssistant, data: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> PrinterClient:
    """An unconnected client on Home Assistant's shared HTTP clients.

    aiohttp for every protocol but PrusaLink, which takes HA's shared httpx
    client (its digest flavours are httpx's); neither is ever closed here.
    """
    return create_client(
        connection_options(data, options),
        async_get_clientsession(hass),
        httpx_client=get_async_client(hass),
    )
