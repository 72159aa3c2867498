"""The running add-on: model, Home Assistant connection, one watcher per printer, HTTP side."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import replace
import json
import logging
import os
from pathlib import Path
import secrets
import socket
import time
from typing import Any
import uuid

import aiohttp
from aiohttp import web

from ..printfarm_detect.decision import CameraReference, DecisionSettings
from . import __version__
from .actions import Actions
from .api import Api
from .config import Environment, Options
from .ha import HaAuthError, HaError, HomeAssistantClient
from .history import History, restore_if_missing
from .inference import InferenceError, ModelAdapter, ModelChoice, load_adapter
from .printers import PrinterSpec, all_printers
from .timelapse import Timelapse
from .watcher import Runtime, Watcher

LOGGER = logging.getLogger(__name__)

RESCAN_DELAY = 2.0
CONNECT_BACKOFF = (2.0, 5.0, 10.0, 30.0)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def history_path(env: Environment) -> Path:
    """The live database."""
    return env.data_dir / "history.db"


def backup_path(env: Environment) -> Path:
    """The copy written before Home Assistant backs up the add-on's data."""
    return env.data_dir / "backup" / "history.db"


class Service:
    """Everything the add-on runs."""

    def __init__(self, env: Environment, options: Options) -> None:
        """Nothing starts before ``start``."""
        self.env = env
        self.options = options
        self.watchers: dict[str, Watcher] = {}
        self.api = Api(self)
        self.model_error: str | None = None
        self.model_note: str | None = None
        self.started = time.time()
        self._identity = self._load_identity()
        self._session: aiohttp.ClientSession | None = None
        self._runners: list[web.AppRunner] = []
        self._rescan: asyncio.TimerHandle | None = None
        self._rescanning = asyncio.Lock()
        self._stopped = asyncio.Event()
        env.data_dir.mkdir(parents=True, exist_ok=True)
        restored = restore_if_missing(history_path(env), backup_path(env))
        if restored:
            LOGGER.info("History restored from the backup copy")
        self.history = History(history_path(env))
        threads = options.threads or max(1, min(4, os.cpu_count() or 1))
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inference")
        self.threads = threads
        settings = DecisionSettings(sensitivity=options.sensitivity, on_failure=options.on_failure)
        if options.warmup_frames is not None:
            settings = replace(settings, warmup_frames=options.warmup_frames)
        self.timelapse = Timelapse(
            env.data_dir / "timelapse-frames",
            env.media_dir if options.timelapse else None,
            keep=options.timelapse_keep,
        )
        self.runtime: Runtime | None = None
        self._base_settings = settings
        self.ui_port = env.ui_port
        self.api_port = env.api_port

    # ------------------------------------------------------------ identity

    def _load_identity(self) -> dict[str, str]:
        path = self.env.data_dir / "identity.json"
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data.get("uuid"), str) and isinstance(data.get("api_key"), str):
                return {"uuid": data["uuid"], "api_key": data["api_key"]}
        identity = {"uuid": uuid.uuid4().hex, "api_key": secrets.token_urlsafe(32)}
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(identity))
        # For a manual connection (standalone installs): the key on its own, readable by the owner.
        _write_private(self.env.data_dir / "api_key", identity["api_key"] + "\n")
        return identity

    @property
    def api_key(self) -> str:
        """The key the integration presents (kept in the data folder, never logged)."""
        return self._identity["api_key"]

    @property
    def uuid(self) -> str:
        """This add-on installation's identity."""
        return self._identity["uuid"]

    # --------------------------------------------------------------- model

    def _choice(self) -> ModelChoice:
        options = self.options
        path: Path | None = None
        if options.model:
            path = self.env.config_dir / options.model
        elif (self.env.config_dir / "model.onnx").is_file():
            path = self.env.config_dir / "model.onnx"
        return ModelChoice(
            path=path,
            server_url=options.inference_url,
            server_model=options.inference_model,
        )

    def load_model(self) -> ModelAdapter | None:
        """The chosen model; the built-in one when that fails; None when nothing loads."""
        choice = self._choice()
        data = self.env.data_dir
        try:
            adapter = load_adapter(choice, data)
        except InferenceError as err:
            LOGGER.error("Cannot use the chosen model: %s", err)  # noqa: TRY400
            self.model_note = f"chosen model failed ({err}); using the built-in model"
            if choice.path is None and choice.server_url is None:
                self.model_error = str(err)
                return None
            try:
                adapter = load_adapter(ModelChoice(), data)
            except InferenceError as again:
                LOGGER.error("The built-in model cannot be loaded either: %s", again)  # noqa: TRY400
                self.model_error = str(again)
                return None
        LOGGER.info("Model: %s (per-frame threshold %.3f)", adapter.describe(), adapter.threshold)
        return adapter

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the model, connect to Home Assistant, serve, announce."""
        adapter = await asyncio.to_thread(self.load_model)
        settings = self._base_settings
        if adapter is not None:
            settings = replace(settings, threshold=adapter.threshold)
        self._session = aiohttp.ClientSession()
        ha = HomeAssistantClient(self._session, self.env.ha_url, self.env.ws_url, self.env.token)
        self.runtime = Runtime(
            ha=ha,
            pool=self.pool,
            history=self.history,
            timelapse=self.timelapse,
            actions=Actions(ha, self.options, self.env.media_dir),
            options=self.options,
            settings=settings,
            adapter=adapter,
            publish=self.api.broadcast,
        )
        ha.add_state_listener(self._on_state)
        for event_type in ("entity_registry_updated", "device_registry_updated"):
            ha.add_event_listener(event_type, lambda _data: self.schedule_rescan())
        ha.on_connect(self.rescan)
        await self._serve()
        await self._connect(ha)
        if self.env.supervisor:
            await self.announce()

    async def _connect(self, ha: HomeAssistantClient) -> None:
        attempt = 0
        while True:
            try:
                await ha.start()
            except HaAuthError:
                raise
            except HaError as err:
                delay = CONNECT_BACKOFF[min(attempt, len(CONNECT_BACKOFF) - 1)]
                attempt += 1
                LOGGER.warning(
                    "Home Assistant is not reachable (%s); retrying in %.0f s", err, delay
                )
                await asyncio.sleep(delay)
                continue
            LOGGER.info("Connected to Home Assistant at %s", self.env.ha_url)
            return

    async def _serve(self) -> None:
        env = self.env
        bound = []
        for app, host, port in (
            (self.api.app(ui=True, peer=env.ingress_peer), env.ui_host, env.ui_port),
            (self.api.app(ui=False), env.api_host, env.api_port),
        ):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            self._runners.append(runner)
            bound.append(int(runner.addresses[0][1]) if runner.addresses else port)
        self.ui_port, self.api_port = bound  # the real ports when 0 asked for any free one
        LOGGER.info(
            "UI on %s:%d, API for the integration on %s:%d",
            env.ui_host,
            self.ui_port,
            env.api_host,
            self.api_port,
        )

    async def announce(self) -> bool:
        """Tell the Supervisor where the printfarm integration finds this add-on."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        payload = {
            "service": "printfarm",
            "config": {
                "host": socket.gethostname(),
                "port": self.api_port,
                "api_key": self.api_key,
                "uuid": self.uuid,
            },
        }
        try:
            async with self._session.post(
                f"{self.env.supervisor_url}/discovery",
                json=payload,
                headers={"Authorization": f"Bearer {self.env.token}"},
                timeout=aiohttp.ClientTimeout(total=20),
            ) as response:
                if response.status >= 400:
                    LOGGER.warning("Supervisor discovery refused (HTTP %d)", response.status)
                    return False
        except (aiohttp.ClientError, TimeoutError) as err:
            LOGGER.warning("Could not announce the add-on to the Supervisor: %s", err)
            return False
        LOGGER.info("Announced to Home Assistant: the printfarm integration will offer to connect")
        return True

    async def wait(self) -> None:
        """Until ``stop``."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop watching, close connections and the database."""
        for watcher in list(self.watchers.values()):
            await watcher.stop()
        self.api.close_streams()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self.runtime is not None:
            await self.runtime.ha.close()
            if self.runtime.adapter is not None:
                self.runtime.adapter.close()
        if self._session is not None:
            await self._session.close()
        self.pool.shutdown(wait=True, cancel_futures=True)
        await asyncio.to_thread(self.history.close)
        self._stopped.set()

    # ------------------------------------------------------------ printers

    def schedule_rescan(self) -> None:
        """Look at the registries again shortly (many updates come in bursts)."""
        if self._rescan is not None:
            self._rescan.cancel()
        loop = asyncio.get_running_loop()
        self._rescan = loop.call_later(RESCAN_DELAY, lambda: asyncio.ensure_future(self.rescan()))

    async def rescan(self) -> None:
        """Find the printers and follow their status entities."""
        runtime = self.runtime
        if runtime is None:
            return
        async with self._rescanning:
            try:
                entities = await runtime.ha.command({"type": "config/entity_registry/list"})
                devices = await runtime.ha.command({"type": "config/device_registry/list"})
            except HaError as err:
                LOGGER.warning("Cannot read Home Assistant's registries: %s", err)
                return
            specs = all_printers(
                entities if isinstance(entities, list) else [],
                devices if isinstance(devices, list) else [],
                self.options.cameras,
            )
            await self._apply(specs)
            watched = {s.status for s in specs if s.status} | {s.job for s in specs if s.job}
            try:
                await runtime.ha.watch(watched)
            except HaError as err:
                LOGGER.warning("Cannot follow the printers' status: %s", err)

    async def _apply(self, specs: list[PrinterSpec]) -> None:
        runtime = self.runtime
        assert runtime is not None
        wanted = {spec.key: spec for spec in specs}
        for key in [k for k, w in self.watchers.items() if wanted.get(k) != w.spec]:
            LOGGER.info("No longer watching %s", self.watchers[key].spec.name)
            await self.watchers.pop(key).stop()
        settings = await asyncio.to_thread(self.history.settings)
        references = await asyncio.to_thread(self.history.references)
        for key, spec in wanted.items():
            if key in self.watchers:
                continue
            enabled, sensitivity = settings.get(key, (True, None))
            watcher = Watcher(
                spec,
                runtime,
                reference=CameraReference.from_dict(references.get(key)),
                enabled=enabled,
                sensitivity=sensitivity,
            )
            self.watchers[key] = watcher
            for entity_id, handler in (
                (spec.status, watcher.on_status),
                (spec.job, watcher.on_job),
            ):
                if entity_id is not None and entity_id in runtime.ha.states:
                    handler(runtime.ha.states[entity_id])
            watcher.start()
            LOGGER.info(
                "Watching %s (camera %s, pause %s)", spec.name, spec.camera, spec.pause or "none"
            )
            runtime.publish(watcher)

    def _on_state(self, entity_id: str, state: str | None, _attributes: dict[str, Any]) -> None:
        for watcher in self.watchers.values():
            if watcher.spec.status == entity_id:
                watcher.on_status(state)
            if watcher.spec.job == entity_id:
                watcher.on_job(state)

    async def configure(
        self, watcher: Watcher, *, enabled: bool | None, sensitivity: float | None
    ) -> None:
        """Change and store a printer's settings."""
        watcher.configure(enabled=enabled, sensitivity=sensitivity)
        await asyncio.to_thread(
            self.history.save_settings, watcher.spec.key, watcher.enabled, watcher.sensitivity
        )

    # ---------------------------------------------------------------- views

    def info(self) -> dict[str, Any]:
        """Identity for the integration's config flow."""
        runtime = self.runtime
        adapter = runtime.adapter if runtime is not None else None
        return {
            "uuid": self.uuid,
            "version": __version__,
            "name": "printfarm detection",
            "model": adapter.describe() if adapter is not None else None,
            "printers": len(self.watchers),
        }

    def connection(self) -> dict[str, Any]:
        """How to connect the integration by hand (shown on the UI page only)."""
        return {
            "port": self.api_port,
            "api_key": self.api_key,
            "supervisor": self.env.supervisor,
        }

    def health(self) -> dict[str, Any]:
        """Liveness and what works."""
        runtime = self.runtime
        adapter = runtime.adapter if runtime is not None else None
        connected = runtime is not None and runtime.ha.connected
        problems = [w.spec.name for w in self.watchers.values() if w.problem]
        return {
            "status": "ok" if connected and adapter is not None else "degraded",
            "home_assistant": "connected" if connected else "disconnected",
            "model": adapter.describe() if adapter is not None else None,
            "model_error": self.model_error,
            "model_note": self.model_note,
            "printers": len(self.watchers),
            "watching": sum(1 for w in self.watchers.values() if w.printing and w.enabled),
            "printers_with_problems": problems,
            "threads": self.threads,
            "uptime_s": round(time.time() - self.started, 1),
        }
