"""Bambu Lab LAN mode as data: ports, form, limits, timing."""

from __future__ import annotations

from ..descriptor import FieldKind, FormField, KindDescriptor, Limits
from ..models import PrinterKind

DEFAULT_PORT = 8883

DESCRIPTOR = KindDescriptor(
    kind=PrinterKind.BAMBU,
    manufacturer="Bambu Lab",
    default_port=DEFAULT_PORT,
    fields=(
        FormField(key="host"),
        FormField(key="serial"),
        FormField(key="access_code", kind=FieldKind.PASSWORD, credential=True),
        FormField(
            key="port", kind=FieldKind.PORT, required=False, default=DEFAULT_PORT, advanced=True
        ),
        FormField(key="camera_port", kind=FieldKind.PORT, required=False, advanced=True),
        FormField(key="ca_file", required=False, advanced=True),
    ),
    # The hottest hotend and bed of the range (H2D 350 °C, X1/P1 beds 110-120 °C).
    limits=Limits(nozzle_max=350, bed_max=120),
    # Reports are pushed; a get_version round trip every 30 s proves them current.
    poll_interval=30.0,
    stale_after=60.0,
    fan_step=100 / 15,  # fans are reported in 16 levels
    discovery=("ssdp",),
)
