"""A flow that changes an entry reloads it exactly once, and never through an update listener.

Home Assistant 2026.6 reports an update listener on an entry that a flow reloads,
and 2026.12 refuses it; on 2025.4 the listener is how options changes reload.
Both paths must end in one reload, so these hold on every supported release.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printfarm.const import DOMAIN

from .test_config_flow import form_input

#: What Home Assistant logs for an update listener beside a reloading flow.
LISTENER_REPORT = "has an update listener"


@pytest.fixture
def reloads(hass: HomeAssistant) -> Iterator[list[str]]:
    """The entry ids Home Assistant reloads, in order."""
    calls: list[str] = []
    reload = hass.config_entries.async_reload

    async def counted(entry_id: str) -> bool:
        calls.append(entry_id)
        return await reload(entry_id)

    with patch.object(hass.config_entries, "async_reload", counted):
        yield calls


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_new_options_reload_once(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    reloads: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = loaded_entry.runtime_data
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"camera": "off"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert reloads == [loaded_entry.entry_id]
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data is not coordinator
    assert LISTENER_REPORT not in caplog.text

    # Saving the same options again changes nothing, so nothing reloads.
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    await hass.config_entries.options.async_configure(result["flow_id"], {"camera": "off"})
    await hass.async_block_till_done()
    assert reloads == [loaded_entry.entry_id]


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_reconfigure_reloads_once(
    hass: HomeAssistant,
    kind: str,
    loaded_entry: MockConfigEntry,
    reloads: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(kind, dict(loaded_entry.data))
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert reloads == [loaded_entry.entry_id]
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert LISTENER_REPORT not in caplog.text


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_rediscovery_at_a_new_address_reloads_once(
    hass: HomeAssistant,
    kind: str,
    loaded_entry: MockConfigEntry,
    reloads: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # printfarm's own discovery found the printer (same serial) at another address.
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"kind": kind, "host": "::1", "unique_id": loaded_entry.unique_id, "name": "found"},
    )
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    # Reloaded once, at the new address (where nothing answers in this test).
    assert loaded_entry.data["host"] == "::1"
    assert reloads == [loaded_entry.entry_id]
    assert loaded_entry.state is ConfigEntryState.SETUP_RETRY
    assert LISTENER_REPORT not in caplog.text
