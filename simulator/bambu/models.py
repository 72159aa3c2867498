"""The Bambu models the simulator can be, and what tells them apart on the wire."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SimModel:
    """How one simulated model behaves."""

    code: str  # --bambu-model value and the line's "model"
    name: str  # product name in get_version ("Bambu Lab <name>")
    serial_prefix: str  # first three characters of real serials
    camera_socket: bool  # True: JPEG over TLS (P1/A1); False: RTSPS URL (X1/H2)
    chamber_sensor: bool  # False: reports the dummy chamber_temper 5
    door_sensor: bool
    full_reports: bool  # X1 sends whole objects; the others send deltas
    extruders: int = 1
    second_light: bool = False  # chamber_light2 (H2)


MODELS: dict[str, SimModel] = {
    model.code: model
    for model in (
        SimModel(
            code="X1C",
            name="X1 Carbon",
            serial_prefix="00M",
            camera_socket=False,
            chamber_sensor=True,
            door_sensor=True,
            full_reports=True,
        ),
        SimModel(
            code="X1E",
            name="X1E",
            serial_prefix="03W",
            camera_socket=False,
            chamber_sensor=True,
            door_sensor=True,
            full_reports=True,
        ),
        SimModel(
            code="P1P",
            name="P1P",
            serial_prefix="01S",
            camera_socket=True,
            chamber_sensor=False,
            door_sensor=False,
            full_reports=False,
        ),
        SimModel(
            code="P1S",
            name="P1S",
            serial_prefix="01P",
            camera_socket=True,
            chamber_sensor=False,
            door_sensor=False,
            full_reports=False,
        ),
        SimModel(
            code="A1",
            name="A1",
            serial_prefix="039",
            camera_socket=True,
            chamber_sensor=False,
            door_sensor=False,
            full_reports=False,
        ),
        SimModel(
            code="A1M",
            name="A1 mini",
            serial_prefix="030",
            camera_socket=True,
            chamber_sensor=False,
            door_sensor=False,
            full_reports=False,
        ),
        SimModel(
            code="H2D",
            name="H2D",
            serial_prefix="094",
            camera_socket=False,
            chamber_sensor=True,
            door_sensor=True,
            full_reports=False,
            extruders=2,
            second_light=True,
        ),
        SimModel(
            code="H2S",
            name="H2S",
            serial_prefix="093",
            camera_socket=False,
            chamber_sensor=True,
            door_sensor=True,
            full_reports=False,
            second_light=True,
        ),
    )
}


def sim_model(code: str | None) -> SimModel:
    """The model for ``--bambu-model`` (default P1S); ValueError for unknown codes."""
    key = (code or "P1S").strip().upper().replace(" ", "").replace("MINI", "M")
    if key not in MODELS:
        raise ValueError(f"unknown Bambu model {code!r}: one of {', '.join(MODELS)}")
    return MODELS[key]
