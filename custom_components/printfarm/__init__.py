"""printfarm: every 3D printer of a farm in Home Assistant.

The protocol clients live in ``printers/`` (no Home Assistant imports). The
Home Assistant layer (config flows, coordinators, platforms) builds on them.
"""

from __future__ import annotations

DOMAIN = "printfarm"
