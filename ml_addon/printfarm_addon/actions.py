"""What a decision does in Home Assistant: pause, notify, fire an event, ask an AI Task.

Everything goes through HA's own services and event bus. A failed action is
logged and reported back (the watcher notifies that the pause did not work);
it never stops the watcher.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any

from .config import Options
from .ha import HaError, HomeAssistantClient
from .printers import PrinterSpec
from .timelapse import slug

LOGGER = logging.getLogger(__name__)

EVENT_TYPE = "printfarm_detection"
DETECTIONS_SUBDIR = Path("printfarm") / "detections"
KEEP_DETECTION_IMAGES = 50
#: Entity domains and the action that "presses" them to pause a print.
PRESS = {
    "button": ("button", "press"),
    "input_button": ("input_button", "press"),
    "script": ("script", "turn_on"),
    "switch": ("switch", "turn_on"),
    "input_boolean": ("input_boolean", "turn_on"),
    "scene": ("scene", "turn_on"),
}
AI_INSTRUCTIONS = (
    "You are checking a camera frame of a 3D printer that is printing. Does it show a failed "
    "print (spaghetti-like loose filament, a part knocked off the bed, a blob around the "
    "nozzle)? Answer failure true or false and give a one-sentence reason."
)


@dataclass(frozen=True, slots=True)
class SecondOpinion:
    """The AI Task's answer about a frame."""

    failure: bool | None
    text: str


class Actions:
    """Pause, notify and report for the watchers."""

    def __init__(self, ha: HomeAssistantClient, options: Options, media_dir: Path | None) -> None:
        """Bind the client and the user's choices."""
        self.ha = ha
        self.options = options
        self.media_dir = media_dir

    async def pause(self, spec: PrinterSpec) -> str | None:
        """Ask Home Assistant to pause the printer; None when done, else why not."""
        target = spec.pause
        if target is None:
            return "no pause entity or action is known for this printer"
        domain, _, name = target.partition(".")
        try:
            if domain in PRESS:
                service_domain, service = PRESS[domain]
                await self.ha.call_service(service_domain, service, {"entity_id": target})
            else:
                await self.ha.call_service(domain, name, {})
        except HaError as err:
            LOGGER.error("Pausing %s through %s failed: %s", spec.name, target, err)  # noqa: TRY400
            return str(err)
        LOGGER.warning("Paused %s through %s", spec.name, target)
        return None

    def save_image(self, spec: PrinterSpec, detection_id: int, image: bytes) -> str | None:
        """Put the evidence image in HA's media folder; its ``/media/local/...`` path.

        Blocking (file I/O): call from a thread. Keeps the newest images per printer.
        """
        if self.media_dir is None:
            return None
        folder = self.media_dir / DETECTIONS_SUBDIR / slug(spec.name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{detection_id}.jpg").write_bytes(image)
            files = sorted(folder.glob("*.jpg"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[KEEP_DETECTION_IMAGES:]:
                old.unlink(missing_ok=True)
        except OSError as err:
            LOGGER.warning("Could not save the detection image of %s: %s", spec.name, err)
            return None
        return f"{DETECTIONS_SUBDIR.as_posix()}/{slug(spec.name)}/{detection_id}.jpg"

    async def notify(self, spec: PrinterSpec, title: str, message: str, image: str | None) -> None:
        """Send the notification the user chose (none when ``notify`` is empty)."""
        action = self.options.notify
        if action is None:
            return
        domain, _, service = action.partition(".")
        data: dict[str, Any] = {"title": title, "message": message}
        if domain == "persistent_notification":
            # The frontend cannot show an authenticated media URL in markdown: the printer's
            # "last detection" image entity shows the frame instead.
            data["notification_id"] = f"printfarm_detect_{slug(spec.key)}"
        elif image is not None:
            data["data"] = {"image": f"/media/local/{image}"}
        try:
            await self.ha.call_service(domain, service, data)
        except HaError as err:
            LOGGER.warning("Notification through %s failed: %s", action, err)

    async def event(self, data: dict[str, Any]) -> None:
        """Fire ``printfarm_detection`` on HA's bus."""
        try:
            await self.ha.fire_event(EVENT_TYPE, data)
        except HaError as err:
            LOGGER.warning("Could not fire %s: %s", EVENT_TYPE, err)

    async def second_opinion(self, spec: PrinterSpec, image: str | None) -> SecondOpinion | None:
        """Ask the configured AI Task about the frame; None without one or when it fails."""
        entity = self.options.ai_task_entity
        if entity is None:
            return None
        attachment = (
            {
                "media_content_id": f"media-source://media_source/local/{image}",
                "media_content_type": "image/jpeg",
            }
            if image is not None
            else {
                "media_content_id": f"media-source://camera/{spec.camera}",
                "media_content_type": "image/jpeg",
            }
        )
        request = {
            "task_name": f"printfarm check of {spec.name}",
            "entity_id": entity,
            "instructions": AI_INSTRUCTIONS,
            "structure": {
                "failure": {"selector": {"boolean": {}}, "required": True},
                "reason": {"selector": {"text": {}}},
            },
            "attachments": [attachment],
        }
        try:
            answer = await self.ha.call_service(
                "ai_task", "generate_data", request, return_response=True, timeout=60.0
            )
        except HaError as err:
            LOGGER.warning("The AI Task %s could not give a second opinion: %s", entity, err)
            return None
        return parse_opinion(answer)


def parse_opinion(answer: object) -> SecondOpinion | None:
    """The AI Task's structured answer from a ``?return_response`` service call."""
    response = answer.get("service_response") if isinstance(answer, dict) else None
    data = response.get("data") if isinstance(response, dict) else None
    if isinstance(data, dict):
        failure = data.get("failure")
        reason = data.get("reason")
        return SecondOpinion(
            failure=failure if isinstance(failure, bool) else None,
            text=str(reason)[:500] if reason is not None else "",
        )
    if isinstance(data, str):
        return SecondOpinion(failure=None, text=data[:500])
    return None
