"""Moonraker (Klipper) as data: ports, form, limits, timing."""

from __future__ import annotations

from ..descriptor import FieldKind, FormField, KindDescriptor, Limits
from ..models import PrinterKind

DEFAULT_PORT = 7125

DESCRIPTOR = KindDescriptor(
    kind=PrinterKind.MOONRAKER,
    manufacturer="Klipper",
    default_port=DEFAULT_PORT,
    fields=(
        FormField(key="host"),
        FormField(key="port", kind=FieldKind.PORT, required=False, default=DEFAULT_PORT),
        FormField(key="api_key", kind=FieldKind.PASSWORD, required=False, credential=True),
    ),
    # Klipper's own limits are per printer (max_temp); these bound what printfarm sends.
    limits=Limits(nozzle_max=350, bed_max=150, speed_min=1, speed_max=500),
    # Moonraker pushes; a server.info round trip every 10 s proves the link is current.
    poll_interval=10.0,
    stale_after=25.0,
    fan_step=100 / 255,
    discovery=("zeroconf",),
)
