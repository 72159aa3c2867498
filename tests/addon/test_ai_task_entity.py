"""The add-on's second opinion through Home Assistant's own AI Task integration (HA 2025.7+).

The add-on asks ``ai_task.generate_data`` over REST, as it does in a user's Home Assistant;
HA resolves the attachment (a saved detection frame in the media folder, or a camera's
snapshot), validates the structure and hands the task to an AI Task entity. The entity
here answers like an LLM would; everything between the add-on and it is Home Assistant's.
On Home Assistant releases without AI Task (2025.4) there is nothing to ask and the module
is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.camera import Camera
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

from ml_addon.printfarm_addon.actions import Actions
from ml_addon.printfarm_addon.config import Options
from ml_addon.printfarm_addon.ha import HomeAssistantClient
from ml_addon.printfarm_addon.printers import PrinterSpec
from tests.devtools.conftest import served

ai_task: Any = pytest.importorskip("homeassistant.components.ai_task")
AITaskEntity: Any = ai_task.AITaskEntity

FRAME = (Path(__file__).parents[2] / "simulator/frames/failure/failure_1.jpg").read_bytes()


class JudgingAITask(AITaskEntity):  # type: ignore[misc]
    """Says "failure" when it was given a JPEG it can read, like a vision model would."""

    _attr_name = "Judge"
    _attr_unique_id = "judge"
    _attr_supported_features = (
        ai_task.AITaskEntityFeature.GENERATE_DATA | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS
    )

    def __init__(self) -> None:
        self.tasks: list[Any] = []

    async def _async_generate_data(self, task: Any, chat_log: Any) -> Any:
        self.tasks.append(task)
        frames = [Path(a.path).read_bytes() for a in task.attachments or []]
        jpeg = bool(frames) and all(f.startswith(b"\xff\xd8") for f in frames)
        return ai_task.GenDataTaskResult(
            conversation_id=chat_log.conversation_id,
            data={"failure": jpeg, "reason": "Spaghetti beside the part." if jpeg else "No frame."},
        )


class PrinterCamera(Camera):
    """A printer's camera as Home Assistant's camera proxy serves it."""

    _attr_name = "Voron camera"
    _attr_unique_id = "voron_camera"

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        return FRAME


class VisionFlow(ConfigFlow):
    """The test integration's (unused) config flow."""

    VERSION = 1


async def setup_judge(hass: HomeAssistant) -> JudgingAITask:
    """An integration whose config entry brings the AI Task entity and a camera."""
    judge = JudgingAITask()

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, ["ai_task", "camera"])
        return True

    async def add_judge(hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback) -> None:
        add([judge])

    async def add_camera(hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback) -> None:
        add([PrinterCamera()])

    mock_integration(hass, MockModule("vision_test", async_setup_entry=setup_entry))
    mock_platform(hass, "vision_test.ai_task", MockPlatform(async_setup_entry=add_judge))
    mock_platform(hass, "vision_test.camera", MockPlatform(async_setup_entry=add_camera))
    mock_platform(hass, "vision_test.config_flow")
    entry = MockConfigEntry(domain="vision_test")
    entry.add_to_hass(hass)
    with mock_config_flow("vision_test", VisionFlow):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return judge


async def test_second_opinion_from_a_real_ai_task_entity(
    hass: HomeAssistant, aiohttp_client: Any, hass_access_token: str, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    saved = media / "printfarm" / "detections" / "voron" / "7.jpg"
    saved.parent.mkdir(parents=True)
    saved.write_bytes(FRAME)
    hass.config.media_dirs = {"local": str(media)}
    for domain in ("homeassistant", "media_source", "ai_task", "camera"):
        assert await async_setup_component(hass, domain, {})
    judge = await setup_judge(hass)
    entity_id = judge.entity_id
    assert entity_id.startswith("ai_task.")
    camera = next(iter(hass.states.async_entity_ids("camera")))
    base = await served(hass, aiohttp_client, "api", "websocket_api")
    import aiohttp

    async with aiohttp.ClientSession() as session:
        ha = HomeAssistantClient(session, base, base + "/api/websocket", hass_access_token)
        actions = Actions(ha, Options(ai_task_entity=entity_id), media_dir=None)
        spec = PrinterSpec(key="d1", name="Voron", camera=camera)

        # The saved detection frame, resolved by Home Assistant from the media folder.
        opinion = await actions.second_opinion(spec, "printfarm/detections/voron/7.jpg")
        assert opinion is not None
        assert opinion.failure is True
        assert opinion.text == "Spaghetti beside the part."
        task = judge.tasks[-1]
        assert task.name == "printfarm check of Voron"
        assert task.structure is not None  # the add-on's structure passed HA's validation
        assert [a.mime_type for a in task.attachments] == ["image/jpeg"]

        # No saved frame: Home Assistant takes the camera's snapshot itself.
        opinion = await actions.second_opinion(spec, None)
        assert opinion is not None
        assert opinion.failure is True
        assert task is not judge.tasks[-1]
        assert judge.tasks[-1].attachments[0].media_content_id == f"media-source://camera/{camera}"

        # A frame gone from the media folder: the entity cannot read it and Home Assistant
        # answers 500; the add-on goes on without an opinion instead of failing the pause.
        assert await actions.second_opinion(spec, "printfarm/detections/voron/gone.jpg") is None
        assert len(judge.tasks) == 3
