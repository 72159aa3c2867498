"""Simulator JSON lines (what ``scripts/simulate`` prints) as client connection options."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from custom_components.printfarm.printers import ConnectionOptions, PrinterKind

#: The ConnectionOptions fields a line may carry at its top level.
_FIELDS = frozenset(f.name for f in fields(ConnectionOptions)) - {"kind"}
#: Keys of a line's ``extra`` that a client needs (the rest describe the simulator).
_EXTRA_FIELDS = frozenset({"ca_file"})


def client_options(line: dict[str, Any], **overrides: Any) -> ConnectionOptions:
    """What a user would enter to reach the simulator that printed ``line``."""
    values = {key: value for key, value in line.items() if key in _FIELDS}
    extra = line.get("extra") or {}
    values.update({key: value for key, value in extra.items() if key in _EXTRA_FIELDS})
    values.update(overrides)
    values.pop("name", None)
    return ConnectionOptions(kind=PrinterKind(line["kind"]), **values)
