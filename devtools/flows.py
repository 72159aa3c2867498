"""Add simulated printers through Home Assistant's real config flow, over REST.

``POST /api/config/config_entries/flow {"handler": "printfarm"}`` answers the
kind menu; ``{"next_step_id": kind}`` answers the kind's form; the form is
filled from the simulator's JSON line by the field names in the form's own
``data_schema`` (fields in an expandable section go into that section), so a
change to the form needs no change here.

Simulators get new ports and credentials on every run, so the entries added
last time (their ids are kept in ``.develop/entries.json``) are removed first
and every printer is added again. An entry scripts/develop does not know about
that claims the same printer (the flow aborts ``already_configured``) is
removed too when it is not loaded - it points at a simulator that is gone.
Loaded entries it did not add (a real printer someone added) are left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import contextlib
from dataclasses import dataclass
import json
import time
from typing import Any

from .api import HaApi, HaApiError
from .layout import DOMAIN, Layout, write_private

FLOW = "/api/config/config_entries/flow"
ENTRIES = "/api/config/config_entries/entry"
#: Config entry states after which setup will not change by itself.
SETTLED_STATES = frozenset({"loaded", "setup_error", "migration_error", "failed_unload"})
#: Line keys that describe the printer rather than how to reach it.
DESCRIPTIVE_KEYS = frozenset({"kind", "name", "model", "extra"})


class FlowError(Exception):
    """The config flow did not go as a simulated printer's should."""


@dataclass(slots=True)
class Added:
    """One simulated printer and what the config flow made of it."""

    line: dict[str, Any]
    entry_id: str | None = None
    title: str | None = None
    outcome: str = "not added"
    state: str | None = None
    status: str | None = None
    status_entity: str | None = None

    @property
    def kind(self) -> str:
        """The printer kind."""
        return str(self.line["kind"])

    @property
    def name(self) -> str:
        """The name Home Assistant gave it, else the simulator's."""
        return self.title or str(self.line.get("name", "?"))


def line_values(line: Mapping[str, Any]) -> dict[str, Any]:
    """Everything in a simulator line a form might ask for (``extra`` lifted up)."""
    values = {k: v for k, v in line.items() if k not in DESCRIPTIVE_KEYS and v is not None}
    extra = line.get("extra") or {}
    values.update({k: v for k, v in extra.items() if v is not None})
    return values


def form_input(schema: Iterable[Mapping[str, Any]], values: Mapping[str, Any]) -> dict[str, Any]:
    """Fill a serialized ``data_schema`` from ``values``; sections become nested dicts.

    Raises FlowError when a required field has neither a value nor a default.
    """
    filled: dict[str, Any] = {}
    for item in schema:
        name = str(item["name"])
        if item.get("type") == "expandable":
            nested = form_input(item.get("schema") or [], values)
            if nested:
                filled[name] = nested
        elif name in values:
            filled[name] = values[name]
        elif item.get("required") and "default" not in item:
            raise FlowError(f"the form asks for {name!r}, which the simulator line lacks")
    return filled


async def abort_flow(api: HaApi, flow_id: str) -> None:
    """Drop a flow left on a form."""
    with contextlib.suppress(HaApiError):
        await api.delete(f"{FLOW}/{flow_id}")


async def _fill_form(
    api: HaApi, flow_id: str, menu: Mapping[str, Any], line: Mapping[str, Any]
) -> Any:
    kind = str(line["kind"])
    if menu.get("type") != "menu" or kind not in (menu.get("menu_options") or []):
        raise FlowError(f"expected the kind menu offering {kind!r}, got {menu}")
    form = await api.post(f"{FLOW}/{flow_id}", json={"next_step_id": kind})
    if form.get("type") != "form" or form.get("step_id") != kind:
        raise FlowError(f"expected the {kind} form, got {form}")
    answer = form_input(form.get("data_schema") or [], line_values(line))
    return await api.post(f"{FLOW}/{flow_id}", json=answer)


async def run_flow(api: HaApi, line: Mapping[str, Any]) -> dict[str, Any]:
    """Menu -> kind -> form for one printer; the flow's last answer."""
    menu = await api.post(FLOW, json={"handler": DOMAIN, "show_advanced_options": True})
    flow_id = str(menu["flow_id"])
    try:
        result = await _fill_form(api, flow_id, menu, line)
    except BaseException:
        await abort_flow(api, flow_id)
        raise
    if result.get("type") == "form":
        await abort_flow(api, flow_id)
    return dict(result)


