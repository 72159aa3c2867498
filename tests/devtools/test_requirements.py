"""What the develop Home Assistant needs installed before it may start with --skip-pip."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.const import __version__ as ha_version
from homeassistant.util.package import is_installed

from devtools.layout import DOMAIN, Layout
from devtools.requirements import (
    develop_requirements,
    integration_requirements,
    loaded_domains,
    missing_requirements,
    platform_domains,
    read_manifest,
)

from .conftest import REPO

MANIFESTS: dict[str, dict[str, Any]] = {
    "a": {"requirements": ["pa==1"], "dependencies": ["b", "c"]},
    "b": {"requirements": ["pb==2"], "dependencies": ["c"]},
    "c": {"requirements": ["pa==1", "pc>=3"]},
    "d": {"requirements": ["pd==4"]},
    "e": {"requirements": ["pe==5"], "after_dependencies": ["d"]},
}


def test_requirements_follow_dependencies_once() -> None:
    assert integration_requirements(["a", "missing"], MANIFESTS.get) == ["pa==1", "pb==2", "pc>=3"]
    assert integration_requirements(["d"], MANIFESTS.get) == ["pd==4"]
    assert integration_requirements(["e"], MANIFESTS.get) == ["pe==5", "pd==4"]


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
    # printfarm's own are in every test venv; what else is missing (the frontend,
    # and on newer Home Assistant releases more of the default integrations'
    # packages) scripts/develop installs on its first start.
    manifest = read_manifest(DOMAIN, {DOMAIN: layout.integration_source})
    assert manifest is not None
    own = [str(r) for r in cast(list[str], manifest["requirements"])]
    assert own
    assert set(own) <= set(requirements)
    assert missing_requirements(own) == []


def test_loaded_domains_include_printfarm_platforms() -> None:
    platforms = platform_domains(REPO / "custom_components" / "printfarm")
    assert {"sensor", "camera", "button"} <= platforms
    assert "coordinator" not in platforms
    domains = loaded_domains(REPO / "custom_components" / "printfarm")
    assert {"printfarm", "frontend", "history", "person"} <= domains
    assert "default_config" not in domains


def test_is_installed_is_homeassistants_check() -> None:
    assert is_installed(f"homeassistant=={ha_version}")
    assert missing_requirements(["homeassistant==0.1"]) == ["homeassistant==0.1"]
