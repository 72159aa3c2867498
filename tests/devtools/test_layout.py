"""The develop config dir: loopback only, no discovery, integration from the repo."""

from __future__ import annotations

import json
from pathlib import Path
import socket

import pytest
import yaml

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


def test_configuration_binds_loopback_without_discovery() -> None:
    config = yaml.safe_load(configuration_yaml(8124))
    assert config["http"] == {"server_host": "127.0.0.1", "server_port": 8124}
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
    config = yaml.safe_load((layout.config / "configuration.yaml").read_text())
    assert config["http"]["server_port"] == 8125
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
    assert (
        yaml.safe_load((layout.config / "configuration.yaml").read_text())["http"]["server_port"]
        == 8126
    )
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
