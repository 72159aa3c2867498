"""Where the develop Home Assistant listens: 127.0.0.1 and the chosen port, on every release.

Home Assistant 2025.4 reads ``http:`` from configuration.yaml on every start.
Newer releases keep the HTTP config in storage (``.storage/http``): YAML is
migrated once, as a trial that reverts to the stored default (every interface,
port 8123) and restarts Home Assistant unless a user confirms it within five
minutes, and is ignored from then on, so a later start on another port would
not move it. On those releases scripts/develop writes the stored config itself
before every start, as the confirmed one, and leaves ``http:`` out of the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

#: The module of Home Assistant's stored HTTP config (absent before it existed).
STORE_MODULE = "homeassistant.components.http.config"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class HttpStore:
    """What this release needs to find its HTTP config in storage."""

    key: str
    version: int
    minor_version: int
    schema: Any  # validates and fills in defaults, as Home Assistant itself does

    def document(self, port: int) -> dict[str, Any]:
        """``.storage/http``: loopback on ``port``, confirmed, no YAML left to migrate."""
        stable = dict(self.schema({"server_host": [LOOPBACK], "server_port": port}))
        stable.update(created_at=datetime.now(UTC).isoformat(), error=None, error_message=None)
        return {
            "version": self.version,
            "minor_version": self.minor_version,
            "key": self.key,
            "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
        }


def _module() -> ModuleType | None:
    try:
        return importlib.import_module(STORE_MODULE)
    except ImportError:
        return None


def stored_http_config(module: ModuleType | None = None) -> HttpStore | None:
    """The release's HTTP config store, or None where ``http:`` YAML is the config."""
    module = _module() if module is None else module
    if module is None or not hasattr(module, "HTTPConfigStore"):
        return None
    return HttpStore(
        key=module.STORAGE_KEY,
        version=module.STORAGE_VERSION,
        minor_version=module.STORAGE_MINOR_VERSION,
        schema=module.HTTP_STORAGE_SCHEMA,
    )


def yaml_lines(port: int) -> list[str]:
    """``http:`` for configuration.yaml (releases without the store)."""
    return ["http:", f"  server_host: {LOOPBACK}", f"  server_port: {port}", ""]


def write_store(storage: Path, store: HttpStore, port: int) -> None:
    """Write ``.storage/http`` for ``port`` (before every start: the port may change)."""
    path = storage / store.key
    path.write_text(json.dumps(store.document(port), indent=2), encoding="utf-8")
