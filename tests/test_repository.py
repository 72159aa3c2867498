"""Mini-hassfest: the checks hassfest and HACS would run, as far as they work offline."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
import shutil
import subprocess
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant.util.yaml import load_yaml
from PIL import Image
import pytest

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "printfarm"
SKIP_DIRS = {".venv", ".interop", ".develop", ".train-venv", ".git", "node_modules"}
PLATFORMS = (
    "binary_sensor",
    "button",
    "camera",
    "event",
    "fan",
    "image",
    "light",
    "number",
    "select",
    "sensor",
    "switch",
)
RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}
ALL_RULES = {rule for rules in RULES.values() for rule in rules}


def _ignored_by_git(paths: list[Path]) -> set[Path]:
    """Those of ``paths`` git ignores (scratch folders); none where git is not there."""
    if not paths or not (ROOT / ".git").exists() or shutil.which("git") is None:
        return set()
    done = subprocess.run(
        ["git", "check-ignore", "--stdin"],
        cwd=ROOT,
        input="\n".join(str(p.relative_to(ROOT)) for p in paths),
        capture_output=True,
        text=True,
        check=False,
    )
    return {ROOT / line for line in done.stdout.splitlines() if line}


def repo_files(name_pattern: str) -> list[Path]:
    """Files in the repository (not in tool or git-ignored folders) whose name matches."""
    found = [
        path
        for path in ROOT.rglob(name_pattern)
        if not any(
            part in SKIP_DIRS or part.startswith(".venv-") for part in path.relative_to(ROOT).parts
        )
    ]
    ignored = _ignored_by_git(found)
    return [path for path in found if path not in ignored]


def load(name: str) -> Any:
    return json.loads((INTEGRATION / name).read_text())


def module(name: str) -> ast.Module:
    return ast.parse((INTEGRATION / name).read_text())


def test_manifest_keys_order_and_version() -> None:
    manifest = load("manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    for key in ("documentation", "issue_tracker", "codeowners", "version", "iot_class"):
        assert manifest.get(key), key
    assert manifest["domain"] == "printfarm"
    assert manifest["config_flow"] is True
    assert AwesomeVersion(manifest["version"]).valid
    assert manifest["codeowners"]


def test_one_manifest_and_no_stray_addon_configs() -> None:
    assert repo_files("manifest.json") == [INTEGRATION / "manifest.json"]
    configs = [p for ext in ("yaml", "yml", "json") for p in repo_files(f"config.{ext}")]
    assert configs in ([], [ROOT / "ml_addon" / "config.yaml"])


def _requirements(name: str) -> dict[str, str]:
    """Package name -> pinned line of a requirements file (comments dropped)."""
    pins: dict[str, str] = {}
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            pins[re.split(r"[=<>~!\[ ]", line, maxsplit=1)[0].lower()] = line
    return pins


def test_both_home_assistant_environments_carry_the_same_packages() -> None:
    """scripts/test --ha latest runs the same tests: it needs every package CI has.

    Only Home Assistant and its test harness differ, plus lint tools (lint runs in
    the CI environment only) and the MCP package, pinned as each release's mcp_server
    manifest pins it; the newer release may need packages its harness no longer brings.
    """
    ci, latest = _requirements("requirements.txt"), _requirements("requirements-ha-latest.txt")
    harness = {"homeassistant", "pytest-homeassistant-custom-component", "mcp"}
    lint = {"ruff", "mypy", "types-pyyaml"}
    assert {name: line for name, line in ci.items() if name not in harness | lint} == {
        name: line for name, line in latest.items() if name in ci and name not in harness
    }
    assert harness <= set(latest)
    assert harness <= set(ci)


def test_hacs_json() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    allowed = {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "hacs",
        "persistent_directory",
        "render_readme",
    }
    assert hacs["name"]
    assert set(hacs) <= allowed
    assert hacs["homeassistant"] == "2025.4.0"


def test_brand_images() -> None:
    """HACS looks for brand/icon.png first; HA shows the local brand folder from 2026.3."""
    sizes = {"icon.png": 256, "icon@2x.png": 512, "dark_icon.png": 256, "dark_icon@2x.png": 512}
    for name, size in sizes.items():
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.format == "PNG", name
            assert image.size == (size, size), name


def test_quality_scale_file() -> None:
    data = load_yaml(str(INTEGRATION / "quality_scale.yaml"))
    assert isinstance(data, dict)
    rules = data["rules"]
    assert set(rules) == ALL_RULES
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status == "exempt" or not isinstance(value, str):
            assert isinstance(value, dict), rule
            assert value.get("comment"), f"{rule} needs a comment"


def _done(rule: str) -> bool:
    data: dict[str, Any] = load_yaml(str(INTEGRATION / "quality_scale.yaml"))  # type: ignore[assignment]
    value = data["rules"][rule]
    return (value if isinstance(value, str) else value["status"]) == "done"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_parallel_updates_in_every_platform(platform: str) -> None:
    tree = module(f"{platform}.py")
    names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "PARALLEL_UPDATES" in names


def _function(tree: ast.Module, name: str) -> ast.AsyncFunctionDef:
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == name:
            return node
    raise AssertionError(f"no {name}")


def test_actions_registered_once_not_per_entry() -> None:
    assert _done("action-setup")
    setup_entry = ast.unparse(_function(module("__init__.py"), "async_setup_entry"))
    assert "async_register" not in setup_entry
    assert "async_setup_services" in ast.unparse(_function(module("__init__.py"), "async_setup"))


def test_runtime_data_and_first_refresh() -> None:
    setup_entry = ast.unparse(_function(module("__init__.py"), "async_setup_entry"))
    assert "entry.runtime_data =" in setup_entry
    assert "async_config_entry_first_refresh" in setup_entry


def test_config_flow_steps_exist() -> None:
    source = (INTEGRATION / "config_flow.py").read_text()
    for step in ("user", "reauth", "reconfigure", "zeroconf", "dhcp", "integration_discovery"):
        assert f"async def async_step_{step}(" in source
    assert "async_set_unique_id" in source
    assert "_abort_if_unique_id_configured" in source
    assert "async_get_config_entry_diagnostics" in (INTEGRATION / "diagnostics.py").read_text()


def test_every_config_field_is_described() -> None:
    strings = load("strings.json")
    for section in ("config", "options"):
        for step_id, step in strings[section]["step"].items():
            data = step.get("data", {})
            assert set(data) == set(step.get("data_description", {})), f"{section}.{step_id}"
            for name, sub in step.get("sections", {}).items():
                assert set(sub["data"]) == set(sub["data_description"]), f"{step_id}.{name}"


def test_entity_translation_keys_have_names_and_icons_match() -> None:
    all_strings = load("strings.json")
    strings = all_strings["entity"]
    exception_keys = set(all_strings["exceptions"])
    icons = load("icons.json")["entity"]
    for platform in PLATFORMS:
        source = (INTEGRATION / f"{platform}.py").read_text()
        keys = set(re.findall(r'translation_key="([a-z_]+)"', source))
        keys |= {m.group(1) for m in re.finditer(r'_temperature\(\s*"([a-z_]+)"', source)}
        keys |= set(re.findall(r'_fan\("([a-z_]+)"', source))
        for key in keys - exception_keys:
            assert strings[platform][key]["name"], f"{platform}.{key}"
        for key in icons.get(platform, {}):
            assert key in strings[platform], f"icon for unknown {platform}.{key}"


def test_exception_keys_used_in_code_are_translated() -> None:
    exceptions = load("strings.json")["exceptions"]
    used: set[str] = set()
    for path in INTEGRATION.glob("*.py"):
        used |= set(re.findall(r'translation_key="([a-z_]+)"', path.read_text()))
    from custom_components.printfarm.printers import Reason

    used |= {reason.value for reason in Reason}  # every client error reason is a key
    from custom_components.printfarm.farm_actions import FarmAction

    used |= {f"farm_{action.value}_failed" for action in FarmAction}
    entity_keys = {key for platform in load("strings.json")["entity"].values() for key in platform}
    device_keys = set(load("strings.json")["device"])  # DeviceInfo(translation_key=...)
    for key in used - entity_keys - device_keys:
        assert key in exceptions, key


def test_services_yaml_matches_translations() -> None:
    services = load_yaml(str(INTEGRATION / "services.yaml"))
    assert isinstance(services, dict)
    strings = load("strings.json")["services"]
    icons = load("icons.json")["services"]
    assert set(services) == set(strings) == set(icons)
    for name, service in services.items():
        assert set(service["fields"]) == set(strings[name]["fields"])
