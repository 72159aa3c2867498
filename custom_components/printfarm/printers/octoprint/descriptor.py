"""OctoPrint as data: ports, form, limits, timing, app-key pairing."""

from __future__ import annotations

from ..descriptor import FieldKind, FormField, KindDescriptor, Limits, Pairing
from ..models import PrinterKind

#: OctoPi (and Home Assistant's own integration) serve OctoPrint on port 80.
DEFAULT_PORT = 80

DESCRIPTOR = KindDescriptor(
    kind=PrinterKind.OCTOPRINT,
    manufacturer="OctoPrint",
    default_port=DEFAULT_PORT,
    fields=(
        FormField(key="host"),
        FormField(key="port", kind=FieldKind.PORT, required=False, default=DEFAULT_PORT),
        FormField(key="api_key", kind=FieldKind.PASSWORD, required=False, credential=True),
    ),
    # OctoPrint itself accepts anything; these bound what printfarm sends (no speed factor).
    limits=Limits(nozzle_max=350, bed_max=150),
    # Polls every 5 s (every 30 s while its websocket pushes), twice a second after a command.
    poll_interval=5.0,
    fast_poll_interval=0.5,
    stale_after=45.0,
    pairing=Pairing.APP_KEY,
    discovery=("zeroconf",),
    # OctoPrint's discovery plugin announces the instance UUID the client also reads
    announces_identity=True,
)
