"""Every kind's descriptor, by kind (imports only the small descriptor modules)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from .bambu.descriptor import DESCRIPTOR as BAMBU
from .descriptor import KindDescriptor
from .elegoo.descriptor import DESCRIPTOR as ELEGOO
from .models import PrinterKind
from .moonraker.descriptor import DESCRIPTOR as MOONRAKER
from .octoprint.descriptor import DESCRIPTOR as OCTOPRINT
from .prusalink.descriptor import DESCRIPTOR as PRUSALINK

DESCRIPTORS: Final = MappingProxyType(
    {d.kind: d for d in (BAMBU, MOONRAKER, OCTOPRINT, PRUSALINK, ELEGOO)}
)


def descriptor_for(kind: PrinterKind | str) -> KindDescriptor:
    """The descriptor of ``kind``."""
    return DESCRIPTORS[PrinterKind(kind)]