def describe(result: Mapping[str, Any]) -> str:
    """A flow's end in words."""
    kind = result.get("type")
    if kind == "create_entry":
        return "added"
    if kind == "abort":
        return f"aborted: {result.get('reason')}"
    if kind == "form":
        return f"form error: {result.get('errors')}"
    return f"unexpected {kind}"


async def list_entries(api: HaApi) -> list[dict[str, Any]]:
    """printfarm's config entries (id, title, state ...)."""
    entries = await api.get(f"{ENTRIES}?domain={DOMAIN}")
    return [dict(entry) for entry in entries]


async def remove_entry(api: HaApi, entry_id: str) -> None:
    """Remove one config entry (gone already is fine)."""
    try:
        await api.delete(f"{ENTRIES}/{entry_id}")
    except HaApiError as err:
        if err.status != 404:
            raise


def load_tracked(layout: Layout) -> list[str]:
    """Entry ids scripts/develop added last time."""
    try:
        data = json.loads(layout.entries_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    return [str(entry_id) for entry_id in data.get("entry_ids", [])]


def save_tracked(layout: Layout, entry_ids: Iterable[str]) -> None:
    """Remember the entries this run added."""
    write_private(layout.entries_file, json.dumps({"entry_ids": list(entry_ids)}, indent=2) + "\n")


async def add_printers(
    api: HaApi, lines: Iterable[Mapping[str, Any]], tracked: Iterable[str] = ()
) -> tuple[list[Added], list[str]]:
    """Remove ``tracked`` entries, add every printer; (results, ids of removed entries)."""
    removed: list[str] = []
    existing = {entry["entry_id"] for entry in await list_entries(api)}
    for entry_id in tracked:
        if entry_id in existing:
            await remove_entry(api, entry_id)
            removed.append(entry_id)
    results: list[Added] = []
    for line in lines:
        added = Added(line=dict(line))
        # A "Discovered" card of this printer does not stand in the way: the
        # user flow wins and Home Assistant closes the card once the entry exists.
        result = await run_flow(api, line)
        if result.get("type") == "abort" and result.get("reason") == "already_configured":
            stale = [
                entry["entry_id"]
                for entry in await list_entries(api)
                if entry.get("state") != "loaded"
            ]
            for entry_id in stale:
                await remove_entry(api, entry_id)
                removed.append(entry_id)
            if stale:
                result = await run_flow(api, line)
        added.outcome = describe(result)
        if result.get("type") == "create_entry":
            entry = result.get("result") or {}
            added.entry_id = str(entry.get("entry_id"))
            added.title = str(entry.get("title") or result.get("title"))
        results.append(added)
    return results, removed


async def wait_settled(api: HaApi, results: list[Added], timeout: float = 60.0) -> None:
    """Poll until every added entry is loaded or has given up (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        states = {entry["entry_id"]: entry.get("state") for entry in await list_entries(api)}
        for added in results:
            if added.entry_id is not None:
                added.state = states.get(added.entry_id, "removed")
        pending = [a for a in results if a.entry_id is not None and a.state not in SETTLED_STATES]
        if not pending or time.monotonic() >= deadline:
            return
        await asyncio.sleep(0.5)


async def read_statuses(api: HaApi, results: list[Added]) -> None:
    """Each entry's status sensor and its state (via the entity registry)."""
    by_entry = {a.entry_id: a for a in results if a.entry_id is not None}
    if not by_entry:
        return
    registry = await api.ws_command({"type": "config/entity_registry/list"})
    for entity in registry:
        added = by_entry.get(entity.get("config_entry_id"))
        if (
            added is None
            or entity.get("platform") != DOMAIN
            or entity.get("translation_key") != "status"
            or not str(entity.get("entity_id", "")).startswith("sensor.")
        ):
            continue
        added.status_entity = str(entity["entity_id"])
        try:
            state = await api.get(f"/api/states/{added.status_entity}")
        except HaApiError as err:
            if err.status != 404:
                raise
            continue
        added.status = str(state.get("state"))


def summary_table(results: Iterable[Added]) -> str:
    """Printer, kind, address, entry state and status as an aligned text table."""
    header = ("Printer", "Kind", "Address", "Entry", "Status")
    rows = [header]
    for added in results:
        address = f"{added.line.get('host')}:{added.line.get('port')}"
        entry = added.state if added.entry_id is not None else added.outcome
        rows.append((added.name, added.kind, address, entry or "?", added.status or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
