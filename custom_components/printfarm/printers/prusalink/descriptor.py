"""PrusaLink as data: ports, form, limits, polling."""

from __future__ import annotations

from ..descriptor import FieldKind, FormField, KindDescriptor, Limits
from ..models import PrinterKind

DEFAULT_PORT = 80
DEFAULT_USERNAME = "maker"
#: Seconds between polls when nothing is happening (the user may change it).
DEFAULT_POLL_INTERVAL = 5.0

DESCRIPTOR = KindDescriptor(
    kind=PrinterKind.PRUSALINK,
    manufacturer="Prusa Research",
    default_port=DEFAULT_PORT,
    fields=(
        FormField(key="host"),
        FormField(key="username", default=DEFAULT_USERNAME, credential=True),
        FormField(key="password", kind=FieldKind.PASSWORD, credential=True),
        FormField(
            key="port", kind=FieldKind.PORT, required=False, default=DEFAULT_PORT, advanced=True
        ),
    ),
    # Prusa-Link's own limits for its legacy control routes (its LimitsMK3);
    # Buddy firmware has no such routes (the capabilities say so).
    limits=Limits(nozzle_max=305, bed_max=125, speed_min=10, speed_max=999),
    polls=True,
    poll_interval=DEFAULT_POLL_INTERVAL,
    fast_poll_interval=1.0,
    stale_after=20.0,
    discovery=("zeroconf", "dhcp"),
)
