"""Bambu models: from the serial, from get_version, and what each can do."""

from __future__ import annotations

import pytest

from custom_components.printfarm.printers import CameraKind
from custom_components.printfarm.printers.bambu.models import (
    MODELS,
    capabilities_for,
    model_from_modules,
    model_from_serial,
    spec_for,
)
from custom_components.printfarm.printers.bambu.parse import parse_version

from .conftest import load

# ------------------------------------------------------------------ models


@pytest.mark.parametrize(
    ("serial", "code"),
    [
        ("00M09A000000001", "X1C"),
        ("03W00X000000001", "X1E"),
        ("01S00C000000001", "P1P"),
        ("01P00A000000001", "P1S"),
        ("03900A000000001", "A1"),
        ("03000A000000001", "A1M"),
        ("09400A000000001", "H2D"),
        ("09300A000000001", "H2S"),
        ("22E00A000000001", "P2S"),
    ],
)
def test_model_from_serial(serial: str, code: str) -> None:
    spec = model_from_serial(serial)
    assert spec is not None
    assert spec.code == code


def test_model_from_version_and_firmware() -> None:
    firmware, spec = parse_version(load("get_version_x1c.json")["info"])
    assert firmware == "01.09.00.01"
    assert spec is MODELS["X1C"]
    firmware, spec = parse_version(load("get_version_a1.json")["info"])
    assert firmware == "01.05.00.00"
    assert spec is MODELS["A1"]  # the AMS lite's product_name must not win
    assert model_from_modules([{"name": "ota", "product_name": "Toaster"}]) is None
    assert parse_version({"module": "x"}) == (None, None)


@pytest.mark.parametrize(
    ("code", "camera", "chamber", "door"),
    [
        ("X1C", CameraKind.RTSPS, True, True),
        ("X1E", CameraKind.RTSPS, True, True),
        ("P1P", CameraKind.JPEG_SOCKET, False, False),
        ("P1S", CameraKind.JPEG_SOCKET, False, False),
        ("A1", CameraKind.JPEG_SOCKET, False, False),
        ("A1 mini", CameraKind.JPEG_SOCKET, False, False),
        ("H2D", CameraKind.RTSPS, True, True),
        ("H2S", CameraKind.RTSPS, True, True),
        ("P2S", CameraKind.RTSPS, True, False),
    ],
)
def test_capabilities_per_model(code: str, camera: CameraKind, chamber: bool, door: bool) -> None:
    spec = spec_for(code)
    assert spec is not None
    caps = capabilities_for(spec)
    assert caps.camera is camera
    assert caps.chamber_temperature is chamber
    assert caps.door is door
    assert caps.speed_presets == ("silent", "standard", "sport", "ludicrous")
    assert all((caps.light, caps.ams, caps.hms, caps.gcode, caps.layers, caps.wifi_signal))
