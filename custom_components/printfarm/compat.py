"""Where Home Assistant's API differs between 2025.4 (the oldest release printfarm
supports) and 2026.x, decided once by what the running release offers.

Everything version-dependent lives here, so the rest of the integration reads
the same on every release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant import config_entries

if TYPE_CHECKING:
    OptionsFlowBase = config_entries.OptionsFlow
else:
    #: 2025.8+ reloads the entry when an options flow changes its options. From
    #: 2026.6 an update listener beside a flow that reloads is reported, and from
    #: 2026.12 refused; 2025.4 has neither, so an update listener does it there.
    OptionsFlowBase = getattr(config_entries, "OptionsFlowWithReload", config_entries.OptionsFlow)

#: Whether the options flow reloads the entry itself (else __init__ listens for options).
OPTIONS_FLOW_RELOADS: bool = OptionsFlowBase is not config_entries.OptionsFlow
