"""Camera: stills and MJPEG through Home Assistant's camera API, per brand transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from unittest.mock import patch

from homeassistant.components import camera
from homeassistant.components.camera import CameraEntityFeature
from homeassistant.const import ATTR_SUPPORTED_FEATURES, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printfarm.const import CAMERA_OFF, CAMERA_SNAPSHOT, DOMAIN, OPTION_CAMERA
from custom_components.printfarm.printers import PrinterCommandError, Reason
from simulator.base import SimOptions

from .test_platforms import Printer, go_offline, running_printer

JPEG_SOI = b"\xff\xd8"


@pytest.fixture
async def printer(hass: HomeAssistant, kind: str) -> AsyncIterator[Printer]:
    """A printing simulator of ``kind`` with its entry loaded."""
    async with running_printer(hass, kind) as running:
        yield running


async def read_first_frame(
    hass_client: ClientSessionGenerator, entity_id: str
) -> tuple[str, bytes]:
    """Open the camera's MJPEG stream through Home Assistant; its content type and first bytes."""
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    assert response.status == 200
    chunk = b""
    while JPEG_SOI not in chunk and len(chunk) < 65536:
        chunk += await response.content.read(4096)
    response.close()
    return response.content_type, chunk


@pytest.mark.parametrize("kind", ["bambu"])
async def test_jpeg_socket_camera_streams_mjpeg_from_stills(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    """Bambu P1/A1 send JPEGs over TLS: Home Assistant gets an MJPEG stream of them."""
    camera_id = printer.entity_id(hass, "camera")
    state = hass.states.get(camera_id)
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == 0  # no RTSP stream to offer

    image = await camera.async_get_image(hass, camera_id)
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(JPEG_SOI)

    content_type, chunk = await read_first_frame(hass_client, camera_id)
    assert content_type == "multipart/x-mixed-replace"
    assert JPEG_SOI in chunk


@pytest.mark.parametrize("kind", ["octoprint", "moonraker"])
async def test_mjpeg_camera_is_proxied(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    """Printers with an MJPEG URL: stills and the proxied stream both carry JPEG frames."""
    camera_id = printer.entity_id(hass, "camera")
    assert await camera.async_get_stream_source(hass, camera_id) is None  # MJPEG, not RTSP
    image = await camera.async_get_image(hass, camera_id)
    assert image.content.startswith(JPEG_SOI)
    content_type, chunk = await read_first_frame(hass_client, camera_id)
    assert content_type == "multipart/x-mixed-replace"
    assert JPEG_SOI in chunk


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_stream_refused_falls_back_to_stills(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    """When the printer will not open its stream, the stream is built from stills."""
    camera_id = printer.entity_id(hass, "camera")
    client = printer.entry.runtime_data.client
    with patch.object(
        client,
        "open_stream",
        side_effect=PrinterCommandError("no stream", reason=Reason.CAMERA_BUSY),
    ):
        content_type, chunk = await read_first_frame(hass_client, camera_id)
    assert content_type == "multipart/x-mixed-replace"
    assert JPEG_SOI in chunk


@pytest.mark.parametrize("kind", ["elegoo"])
async def test_still_while_the_only_stream_is_taken_is_a_translated_error(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, printer: Printer
) -> None:
    """Elegoo serves one viewer: a still requested meanwhile fails with a clear message."""
    camera_id = printer.entity_id(hass, "camera")
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{camera_id}")
    try:
        assert response.status == 200
        assert JPEG_SOI in await response.content.read(4096)  # the viewer holds the stream
        with pytest.raises(HomeAssistantError) as err:
            await camera.async_get_image(hass, camera_id)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "camera_busy"
    finally:
        response.close()


@pytest.mark.parametrize("kind", ["moonraker"])
async def test_offline_camera_is_unavailable_and_gives_no_image(
    hass: HomeAssistant, printer: Printer
) -> None:
    camera_id = printer.entity_id(hass, "camera")
    await go_offline(hass, printer)
    state = hass.states.get(camera_id)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError, match="Unable to get image"):
        await camera.async_get_image(hass, camera_id)


async def test_rtsps_camera_offers_its_stream(hass: HomeAssistant) -> None:
    """Bambu X1: RTSPS stream source; stills come from the stream, not a snapshot call."""
    async with running_printer(hass, "bambu", options=SimOptions(model="X1C")) as printer:
        camera_id = printer.entity_id(hass, "camera")
        state = hass.states.get(camera_id)
        assert state is not None
        assert state.attributes[ATTR_SUPPORTED_FEATURES] == CameraEntityFeature.STREAM
        source = await camera.async_get_stream_source(hass, camera_id)
        assert source is not None
        # the loopback relay, never the printer's own RTSPS URL (see printers/bambu/rtsps.py)
        assert source.startswith("rtsp://bblp:")
        assert "@127.0.0.1:" in source
        assert ":322/" not in source
        assert source.endswith("/streaming/live/1")
        entity = camera.get_camera_from_entity_id(hass, camera_id)
        assert entity.stream_options["rtsp_transport"] == "tcp"
        assert camera.get_camera_from_entity_id(hass, camera_id).use_stream_for_stills


@pytest.mark.parametrize("kind", ["elegoo", "moonraker"])
async def test_stills_only_camera_never_holds_the_printer_stream(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, kind: str
) -> None:
    """Camera option "still images": frames one at a time, the printer's stream never opened."""
    options = {OPTION_CAMERA: CAMERA_SNAPSHOT}
    async with running_printer(hass, kind, entry_options=options) as printer:
        camera_id = printer.entity_id(hass, "camera")
        client = printer.entry.runtime_data.client
        with patch.object(client, "open_stream", wraps=client.open_stream) as open_stream:
            content_type, chunk = await read_first_frame(hass_client, camera_id)
        assert content_type == "multipart/x-mixed-replace"
        assert JPEG_SOI in chunk
        open_stream.assert_not_called()
        assert camera.get_camera_from_entity_id(hass, camera_id).frame_interval == 5.0


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("moonraker", CAMERA_OFF),
        ("elegoo", CAMERA_OFF),
        ("bambu", CAMERA_OFF),
        ("moonraker", False),
    ],
)
async def test_camera_can_be_switched_off(hass: HomeAssistant, kind: str, value: object) -> None:
    """The camera option off (or False, as stored before the modes): no camera entity."""
    async with running_printer(hass, kind, entry_options={OPTION_CAMERA: value}) as printer:
        registry = er.async_get(hass)
        entries = er.async_entries_for_config_entry(registry, printer.entry.entry_id)
        domains = {e.domain for e in entries}
    assert "camera" not in domains
    assert "sensor" in domains
