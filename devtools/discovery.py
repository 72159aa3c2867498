"""printfarm's own discovery in scripts/develop: on, and only on loopback.

The integration listens for Bambu SSDP NOTIFYs on UDP 2021 and broadcasts
the Elegoo probe to 255.255.255.255:3000 (see
``custom_components/printfarm/discovery.py``). In develop neither may reach
the LAN, so:

* the Bambu simulators announce themselves to a free loopback port
  (``scripts/simulate --bambu-ssdp-port``) and Home Assistant listens on
  exactly that port of 127.0.0.1 (``PRINTFARM_BAMBU_SSDP``);
* the Elegoo probe is sent to each Elegoo simulator's discovery port on
  127.0.0.1 (``PRINTFARM_ELEGOO_PROBE``), or not at all without one.

Develop then adds every printer through the user flow; a "Discovered" card
for a simulated printer is dismissed first (and the entry, once created,
makes later discoveries of it abort as already configured).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import socket
from typing import Any

LOOPBACK = "127.0.0.1"


def free_udp_port() -> int:
    """A UDP port of 127.0.0.1 that nothing is bound to now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def simulate_args(ssdp_port: int) -> list[str]:
    """scripts/simulate arguments: the Bambu simulators announce to ``ssdp_port``."""
    return ["--bambu-ssdp-port", str(ssdp_port)]


def elegoo_targets(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """``HOST:PORT`` of every Elegoo simulator's discovery responder."""
    targets = []
    for line in lines:
        port = (line.get("extra") or {}).get("discovery_port")
        if line.get("kind") == "elegoo" and port:
            targets.append(f"{LOOPBACK}:{port}")
    return targets


def hass_env(lines: Iterable[Mapping[str, Any]], ssdp_port: int) -> dict[str, str]:
    """Environment for Home Assistant: the scanner on, pointed at the simulators only."""
    targets = elegoo_targets(lines)
    return {
        "PRINTFARM_DISCOVERY": "on",
        "PRINTFARM_BAMBU_SSDP": f"{LOOPBACK}:{ssdp_port}",
        "PRINTFARM_ELEGOO_PROBE": ",".join(targets) if targets else "off",
    }
