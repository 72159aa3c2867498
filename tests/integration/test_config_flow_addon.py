"""The detection add-on's config entry: Supervisor discovery, manual URL, reauth, reconfigure.

The add-on's API client is patched at its boundary (``DetectionClient``); the
service itself is exercised against a real add-on in tests/addon.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.addon import (
    AddonInfo,
    DetectionAuthError,
    DetectionConnectionError,
    PrinterDetection,
)
from custom_components.printfarm.const import CONF_KIND, DOMAIN, KIND_ADDON

CLIENT = "custom_components.printfarm.addon.client.DetectionClient"
INFO = AddonInfo(uuid="abc123", version="0.1.0", name="printfarm detection")
DISCOVERY = HassioServiceInfo(
    config={"host": "local-printfarm-detect", "port": 8100, "api_key": "k1", "uuid": "abc123"},
    name="printfarm detection",
    slug="local_printfarm_detect",
    uuid="supervisor-uuid",
)


async def _quiet_stream(self: Any) -> AsyncIterator[dict[str, PrinterDetection]]:
    yield {}
    await asyncio.Event().wait()


@pytest.fixture
def addon() -> Iterator[AsyncMock]:
    """The add-on answers info and printers; its stream stays open and quiet."""
    with (
        patch(f"{CLIENT}.info", new_callable=AsyncMock, return_value=INFO) as info,
        patch(f"{CLIENT}.printers", new_callable=AsyncMock, return_value={}),
        patch(f"{CLIENT}.stream", _quiet_stream),
    ):
        yield info


def addon_entry(hass: HomeAssistant, **data: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="printfarm detection",
        unique_id="abc123",
        data={CONF_KIND: KIND_ADDON, CONF_URL: "http://old:8100", CONF_API_KEY: "k0", **data},
    )
    entry.add_to_hass(hass)
    return entry


async def test_manual_url_recovers_from_each_error(hass: HomeAssistant, addon: AsyncMock) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "addon" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "addon"}
    )
    form = {CONF_URL: "http://192.168.1.10:8100/", CONF_API_KEY: " key "}
    for error, answer in (
        ("addon_cannot_connect", DetectionConnectionError("refused")),
        ("addon_invalid_auth", DetectionAuthError("no")),
        ("addon_cannot_connect", TimeoutError()),
    ):
        addon.side_effect = answer
        result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}
    addon.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_KIND: KIND_ADDON,
        CONF_URL: "http://192.168.1.10:8100",
        CONF_API_KEY: "key",
    }
    assert result["result"].unique_id == "abc123"
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_manual_url_of_a_known_addon_updates_it(
    hass: HomeAssistant, addon: AsyncMock
) -> None:
    entry = addon_entry(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "addon"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://new:8100", CONF_API_KEY: "k2"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_URL] == "http://new:8100"
    assert entry.data[CONF_API_KEY] == "k2"


async def test_supervisor_discovery_is_confirmed(hass: HomeAssistant, addon: AsyncMock) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=DISCOVERY
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"name": "printfarm detection"}
    addon.side_effect = DetectionConnectionError("starting")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "addon_cannot_connect"}
    addon.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_URL] == "http://local-printfarm-detect:8100"
    assert result["data"][CONF_API_KEY] == "k1"
    assert result["result"].unique_id == "abc123"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_discovery_of_a_known_addon_updates_its_address(
    hass: HomeAssistant, addon: AsyncMock
) -> None:
    entry = addon_entry(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=DISCOVERY
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_URL] == "http://local-printfarm-detect:8100"
    assert entry.data[CONF_API_KEY] == "k1"


async def test_discovery_without_address_aborts(hass: HomeAssistant, addon: AsyncMock) -> None:
    broken = HassioServiceInfo(config={"host": "x"}, name="n", slug="s", uuid="u")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=broken
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "addon_invalid_discovery"


async def test_refused_key_starts_reauth_and_a_new_key_fixes_it(
    hass: HomeAssistant, addon: AsyncMock
) -> None:
    entry = addon_entry(hass)
    with patch(f"{CLIENT}.printers", new_callable=AsyncMock, side_effect=DetectionAuthError("no")):
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["step_id"] == "reauth_addon"
    addon.side_effect = DetectionAuthError("still no")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "wrong"}
    )
    assert result["errors"] == {"base": "addon_invalid_auth"}
    addon.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: "k9"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == "k9"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unreachable_addon_retries_setup(hass: HomeAssistant, addon: AsyncMock) -> None:
    entry = addon_entry(hass)
    with patch(
        f"{CLIENT}.printers", new_callable=AsyncMock, side_effect=DetectionConnectionError("down")
    ):
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_changes_url_but_not_to_another_addon(
    hass: HomeAssistant, addon: AsyncMock
) -> None:
    entry = addon_entry(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_addon"
    addon.return_value = AddonInfo(uuid="other", version="0.1.0", name="x")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://x:8100", CONF_API_KEY: "k"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_device"
    addon.return_value = INFO
    result = await entry.start_reconfigure_flow(hass)
    addon.side_effect = DetectionConnectionError("no")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://y:8100", CONF_API_KEY: "k"}
    )
    assert result["errors"] == {"base": "addon_cannot_connect"}
    addon.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://y:8100/", CONF_API_KEY: "k5"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_URL] == "http://y:8100"
    assert entry.data[CONF_API_KEY] == "k5"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_addon_entry_has_no_options(hass: HomeAssistant, addon: AsyncMock) -> None:
    entry = addon_entry(hass)
    assert entry.supports_options is False


async def test_diagnostics_redact_the_key_and_url(hass: HomeAssistant, addon: AsyncMock) -> None:
    from custom_components.printfarm.diagnostics import async_get_config_entry_diagnostics

    printer = PrinterDetection.parse({"id": "dev1", "device_id": "dev1", "level": "warning"})
    entry = addon_entry(hass)

    async def stream(self: Any) -> AsyncIterator[dict[str, PrinterDetection]]:
        yield {"dev1": printer}
        await asyncio.Event().wait()

    with (
        patch(f"{CLIENT}.printers", new_callable=AsyncMock, return_value={"dev1": printer}),
        patch(f"{CLIENT}.stream", stream),
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    data = await async_get_config_entry_diagnostics(hass, entry)
    assert data["entry"]["data"][CONF_API_KEY] == "**REDACTED**"
    assert data["entry"]["data"][CONF_URL] == "**REDACTED**"
    assert data["printers"][0]["level"] == "warning"
    await hass.config_entries.async_unload(entry.entry_id)
