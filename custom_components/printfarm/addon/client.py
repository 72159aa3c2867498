"""The detection add-on's API: typed values in, typed errors out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
import json
from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=15)
MAX_JSON = 4 * 1024 * 1024
MAX_IMAGE = 12 * 1024 * 1024
#: The add-on sends at least a keepalive every 20 s; three missed mean the connection is dead.
STREAM_SILENCE_S = 60.0
LEVELS = frozenset({"ok", "warning", "failure"})


class DetectionError(Exception):
    """The add-on could not be asked, or refused."""


class DetectionConnectionError(DetectionError):
    """The add-on is unreachable."""


class DetectionAuthError(DetectionError):
    """The API key was refused."""


class DetectionProtocolError(DetectionError):
    """The add-on answered something malformed."""


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class AddonInfo:
    """Who answered."""

    uuid: str
    version: str
    name: str

    @classmethod
    def parse(cls, raw: object) -> AddonInfo:
        """From ``/api/v1/info``."""
        if not isinstance(raw, dict) or not isinstance(raw.get("uuid"), str) or not raw["uuid"]:
            raise DetectionProtocolError("the add-on's info has no uuid")
        return cls(
            uuid=raw["uuid"],
            version=str(raw.get("version") or ""),
            name=str(raw.get("name") or "printfarm detection"),
        )


@dataclass(frozen=True, slots=True)
class LastDetection:
    """The printer's most recent warning or failure."""

    id: int
    time: float
    level: str
    score: float | None
    action: str | None
    feedback: str | None

    @classmethod
    def parse(cls, raw: object) -> LastDetection | None:
        """From a printer's ``detection`` field (None when there is none)."""
        if not isinstance(raw, dict):
            return None
        ident, moment = raw.get("id"), _number(raw.get("time"))
        if not isinstance(ident, int) or isinstance(ident, bool) or moment is None:
            return None
        level = raw.get("level")
        return cls(
            id=ident,
            time=moment,
            level=level if level in LEVELS else "warning",
            score=_number(raw.get("score")),
            action=raw.get("action") if isinstance(raw.get("action"), str) else None,
            feedback=raw.get("feedback") if isinstance(raw.get("feedback"), str) else None,
        )


@dataclass(frozen=True, slots=True)
class PrinterDetection:
    """One watched printer as the add-on sees it."""

    key: str
    device_id: str | None
    name: str
    enabled: bool
    sensitivity: float
    printing: bool
    level: str
    score: float | None
    frame_score: float | None
    warming_up: bool | None
    detection: LastDetection | None
    problem: str | None

    @classmethod
    def parse(cls, raw: object) -> PrinterDetection:
        """From one entry of ``/api/v1/printers``."""
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise DetectionProtocolError("a printer entry has no id")
        level = raw.get("level")
        device = raw.get("device_id")
        sensitivity = _number(raw.get("sensitivity"))
        problem = raw.get("problem")
        warming = raw.get("warming_up")
        return cls(
            key=raw["id"],
            device_id=device if isinstance(device, str) and device else None,
            name=str(raw.get("name") or raw["id"]),
            enabled=raw.get("enabled") is not False,
            sensitivity=sensitivity if sensitivity is not None else 1.0,
            printing=raw.get("printing") is True,
            level=level if level in LEVELS else "ok",
            score=_number(raw.get("score")),
            frame_score=_number(raw.get("frame_score")),
            warming_up=warming if isinstance(warming, bool) else None,
            detection=LastDetection.parse(raw.get("detection")),
            problem=problem if isinstance(problem, str) else None,
        )


def parse_printers(raw: object) -> dict[str, PrinterDetection]:
    """``/api/v1/printers``, keyed by the printer's key."""
    items = raw.get("printers") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise DetectionProtocolError("the add-on's printer list is malformed")
    parsed = [PrinterDetection.parse(item) for item in items]
    return {printer.key: printer for printer in parsed}


