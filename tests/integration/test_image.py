"""Image: the job's thumbnail, served through Home Assistant's image proxy."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from http import HTTPStatus

import aiohttp
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from simulator.moonraker.files import solid_png

from .test_platforms import Printer, go_offline, running_printer

PNG_MAGIC = b"\x89PNG"
JPEG_SOI = b"\xff\xd8"


@pytest.fixture
async def printer(hass: HomeAssistant, kind: str) -> AsyncIterator[Printer]:
    """A printing simulator of ``kind`` with its entry loaded."""
    async with running_printer(hass, kind) as running:
        yield running


async def fetch(hass_client: ClientSessionGenerator, entity_id: str) -> tuple[int, str, bytes]:
    """GET the image through Home Assistant: status, content type, body."""
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{entity_id}")
    return response.status, response.content_type, await response.read()


@pytest.mark.parametrize("kind", ["moonraker", "octoprint", "prusalink"])
async def test_thumbnail_is_served(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    status, content_type, body = await fetch(hass_client, printer.entity_id(hass, "thumbnail"))
    assert status == HTTPStatus.OK
    magic = PNG_MAGIC if content_type == "image/png" else JPEG_SOI
    assert content_type in {"image/png", "image/jpeg"}
    assert body.startswith(magic)


def sliced_gcode(thumbnail: bytes) -> bytes:
    """A small G-code file with an embedded 64x64 thumbnail, as PrusaSlicer writes it."""
    encoded = base64.b64encode(thumbnail).decode()
    lines = [f"; thumbnail begin 64x64 {len(encoded)}"]
    lines += [f"; {encoded[i : i + 78]}" for i in range(0, len(encoded), 78)]
    lines += ["; thumbnail end", "G28", "G1 X10 Y10 Z0.2", ""]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_thumbnail_follows_the_job(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    """A new job with its own preview: the image entity updates and serves the new one."""
    image_id = printer.entity_id(hass, "thumbnail")
    status, _type, first = await fetch(hass_client, image_id)
    assert status == HTTPStatus.OK
    before = hass.states.get(image_id)
    assert before is not None

    red = solid_png(64, 64, (200, 30, 30))
    assert red != first
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: printer.entity_id(hass, "stop")}, blocking=True
    )
    # A user uploads and starts another file (through Moonraker's own HTTP API).
    base = f"http://127.0.0.1:{printer.entry.data['port']}"
    form = aiohttp.FormData()
    form.add_field("file", sliced_gcode(red), filename="red_vase.gcode")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/server/files/upload", data=form) as response:
            assert response.status == HTTPStatus.CREATED
        async with session.post(
            f"{base}/printer/print/start", params={"filename": "red_vase.gcode"}
        ) as response:
            assert response.status == HTTPStatus.OK
    await printer.wait_for(hass, lambda s: s.job == "red_vase.gcode" and s.thumbnail_id is not None)

    after = hass.states.get(image_id)
    assert after is not None
    assert after.state != before.state  # image_last_updated moved on
    status, content_type, body = await fetch(hass_client, image_id)
    assert status == HTTPStatus.OK
    assert content_type == "image/png"
    assert body == red


@pytest.mark.parametrize("kind", ["octoprint"])
async def test_offline_printer_gives_no_thumbnail(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    """Nothing cached and the printer gone: no image, no crash, entity unavailable."""
    image_id = printer.entity_id(hass, "thumbnail")
    await go_offline(hass, printer)
    state = hass.states.get(image_id)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    status, _type, _body = await fetch(hass_client, image_id)
    assert status == HTTPStatus.INTERNAL_SERVER_ERROR
