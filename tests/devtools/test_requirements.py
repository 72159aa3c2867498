"""What the develop Home Assistant needs installed before it may start with --skip-pip."""

from __future__ import annotations

from typing import Any

from homeassistant.util.package import is_installed

from devtools.layout import Layout
from devtools.requirements import (
    develop_requirements,
    integration_requirements,
    loaded_domains,
    missing_requirements,
    platform_domains,
)

from .conftest import REPO

MANIFESTS: dict[str, dict[str, Any]] = {
    "a": {"requirements": ["pa==1"], "dependencies": ["b", "c"]},
    "b": {"requirements": ["pb==2"], "dependencies": ["c"]},
    "c": {"requirements": ["pa==1", "pc>=3"]},
    "d": {"requirements": ["pd==4"]},
}


def test_requirements_follow_dependencies_once() -> None:
    assert integration_requirements(["a", "missing"], MANIFESTS.get) == ["pa==1", "pb==2", "pc>=3"]
    assert integration_requirements(["d"], MANIFESTS.get) == ["pd==4"]


def test_missing_requirements_asks_the_installed_check() -> None:
    installed = {"pa==1"}
    assert missing_requirements(["pa==1", "pb==2"], installed.__contains__) == ["pb==2"]


def test_develop_requirements_cover_frontend_recorder_and_printfarm(layout: Layout) -> None:
    requirements = develop_requirements(layout)
    names = {r.split("=")[0].split(">")[0].lower() for r in requirements}
    # The frontend (not in requirements.txt), the recorder (via history), printfarm's own.
    assert {"home-assistant-frontend", "sqlalchemy", "paho-mqtt"} <= names
    # printfarm's camera platform comes with camera's requirements.
    assert "pyturbojpeg" in names
    # Everything else the test venv already has.
    assert [r for r in missing_requirements(requirements) if "frontend" not in r] == []


def test_loaded_domains_include_printfarm_platforms() -> None:
    platforms = platform_domains(REPO / "custom_components" / "printfarm")
    assert {"sensor", "camera", "button"} <= platforms
    assert "coordinator" not in platforms
    domains = loaded_domains(REPO / "custom_components" / "printfarm")
    assert {"printfarm", "frontend", "history", "person"} <= domains
    assert "default_config" not in domains


def test_is_installed_is_homeassistants_check() -> None:
    assert is_installed("homeassistant==2025.4.4")
    assert missing_requirements(["homeassistant==0.1"]) == ["homeassistant==0.1"]
