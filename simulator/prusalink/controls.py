"""Prusa-Link's legacy control routes (tool, bed, printhead), kept from OctoPrint's API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..job import PrintJob


class LegacyControls:
    """``POST /api/printer/tool``, ``/bed`` and ``/printhead`` within Prusa-Link's limits."""

    job: PrintJob

    def _answer(
        self, request: web.Request, status: int, title: str = "", text: str = ""
    ) -> web.Response:
        raise NotImplementedError

    def _apply(self, action: Callable[[], None]) -> None:
        raise NotImplementedError

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            data = await request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _limited(
        self, request: web.Request, value: Any, low: float, high: float
    ) -> float | web.Response:
        """The number, or a 400 unless ``value`` is within Prusa-Link's limits."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self._answer(request, 400, "Bad Request", "Invalid value.")
        if value < low:
            return self._answer(request, 400, "Value too low", "Desired value is too low")
        if value > high:
            return self._answer(request, 400, "Value too high", "Desired value is too high")
        return float(value)

    async def _tool(self, request: web.Request) -> web.Response:
        body = await self._body(request) or {}
        if body.get("command") == "target":
            targets = body.get("targets")
            value = targets.get("tool0") if isinstance(targets, dict) else None
            target = self._limited(request, value, 0, 305)
            if isinstance(target, web.Response):
                return target
            self._apply(lambda: self.job.set_nozzle_target(target))
        return self._answer(request, 204)

    async def _bed(self, request: web.Request) -> web.Response:
        body = await self._body(request) or {}
        if body.get("command") == "target":
            target = self._limited(request, body.get("target"), 0, 125)
            if isinstance(target, web.Response):
                return target
            self._apply(lambda: self.job.set_bed_target(target))
        return self._answer(request, 204)

    async def _printhead(self, request: web.Request) -> web.Response:
        body = await self._body(request) or {}
        if body.get("command") in ("speed", "feedrate"):
            factor = self._limited(request, body.get("factor", 100), 10, 999)
            if isinstance(factor, web.Response):
                return factor
            self._apply(lambda: self.job.set_speed_factor(round(factor)))
        return self._answer(request, 204)
