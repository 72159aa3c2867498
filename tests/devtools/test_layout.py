"""The develop config dir: loopback only, no discovery, integration from the repo."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
import socket
from types import ModuleType
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
import yaml

from devtools import http_config
from devtools.layout import (
    CONFIGURED_DOMAINS,
    DEFAULT_PORT,
    Layout,
    configuration_yaml,
    port_from_env,
    port_is_free,
    prepare_config,
)

from .conftest import REPO

#: default_config and what it would pull in: all of them talk beyond loopback.
NETWORK_DOMAINS = {"default_config", "zeroconf", "ssdp", "dhcp", "bluetooth", "usb", "cloud"}


def develop_port(layout: Layout) -> int:
    """The port prepare_config gave Home Assistant, where this release reads it."""
    store = http_config.stored_http_config()
    if store is None:
        config = yaml.safe_load((layout.config / "configuration.yaml").read_text())
        return int(config["http"]["server_port"])
    document = json.loads((layout.config / ".storage" / store.key).read_text())
    return int(document["data"]["stable"]["server_port"])


def test_configuration_binds_loopback_without_discovery() -> None:
    config = yaml.safe_load(configuration_yaml(8124))
    assert config["http"] == {"server_host": "127.0.0.1", "server_port": 8124}
    assert "http" not in yaml.safe_load(configuration_yaml(8124, http_in_yaml=False))
    assert not NETWORK_DOMAINS & set(config)
    assert {"frontend", "config", "history", "logbook"} <= set(config)
    assert set(CONFIGURED_DOMAINS) <= set(config)
    core = config["homeassistant"]
    assert core["country"]
    assert core["time_zone"] == "UTC"
    # printfarm is set up from config entries, not YAML.
    assert "printfarm" not in config


def test_prepare_config_writes_config_seeds_onboarding_once_and_links_integration(
    layout: Layout,
) -> None:
    prepare_config(layout, 8125)
    assert develop_port(layout) == 8125
    seed = json.loads((layout.config / ".storage" / "onboarding").read_text())
    assert seed["key"] == "onboarding"
    assert set(seed["data"]["done"]) == {"core_config", "analytics", "integration"}
    # Only loopback enabled: HA's client session zeroconf joins no multicast group on a LAN.
    network = json.loads((layout.config / ".storage" / "core.network").read_text())
    assert network["key"] == "core.network"
    assert network["data"]["configured_adapters"] == ["lo", "lo0"]
    assert layout.integration_link.is_symlink()
    assert layout.integration_link.resolve() == (REPO / "custom_components/printfarm").resolve()
    assert (layout.integration_link / "manifest.json").is_file()

    # A later run: the port may change; Home Assistant's own onboarding state is kept.
    storage = layout.config / ".storage" / "onboarding"
    storage.write_text('{"kept": true}')
    prepare_config(layout, 8126)
    assert develop_port(layout) == 8126
    assert storage.read_text() == '{"kept": true}'
    assert layout.integration_link.resolve() == (REPO / "custom_components/printfarm").resolve()


def test_prepare_config_repoints_a_stale_link_and_refuses_a_folder(
    layout: Layout, tmp_path: Path
) -> None:
    layout.integration_link.parent.mkdir(parents=True)
    layout.integration_link.symlink_to(tmp_path)
    prepare_config(layout, DEFAULT_PORT)
    assert layout.integration_link.resolve() == (REPO / "custom_components/printfarm").resolve()

    layout.integration_link.unlink()
    layout.integration_link.mkdir()
    with pytest.raises(RuntimeError, match="remove it"):
        prepare_config(layout, DEFAULT_PORT)


def test_layout_defaults_to_dot_develop_and_follows_the_override(tmp_path: Path) -> None:
    assert Layout.for_repo(REPO, {}).base == REPO / ".develop"
    moved = Layout.for_repo(REPO, {"PRINTFARM_DEVELOP_DIR": str(tmp_path)})
    assert moved.base == tmp_path.resolve()
    assert moved.config == tmp_path.resolve() / "config"


def test_port_from_env() -> None:
    assert port_from_env({}) == DEFAULT_PORT == 8123
    assert port_from_env({"PRINTFARM_HA_PORT": " 18123 "}) == 18123
    with pytest.raises(ValueError, match="not a port"):
        port_from_env({"PRINTFARM_HA_PORT": "http"})
    with pytest.raises(ValueError, match="out of range"):
        port_from_env({"PRINTFARM_HA_PORT": "70000"})


def test_port_is_free_sees_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free(port)
    assert port_is_free(port)


async def test_home_assistant_listens_where_develop_says_without_a_trial(
    hass: HomeAssistant, hass_storage: dict[str, Any], layout: Layout
) -> None:
    """Loopback and the chosen port, confirmed: no revert to all interfaces five minutes later.

    On a release with the stored HTTP config, Home Assistant's own loader reads
    what prepare_config wrote; on 2025.4 the YAML is the whole config.
    """
    prepare_config(layout, 8127)
    config = yaml.safe_load((layout.config / "configuration.yaml").read_text())
    store = http_config.stored_http_config()
    if store is None:
        assert config["http"] == {"server_host": "127.0.0.1", "server_port": 8127}
        return
    assert "http" not in config
    hass_storage[store.key] = json.loads((layout.config / ".storage" / store.key).read_text())
    loader: Any = importlib.import_module(http_config.STORE_MODULE)
    conf = await loader.async_load_config(hass, config)
    assert conf["server_host"] == ["127.0.0.1"]
    assert conf["server_port"] == 8127
    stored = await loader.async_get_and_load_store(hass)
    assert stored.active_config_type == "stable"
    assert stored.revert_deadline is None
    assert stored.yaml_migration_done

    # A later run on another port moves it (YAML would be ignored by then).
    prepare_config(layout, 8128)
    written = json.loads((layout.config / ".storage" / store.key).read_text())
    assert written["data"]["stable"]["server_port"] == 8128
    assert written["data"]["pending"] is None


def test_http_store_document_takes_the_release_schema() -> None:
    """A release's own schema fills in its defaults; printfarm sets only host and port."""
    module = ModuleType("fake_http_config")
    module.HTTPConfigStore = object  # type: ignore[attr-defined]
    module.STORAGE_KEY = "http"  # type: ignore[attr-defined]
    module.STORAGE_VERSION = 7  # type: ignore[attr-defined]
    module.STORAGE_MINOR_VERSION = 2  # type: ignore[attr-defined]
    module.HTTP_STORAGE_SCHEMA = lambda data: {"ip_ban_enabled": True, **data}  # type: ignore[attr-defined]
    store = http_config.stored_http_config(module)
    assert store is not None
    document = store.document(8129)
    assert (document["key"], document["version"], document["minor_version"]) == ("http", 7, 2)
    stable = document["data"]["stable"]
    assert stable["server_host"] == ["127.0.0.1"]
    assert stable["server_port"] == 8129
    assert stable["ip_ban_enabled"] is True
    assert stable["error"] is None
    assert document["data"]["pending"] is None
    assert document["data"]["yaml_migration_done"] is True
    assert http_config.stored_http_config(ModuleType("without_store")) is None