class DetectionClient:
    """Calls to one add-on."""

    def __init__(self, session: aiohttp.ClientSession, url: str, api_key: str) -> None:
        """``url`` like ``http://local-printfarm-detect:8100``."""
        self._session = session
        self.url = url.rstrip("/")
        self._api_key = api_key

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            async with self._session.request(
                method, self.url + path, json=body, headers=self._headers, timeout=TIMEOUT
            ) as response:
                data = await response.content.read(MAX_JSON + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise DetectionConnectionError(str(err) or type(err).__name__) from err
        if status == 401:
            raise DetectionAuthError("the add-on refused the API key")
        if len(data) > MAX_JSON:
            raise DetectionProtocolError("the add-on's answer is too large")
        try:
            value = json.loads(data)
        except ValueError as err:
            raise DetectionProtocolError("the add-on's answer is not JSON") from err
        if status >= 400:
            message = value.get("error") if isinstance(value, dict) else None
            raise DetectionError(str(message or f"HTTP {status}"))
        return value

    async def info(self) -> AddonInfo:
        """Identity and version."""
        return AddonInfo.parse(await self._request("GET", "/api/v1/info"))

    async def printers(self) -> dict[str, PrinterDetection]:
        """Every watched printer."""
        return parse_printers(await self._request("GET", "/api/v1/printers"))

    async def configure(
        self, key: str, *, enabled: bool | None = None, sensitivity: float | None = None
    ) -> PrinterDetection:
        """Change a printer's settings; its new view."""
        body: dict[str, Any] = {}
        if enabled is not None:
            body["enabled"] = enabled
        if sensitivity is not None:
            body["sensitivity"] = sensitivity
        path = f"/api/v1/printers/{_quote(key)}/settings"
        return PrinterDetection.parse(await self._request("POST", path, body))

    async def feedback(
        self, key: str, verdict: str, detection_id: int | None = None
    ) -> PrinterDetection:
        """Mark a detection (the latest by default) as false_alarm or confirmed."""
        body: dict[str, Any] = {"verdict": verdict}
        if detection_id is not None:
            body["detection_id"] = detection_id
        path = f"/api/v1/printers/{_quote(key)}/feedback"
        return PrinterDetection.parse(await self._request("POST", path, body))

    async def detection_image(self, key: str) -> bytes | None:
        """The latest detection with its evidence drawn (JPEG), None when there is none."""
        try:
            async with self._session.get(
                f"{self.url}/api/v1/printers/{_quote(key)}/detection.jpg",
                headers=self._headers,
                timeout=TIMEOUT,
            ) as response:
                if response.status == 404:
                    return None
                if response.status == 401:
                    raise DetectionAuthError("the add-on refused the API key")
                if response.status != 200 or response.content_type != "image/jpeg":
                    raise DetectionProtocolError(f"no image (HTTP {response.status})")
                data = await response.content.read(MAX_IMAGE + 1)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise DetectionConnectionError(str(err) or type(err).__name__) from err
        if len(data) > MAX_IMAGE:
            raise DetectionProtocolError("the detection image is too large")
        return data

    async def stream(self) -> AsyncIterator[dict[str, PrinterDetection] | PrinterDetection]:
        """The whole list once, then each changed printer, until the connection ends."""
        try:
            ws = await self._session.ws_connect(
                f"{self.url}/api/v1/stream",
                headers=self._headers,
                max_msg_size=MAX_JSON,
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status == 401:
                raise DetectionAuthError("the add-on refused the API key") from err
            raise DetectionConnectionError(str(err)) from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise DetectionConnectionError(str(err) or type(err).__name__) from err
        async with ws:
            while True:
                try:
                    message = await ws.receive(timeout=STREAM_SILENCE_S)
                except TimeoutError as err:
                    raise DetectionConnectionError(
                        f"no message from the add-on for {STREAM_SILENCE_S:.0f} s"
                    ) from err
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                try:
                    data = json.loads(message.data)
                except ValueError as err:
                    raise DetectionProtocolError(
                        "the add-on sent something that is not JSON"
                    ) from err
                kind = data.get("type") if isinstance(data, dict) else None
                if kind == "printers":
                    yield parse_printers(data)
                elif kind == "printer":
                    yield PrinterDetection.parse(data.get("printer"))


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")
