"""The scanner's settings, read from the environment; off in every other test."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.printfarm.const import DOMAIN
from custom_components.printfarm.discovery import (
    DATA_SCANNER,
    DEFAULT_ELEGOO_TARGET,
    DiscoveryConfig,
)
from custom_components.printfarm.printers.bambu.ssdp import SSDP_PORT


def test_config_defaults_are_the_real_ports() -> None:
    config = DiscoveryConfig.from_env({})
    assert config.enabled
    assert config.bambu_listen == ("0.0.0.0", SSDP_PORT)
    assert config.elegoo_targets == (DEFAULT_ELEGOO_TARGET,) == (("255.255.255.255", 3000),)


def test_config_from_the_environment() -> None:
    config = DiscoveryConfig.from_env(
        {
            "PRINTFARM_DISCOVERY": "on",
            "PRINTFARM_BAMBU_SSDP": "127.0.0.1:12021",
            "PRINTFARM_ELEGOO_PROBE": "127.0.0.1:13000, 127.0.0.1:13001,",
        }
    )
    assert config.bambu_listen == ("127.0.0.1", 12021)
    assert config.elegoo_targets == (("127.0.0.1", 13000), ("127.0.0.1", 13001))
    assert DiscoveryConfig.from_env({"PRINTFARM_BAMBU_SSDP": "12021"}).bambu_listen == (
        "0.0.0.0",
        12021,
    )


def test_config_off_switches() -> None:
    assert not DiscoveryConfig.from_env({"PRINTFARM_DISCOVERY": "OFF"}).enabled
    config = DiscoveryConfig.from_env(
        {"PRINTFARM_BAMBU_SSDP": "off", "PRINTFARM_ELEGOO_PROBE": "off"}
    )
    assert config.enabled
    assert (config.bambu_listen, config.elegoo_targets) == (None, ())


def test_config_bad_values_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    config = DiscoveryConfig.from_env(
        {
            "PRINTFARM_BAMBU_SSDP": "127.0.0.1:http",
            "PRINTFARM_ELEGOO_PROBE": (
                "nohost, :3000, printer.local:3000, 127.0.0.1:0, 127.0.0.1:99999, 10.0.0.5:3000"
            ),
        }
    )
    assert config.bambu_listen == ("0.0.0.0", SSDP_PORT)
    assert config.elegoo_targets == (("10.0.0.5", 3000),)
    assert "PRINTFARM_BAMBU_SSDP" in caplog.text
    assert "'127.0.0.1:99999'" in caplog.text
    assert "'printer.local:3000'" in caplog.text


async def test_tests_keep_the_scanner_off(hass: HomeAssistant) -> None:
    # The autouse fixture in conftest.py: no test binds UDP 2021 or broadcasts by accident.
    assert await async_setup_component(hass, DOMAIN, {})
    assert DATA_SCANNER not in hass.data
