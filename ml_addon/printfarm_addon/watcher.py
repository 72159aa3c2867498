"""One printer's watch: capture, inference and decision as three steps per frame.

A watcher runs only while its printer prints and is enabled: one frame per
interval from HA's camera proxy (so the printer's own stream limits apply), the
model in the shared thread pool, then the printer's ``Decision``. A slow or dead
camera delays only its own watcher; an unreadable frame or a model error is
logged once and never counts as evidence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
import logging
import time
from typing import TYPE_CHECKING, Any
import uuid

from PIL import Image

from ..printfarm_detect.decision import (
    Action,
    CameraReference,
    Decision,
    DecisionSettings,
    Level,
    OnFailure,
    Verdict,
)
from .capture import MAX_FRAME_BYTES, decode_frame, to_jpeg
from .evidence import draw
from .ha import CameraError, HaError
from .inference import FrameAnalysis, InferenceError, ModelAdapter

if TYPE_CHECKING:
    from .actions import Actions
    from .config import Options
    from .ha import HomeAssistantClient
    from .history import History
    from .printers import PrinterSpec
    from .timelapse import Timelapse

LOGGER = logging.getLogger(__name__)

PAUSED_STATES = frozenset({"paused", "pausing"})
#: States that say nothing about the print (connection lost): the print stays open.
HOLD_STATES = frozenset({"unavailable", "unknown", "offline"})
REFERENCE_SAVE_EVERY = 30
KEEP_WIDTH = 640


@dataclass(slots=True)
class Runtime:
    """What every watcher shares."""

    ha: HomeAssistantClient
    pool: Executor
    history: History
    timelapse: Timelapse
    actions: Actions
    options: Options
    settings: DecisionSettings
    adapter: ModelAdapter | None
    publish: Callable[[Watcher], None]


@dataclass(frozen=True, slots=True)
class Seen:
    """The last analysed frame of a printer."""

    image: Image.Image
    analysis: FrameAnalysis
    verdict: Verdict
    time: float


class Watcher:
    """Watches one printer."""

    def __init__(
        self,
        spec: PrinterSpec,
        runtime: Runtime,
        *,
        reference: CameraReference,
        enabled: bool = True,
        sensitivity: float | None = None,
    ) -> None:
        """Idle until the printer's status says it prints."""
        self.spec = spec
        self.runtime = runtime
        self.enabled = enabled
        self.sensitivity = sensitivity
        self.decision = Decision(self._settings(), lifetime=reference)
        self.printing = spec.status is None  # no status entity: always watched
        self.status: str | None = None
        self.print_id: str | None = None
        self.job: str | None = None
        self.last: Seen | None = None
        self.last_detection: dict[str, Any] | None = None
        self.problem: str | None = None
        self.frames = 0
        self.updated = time.time()
        self._active = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        if self.printing:
            self._begin_print()
        self._sync_active()

    # ------------------------------------------------------------ control

    def _settings(self) -> DecisionSettings:
        base = self.runtime.settings
        return base.with_sensitivity(self.sensitivity) if self.sensitivity else base

    def start(self) -> None:
        """Start the frame loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"watch {self.spec.key}")

    async def stop(self) -> None:
        """Stop the frame loop and keep the camera's reference."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise
            self._task = None
        await asyncio.to_thread(self._save_reference)

    def configure(self, *, enabled: bool | None = None, sensitivity: float | None = None) -> None:
        """Change the printer's settings (from the integration or the UI)."""
        if enabled is not None:
            self.enabled = enabled
        if sensitivity is not None:
            self.sensitivity = sensitivity
            self.decision.settings = self._settings()
        self._sync_active()
        self._publish()

    def _sync_active(self) -> None:
        if self.enabled and self.printing and self.runtime.adapter is not None:
            self._active.set()
        else:
            self._active.clear()

    def refresh(self) -> None:
        """Re-evaluate after the model changed."""
        self._sync_active()

    def on_job(self, job: str | None) -> None:
        """The job name entity changed."""
        self.job = job

    def on_status(self, state: str | None) -> None:
        """The printer's status entity changed."""
        previous, self.status = self.status, state
        printing = self.spec.printing(state)
        if printing is None or state in HOLD_STATES or state is None:
            return
        if printing and not self.printing:
            if previous in PAUSED_STATES and self.print_id is not None:
                self.decision.resumed()
            else:
                self._begin_print()
        elif not printing and state not in PAUSED_STATES and self.print_id is not None:
            self._end_print()
        self.printing = printing
        self._sync_active()
        self._publish()

    def _begin_print(self) -> None:
        if self.print_id is not None:
            self._end_print()
        self.print_id = uuid.uuid4().hex
        self.decision.start_print()
        self.last = None
        self.frames = 0
        started = time.time()
        print_id, job = self.print_id, self.job
        self._background(
            asyncio.to_thread(
                self.runtime.history.start_print, print_id, self.spec.key, started, job
            )
        )
        LOGGER.info("%s started printing: watching %s", self.spec.name, self.spec.camera)

    def _end_print(self) -> None:
        print_id = self.print_id
        self.print_id = None
        if print_id is None:
            return
        runtime = self.runtime
        name, job = self.spec.name, self.job

        async def finish() -> None:
            await asyncio.to_thread(runtime.history.end_print, print_id, time.time())
            await asyncio.to_thread(self._save_reference)
            path = await asyncio.to_thread(runtime.timelapse.finish, print_id, name, job)
            if path is not None:
                LOGGER.info("Timelapse of %s written to %s", name, path)

        self._background(finish())
        LOGGER.info("%s stopped printing (%s)", self.spec.name, self.status)

    _tasks: set[asyncio.Task[Any]] = set()

    def _background(self, job: Any) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _save_reference(self) -> None:
        self.runtime.history.save_reference(self.spec.key, self.decision.lifetime.as_dict())

    def _publish(self) -> None:
        self.updated = time.time()
        self.runtime.publish(self)

    # --------------------------------------------------------------- loop

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._active.wait()
            started = loop.time()
            try:
                async with self._lock:
                    await self._frame()
            except Exception:  # one bad frame must not end the watch
                LOGGER.exception("Watching %s failed on a frame", self.spec.name)
            interval = self.runtime.options.interval
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))

    def _set_problem(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        if problem is None:
            LOGGER.info("%s: frames are usable again", self.spec.name)
        else:
            LOGGER.warning("%s: %s (frame skipped, not evidence)", self.spec.name, problem)
        self.problem = problem
        self._publish()

    async def _frame(self) -> None:
        runtime = self.runtime
        adapter = runtime.adapter
        if adapter is None:
            self._set_problem("no model is loaded")
            return
        timeout = min(max(runtime.options.interval, 5.0), 20.0)
        try:
            data = await runtime.ha.camera_image(
                self.spec.camera, max_bytes=MAX_FRAME_BYTES, timeout=timeout
            )
        except HaError as err:  # CameraError included
            self._set_problem(f"no frame from {self.spec.camera}: {err}")
            return
        loop = asyncio.get_running_loop()
        try:
            image, analysis = await loop.run_in_executor(
                runtime.pool, _analyse, adapter, self.spec.key, data
            )
        except CameraError as err:
            self._set_problem(f"unusable frame from {self.spec.camera}: {err}")
            return
        except InferenceError as err:
            self._set_problem(f"model error: {err}")
            return
        if not self._active.is_set() or self.print_id is None:
            return  # the print stopped while the frame was analysed
        self._set_problem(None)
        verdict = self.decision.update(analysis.score, loop.time(), logit=analysis.logit)
        self.frames += 1
        now = time.time()
        previous = self.last.verdict.level if self.last is not None else Level.OK
        self.last = Seen(image=_small(image), analysis=analysis, verdict=verdict, time=now)
        print_id = self.print_id
        await asyncio.to_thread(
            runtime.history.add_point,
            self.spec.key,
            print_id,
            now,
            verdict.score,
            verdict.smoothed,
            verdict.level.value,
        )
        await asyncio.to_thread(runtime.timelapse.add, print_id, image, verdict.level.value)
        if self.frames % REFERENCE_SAVE_EVERY == 0:
            await asyncio.to_thread(self._save_reference)
        if verdict.level is not Level.OK and (verdict.level is not previous or verdict.action):
            await self._detected(image, analysis, verdict, now)
        self._publish()

    async def _detected(
        self, image: Image.Image, analysis: FrameAnalysis, verdict: Verdict, now: float
    ) -> None:
        runtime = self.runtime
        spec = self.spec
        drawn = await asyncio.to_thread(
            draw, image, analysis.evidence, level=verdict.level.value, score=verdict.smoothed
        )
        evidence_jpeg, frame_jpeg = await asyncio.to_thread(
            lambda: (to_jpeg(drawn), to_jpeg(image, quality=90))
        )
        action = verdict.action
        detection_id = await asyncio.to_thread(
            runtime.history.add_detection,
            printer=spec.key,
            print_id=self.print_id or "",
            time=now,
            level=verdict.level.value,
            score=verdict.score,
            smoothed=verdict.smoothed,
            action=None if action is None else action.value,
            image=evidence_jpeg,
            frame=frame_jpeg,
        )
        self.last_detection = {
            "id": detection_id,
            "time": now,
            "level": verdict.level.value,
            "score": round(verdict.smoothed, 4),
            "action": None if action is None else action.value,
            "feedback": None,
        }
        LOGGER.warning(
            "%s: %s (smoothed score %.2f, frame %.2f)",
            spec.name,
            verdict.level.value,
            verdict.smoothed,
            verdict.score,
        )
        if action is None:
            return
        media = await asyncio.to_thread(
            runtime.actions.save_image, spec, detection_id, evidence_jpeg
        )
        note: list[str] = []
        paused = False
        if action is Action.PAUSE:
            opinion = await runtime.actions.second_opinion(spec, media)
            if opinion is not None:
                note.append(f"AI Task: {opinion.text or opinion.failure}")
            if opinion is not None and opinion.failure is False and runtime.options.ai_task_veto:
                note.append("not paused: the AI Task saw no failure")
            else:
                error = await runtime.actions.pause(spec)
                paused = error is None
                if error is not None:
                    note.append(f"pause failed: {error}")
        if note:
            text = "; ".join(note)
            self.last_detection["note"] = text
            await asyncio.to_thread(runtime.history.set_note, detection_id, text)
        self.last_detection["action"] = "pause" if paused else "notify"
        notify = (
            action is Action.NOTIFY
            or not paused
            or (runtime.options.on_failure is OnFailure.PAUSE_AND_NOTIFY)
        )
        if notify:
            await runtime.actions.notify(spec, *self._message(verdict, paused, note), media)
        await runtime.actions.event(
            {
                "printer": spec.name,
                "device_id": spec.device_id,
                "camera": spec.camera,
                "level": verdict.level.value,
                "score": round(verdict.smoothed, 4),
                "frame_score": round(verdict.score, 4),
                "action": "pause" if paused else "notify",
                "detection_id": detection_id,
                "image": None if media is None else f"/media/local/{media}",
                "media_content_id": None
                if media is None
                else f"media-source://media_source/local/{media}",
                "note": "; ".join(note) or None,
            }
        )

    def _message(self, verdict: Verdict, paused: bool, note: list[str]) -> tuple[str, str]:
        name = self.spec.name
        if verdict.level is Level.FAILURE:
            title = f"{name}: print failure detected"
            first = "The print was paused." if paused else "The print was not paused."
        else:
            title = f"{name}: the print may be failing"
            first = "Have a look at the camera."
        lines = [
            first,
            f"Score {verdict.smoothed:.0%} (this camera usually {verdict.reference:.0%}).",
        ]
        lines += note
        return title, " ".join(lines)

    # ------------------------------------------------------------ feedback

    async def feedback(self, verdict: str, detection_id: int | None) -> bool:
        """The user's verdict on a detection (the latest when ``detection_id`` is None)."""
        runtime = self.runtime
        if detection_id is None:
            latest = await asyncio.to_thread(runtime.history.detections, self.spec.key, 1)
            if not latest:
                return False
            detection_id = latest[0].id
        record = await asyncio.to_thread(runtime.history.detection, detection_id)
        if record is None or record.printer != self.spec.key:
            return False
        await asyncio.to_thread(runtime.history.set_feedback, detection_id, verdict, time.time())
        if verdict == "false_alarm":
            frame = await asyncio.to_thread(runtime.history.blob, detection_id, "frame")
            adapter = runtime.adapter
            if frame is not None and adapter is not None:
                loop = asyncio.get_running_loop()
                try:
                    await loop.run_in_executor(
                        runtime.pool, _learn_false_alarm, adapter, self.spec.key, frame
                    )
                except (CameraError, InferenceError, OSError) as err:
                    LOGGER.warning("Could not learn from the false alarm: %s", err)
            if record.print_id == self.print_id:
                self.decision.false_alarm()
        if self.last_detection is not None and self.last_detection.get("id") == detection_id:
            self.last_detection["feedback"] = verdict
        self._publish()
        return True

    # --------------------------------------------------------------- view

    def view(self) -> dict[str, Any]:
        """What the integration and the UI show."""
        seen = self.last
        return {
            "id": self.spec.key,
            "name": self.spec.name,
            "camera": self.spec.camera,
            "device_id": self.spec.device_id,
            "printfarm": self.spec.printfarm,
            "printing": self.printing,
            "status": self.status,
            "enabled": self.enabled,
            "sensitivity": self.sensitivity or self.runtime.settings.sensitivity,
            "level": self.decision.level.value if self.print_id else Level.OK.value,
            "score": round(seen.verdict.smoothed, 4) if seen else None,
            "frame_score": round(seen.verdict.score, 4) if seen else None,
            "warming_up": seen.verdict.warming_up if seen else None,
            "frames": self.frames,
            "print_id": self.print_id,
            "detection": self.last_detection,
            "problem": self.problem,
            "updated": self.updated,
        }


def _analyse(adapter: ModelAdapter, key: str, data: bytes) -> tuple[Image.Image, FrameAnalysis]:
    """Decode and score a frame (runs in the pool)."""
    image = decode_frame(data)
    return image, adapter.analyse(key, image)


def _small(image: Image.Image) -> Image.Image:
    """What is kept of the last frame for the page (not the full decode, ten printers add up)."""
    if image.width <= KEEP_WIDTH:
        return image
    return image.resize((KEEP_WIDTH, max(1, image.height * KEEP_WIDTH // image.width)))


def _learn_false_alarm(adapter: ModelAdapter, key: str, frame: bytes) -> None:
    adapter.false_alarm(key, decode_frame(frame))
