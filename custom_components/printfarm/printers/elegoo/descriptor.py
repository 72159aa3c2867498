"""Elegoo SDCP v3 as data: ports, form, limits, timing."""

from __future__ import annotations

from ..descriptor import FieldKind, FormField, KindDescriptor, Limits
from ..models import PrinterKind
from .const import DEFAULT_PORT, DEFAULT_VIDEO_PORT, KEEPALIVE_INTERVAL_S, SILENCE_TIMEOUT_S

DESCRIPTOR = KindDescriptor(
    kind=PrinterKind.ELEGOO,
    manufacturer="Elegoo",
    default_port=DEFAULT_PORT,
    fields=(
        FormField(key="host"),
        FormField(
            key="port", kind=FieldKind.PORT, required=False, default=DEFAULT_PORT, advanced=True
        ),
        FormField(
            key="camera_port",
            kind=FieldKind.PORT,
            required=False,
            default=DEFAULT_VIDEO_PORT,
            advanced=True,
        ),
    ),
    # Centauri Carbon hardware limits; speed is set by named presets only.
    limits=Limits(nozzle_max=350, bed_max=110),
    # The status request (Cmd 0) every 20 s is also the keep-alive the printer needs.
    poll_interval=KEEPALIVE_INTERVAL_S,
    stale_after=SILENCE_TIMEOUT_S,
    discovery=("sdcp",),
)
