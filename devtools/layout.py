"""Where scripts/develop keeps its state, and the Home Assistant config it writes.

Everything lives under ``.develop/`` at the repository root (git-ignored):

* ``config/``       the Home Assistant config dir (kept between runs); its
                    ``.storage`` is seeded once: onboarding steps other than the
                    owner done, only the loopback network adapter enabled
* ``owner.json``    the owner account scripts/develop created (0600)
* ``token``         a long-lived access token for the add-on and scripts (0600)
* ``addon.env``     HA_URL / HA_WS_URL / HA_TOKEN for running the add-on locally
* ``entries.json``  the config entries scripts/develop added last time
* ``addon/``        the detection add-on's data (options.json, history, marks)
* ``hass.log``, ``simulate.log``, ``addon.log``  the children's console output
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import os
from pathlib import Path
import socket

from . import http_config

DEFAULT_PORT = 8123
PORT_ENV = "PRINTFARM_HA_PORT"
DIR_ENV = "PRINTFARM_DEVELOP_DIR"
DOMAIN = "printfarm"

#: Integrations configured in YAML. No ``default_config``: it pulls in zeroconf,
#: ssdp, dhcp, bluetooth, usb, cloud and go2rtc, which send traffic off loopback.
CONFIGURED_DOMAINS: tuple[str, ...] = (
    "frontend",
    "config",
    "history",
    "logbook",
    "diagnostics",
    "media_source",
    "conversation",
    "intent",
    "logger",
)

#: Onboarding steps marked done before the first start: posting ``core_config``
#: would create google_translate, met, radio_browser and shopping_list entries,
#: and radio_browser looks names up on the internet at setup.
PRESEEDED_ONBOARDING_STEPS: tuple[str, ...] = ("core_config", "analytics", "integration")

#: Network adapters Home Assistant may use: loopback only (Linux "lo", macOS "lo0").
#: Home Assistant's shared HTTP client session opens a zeroconf instance for
#: ``.local`` names even without the zeroconf integration; with only loopback
#: enabled it joins no multicast group on a real interface.
LOOPBACK_ADAPTERS: tuple[str, ...] = ("lo", "lo0")


@dataclass(frozen=True, slots=True)
class Layout:
    """Paths of one develop environment."""

    repo: Path
    base: Path

    @classmethod
    def for_repo(cls, repo: Path, environ: dict[str, str] | None = None) -> Layout:
        """The layout for ``repo``; ``PRINTFARM_DEVELOP_DIR`` moves the state dir."""
        env = os.environ if environ is None else environ
        override = env.get(DIR_ENV)
        base = Path(override).expanduser().resolve() if override else repo / ".develop"
        return cls(repo=repo, base=base)

    @property
    def config(self) -> Path:
        """Home Assistant's config dir."""
        return self.base / "config"

    @property
    def owner_file(self) -> Path:
        """The owner account (username and password)."""
        return self.base / "owner.json"

    @property
    def token_file(self) -> Path:
        """A long-lived access token (one line)."""
        return self.base / "token"

    @property
    def addon_env(self) -> Path:
        """Environment for running the add-on against this Home Assistant."""
        return self.base / "addon.env"

    @property
    def entries_file(self) -> Path:
        """Config entry ids scripts/develop added on its last run."""
        return self.base / "entries.json"

    @property
    def hass_log(self) -> Path:
        """Home Assistant's console output."""
        return self.base / "hass.log"

    @property
    def simulate_log(self) -> Path:
        """The simulated farm's console output."""
        return self.base / "simulate.log"

    @property
    def integration_source(self) -> Path:
        """The integration in the repository."""
        return self.repo / "custom_components" / DOMAIN

    @property
    def integration_link(self) -> Path:
        """Where Home Assistant looks for it."""
        return self.config / "custom_components" / DOMAIN


def port_from_env(environ: dict[str, str] | None = None) -> int:
    """The HTTP port: ``PRINTFARM_HA_PORT`` or 8123."""
    env = os.environ if environ is None else environ
    raw = env.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"{PORT_ENV}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{PORT_ENV}={port} is out of range")
    return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on host:port (an old Home Assistant, for one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def configuration_yaml(port: int, *, http_in_yaml: bool = True) -> str:
    """Home Assistant's configuration.yaml for the develop instance.

    ``http_in_yaml`` is False on releases that keep the HTTP config in storage
    (devtools/http_config.py writes it there instead).
    """
    lines = [
        "# Written by scripts/develop on every start (devtools/layout.py): edits are lost.",
        "# No default_config: it would start zeroconf, ssdp, dhcp, bluetooth and cloud.",
        "homeassistant:",
        "  name: printfarm develop",
        "  latitude: 0",
        "  longitude: 0",
        "  elevation: 0",
        "  unit_system: metric",
        "  time_zone: UTC",
        "  currency: EUR",
        "  country: DE",
        "  language: en",
        "",
        *(http_config.yaml_lines(port) if http_in_yaml else []),
    ]
    for domain in CONFIGURED_DOMAINS:
        if domain == "logger":
            lines += [
                "logger:",
                "  default: warning",
                "  logs:",
                "    custom_components.printfarm: info",
            ]
        else:
            lines.append(f"{domain}:")
    return "\n".join(lines) + "\n"


def onboarding_seed() -> dict[str, object]:
    """``.storage/onboarding`` with every step but the owner account done."""
    return {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": list(PRESEEDED_ONBOARDING_STEPS)},
    }


def network_seed() -> dict[str, object]:
    """``.storage/core.network`` with only the loopback adapter enabled."""
    return {
        "version": 1,
        "minor_version": 1,
        "key": "core.network",
        "data": {"configured_adapters": list(LOOPBACK_ADAPTERS)},
    }


def prepare_config(layout: Layout, port: int) -> None:
    """Write configuration.yaml and the HTTP config, seed onboarding and network once, link."""
    layout.config.mkdir(parents=True, exist_ok=True)
    store = http_config.stored_http_config()
    (layout.config / "configuration.yaml").write_text(
        configuration_yaml(port, http_in_yaml=store is None), encoding="utf-8"
    )
    storage = layout.config / ".storage"
    storage.mkdir(exist_ok=True)
    if store is not None:
        http_config.write_store(storage, store, port)
    for name, seed in (("onboarding", onboarding_seed()), ("core.network", network_seed())):
        path = storage / name
        if not path.exists():
            path.write_text(json.dumps(seed, indent=2), encoding="utf-8")
    link = layout.integration_link
    link.parent.mkdir(exist_ok=True)
    target = layout.integration_source.resolve()
    if link.is_symlink() and link.resolve() == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        raise RuntimeError(f"{link} is a folder, not the link to {target}: remove it")
    link.symlink_to(target, target_is_directory=True)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
