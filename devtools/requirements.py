"""Python packages the develop Home Assistant needs beyond the test venv.

Home Assistant is started with ``--skip-pip`` so it never reaches PyPI while
it runs. Instead, before the first start, the requirements of every
integration it will load are checked here (read from the manifests, with
their dependencies), and whatever is missing - the frontend, on a fresh clone -
is pip-installed into the running interpreter's venv once. requirements.txt
stays lean: the test tiers never need the frontend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import json
from pathlib import Path
import subprocess
import sys

from homeassistant import bootstrap
import homeassistant.components
from homeassistant.util.package import is_installed

from .layout import CONFIGURED_DOMAINS, DOMAIN, Layout

COMPONENTS = Path(next(iter(homeassistant.components.__path__)))


def read_manifest(domain: str, custom: dict[str, Path]) -> dict[str, object] | None:
    """The manifest of a built-in or custom integration (None if there is none)."""
    folder = custom.get(domain) or COMPONENTS / domain
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def integration_requirements(
    domains: Iterable[str], manifest: Callable[[str], dict[str, object] | None]
) -> list[str]:
    """Requirements of ``domains`` and everything they (after-)depend on, in a stable order."""
    seen: set[str] = set()
    pending = sorted(set(domains))
    requirements: list[str] = []
    while pending:
        domain = pending.pop(0)
        if domain in seen:
            continue
        seen.add(domain)
        data = manifest(domain)
        if data is None:
            continue
        for requirement in _strings(data.get("requirements")):
            if requirement not in requirements:
                requirements.append(requirement)
        # after_dependencies are imported when present (analytics imports hassio's
        # client on Home Assistant 2026.x), so their packages must be there too.
        related = _strings(data.get("dependencies")) + _strings(data.get("after_dependencies"))
        pending.extend(sorted(set(related) - seen))
    return requirements


def platform_domains(integration: Path) -> set[str]:
    """Entity platforms the integration provides (sensor.py -> sensor), built-in ones only."""
    return {path.stem for path in integration.glob("*.py") if (COMPONENTS / path.stem).is_dir()}


def loaded_domains(integration: Path) -> set[str]:
    """What Home Assistant sets up with the develop configuration (before dependencies)."""
    return {
        *bootstrap.CORE_INTEGRATIONS,
        *bootstrap.DEFAULT_INTEGRATIONS,
        *CONFIGURED_DOMAINS,
        *platform_domains(integration),
        DOMAIN,
    }


def missing_requirements(
    requirements: Iterable[str], installed: Callable[[str], bool] = is_installed
) -> list[str]:
    """The requirements not satisfied in this interpreter."""
    return [requirement for requirement in requirements if not installed(requirement)]


def develop_requirements(layout: Layout) -> list[str]:
    """Every requirement of the develop Home Assistant."""
    custom = {DOMAIN: layout.integration_source}
    domains = loaded_domains(layout.integration_source)
    return integration_requirements(domains, lambda d: read_manifest(d, custom))


def install(requirements: list[str]) -> None:
    """pip-install into the running venv (the only network use, on first start)."""
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-m", "pip", "install", "--quiet", *requirements],
        check=True,
    )
