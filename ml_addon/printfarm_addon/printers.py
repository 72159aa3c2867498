"""Which printers to watch: found in Home Assistant's registries, plus the user's extra cameras.

A printfarm printer is a device with printfarm entities: its camera, its status
sensor (``translation_key`` status) and its pause button (``pause``), all on the
same device. Cameras of other integrations come from the ``cameras`` option, with
the entity or action that pauses them and the entity that says they print.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .config import ExtraCamera

PRINTFARM = "printfarm"
DEFAULT_PRINTING_STATES = frozenset({"printing", "on"})


@dataclass(frozen=True, slots=True)
class PrinterSpec:
    """One watched printer: its camera and how to tell it prints and to pause it."""

    key: str
    name: str
    camera: str
    device_id: str | None = None
    status: str | None = None
    printing_states: frozenset[str] = DEFAULT_PRINTING_STATES
    pause: str | None = None
    job: str | None = None
    printfarm: bool = False

    def printing(self, state: str | None) -> bool | None:
        """Whether a status state means printing (None when there is no status entity)."""
        if self.status is None:
            return None
        return state in self.printing_states


def _kind(entity: dict[str, Any]) -> str | None:
    """Which printfarm role an entity plays (camera, status, pause, job) or None."""
    entity_id = str(entity.get("entity_id", ""))
    key = entity.get("translation_key")
    unique = str(entity.get("unique_id") or "")
    if entity_id.startswith("camera."):
        return "camera"
    for role, domain in (("status", "sensor"), ("pause", "button"), ("job_name", "sensor")):
        if entity_id.startswith(f"{domain}.") and (key == role or unique.endswith(f"_{role}")):
            return role
    return None


def printfarm_printers(
    entities: Iterable[dict[str, Any]], devices: Iterable[dict[str, Any]]
) -> dict[str, PrinterSpec]:
    """printfarm devices that have a camera, keyed by device id."""
    names = {
        str(d.get("id")): str(d.get("name_by_user") or d.get("name") or d.get("id"))
        for d in devices
        if isinstance(d, dict)
    }
    roles: dict[str, dict[str, str]] = {}
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("platform") != PRINTFARM:
            continue
        if entity.get("disabled_by") is not None:
            continue
        device = entity.get("device_id")
        role = _kind(entity)
        if not isinstance(device, str) or role is None:
            continue
        roles.setdefault(device, {}).setdefault(role, str(entity["entity_id"]))
    found = {}
    for device, have in roles.items():
        if "camera" not in have:
            continue
        found[device] = PrinterSpec(
            key=device,
            name=names.get(device, device),
            camera=have["camera"],
            device_id=device,
            status=have.get("status"),
            printing_states=frozenset({"printing"}),
            pause=have.get("pause"),
            job=have.get("job_name"),
            printfarm=True,
        )
    return found


def all_printers(
    entities: list[dict[str, Any]], devices: list[dict[str, Any]], extra: Iterable[ExtraCamera]
) -> list[PrinterSpec]:
    """printfarm printers and the user's extra cameras (an extra entry can override one)."""
    found = printfarm_printers(entities, devices)
    by_camera = {spec.camera: key for key, spec in found.items()}
    device_of = {
        str(e.get("entity_id")): e.get("device_id") for e in entities if isinstance(e, dict)
    }
    names = {str(d.get("id")): d.get("name_by_user") or d.get("name") for d in devices}
    for item in extra:
        states = (
            frozenset({item.printing_state}) if item.printing_state else DEFAULT_PRINTING_STATES
        )
        if item.camera in by_camera:
            key = by_camera[item.camera]
            spec = found[key]
            found[key] = replace(
                spec,
                name=item.name or spec.name,
                pause=item.pause or spec.pause,
                status=item.status or spec.status,
                printing_states=states if item.status else spec.printing_states,
            )
            continue
        device = device_of.get(item.camera)
        key = device if isinstance(device, str) and device not in found else item.camera
        name = item.name or (names.get(device) if isinstance(device, str) else None)
        found[key] = PrinterSpec(
            key=key,
            name=str(name or item.camera),
            camera=item.camera,
            device_id=device if isinstance(device, str) else None,
            status=item.status,
            printing_states=states,
            pause=item.pause,
        )
    return sorted(found.values(), key=lambda spec: (spec.name.lower(), spec.key))
