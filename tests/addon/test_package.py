"""The add-on folder as the Supervisor reads it: config.yaml, options, translations, files."""

from __future__ import annotations

import json
import re
from typing import Any

from PIL import Image
import pytest
import yaml

from ml_addon.printfarm_addon.config import Options, OptionsError

from .conftest import ROOT

ADDON = ROOT / "ml_addon"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = yaml.safe_load((ADDON / "config.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_required_keys_and_supervisor_features(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch"):
        assert config[key], key
    assert sorted(config["arch"]) == ["aarch64", "amd64"]
    assert re.fullmatch(r"[a-z0-9_]+", config["slug"])
    assert config["homeassistant_api"] is True
    assert config["discovery"] == ["printfarm"]
    assert config["ingress"] is True
    assert config["ingress_port"] == 8099
    assert config["ports"] == {"8100/tcp": None}  # internal network only
    assert "image" not in config  # built locally from the Dockerfile
    assert {m["type"] for m in config["map"]} == {"addon_config", "media"}
    assert config["watchdog"].endswith("[PORT:8099]/health")


def test_init_matches_the_base_image(config: dict[str, Any]) -> None:
    dockerfile = (ADDON / "Dockerfile").read_text()
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert base is not None
    # glibc base: onnxruntime has manylinux wheels for aarch64 and x86_64, none for musl.
    assert "alpine" not in base.group(1)
    assert "slim" in base.group(1) or "debian" in base.group(1)
    # No s6-overlay in a plain Python image: Docker's init (tini) must be PID 1.
    assert config["init"] is True
    assert "BUILD_FROM" not in dockerfile
    requirements = (ADDON / "requirements.txt").read_text()
    assert "onnxruntime" in requirements


def test_options_and_schema_agree(config: dict[str, Any]) -> None:
    options, schema = config["options"], config["schema"]
    assert set(options) <= set(schema)
    # The defaults are valid options for the service.
    parsed = Options.from_mapping(options)
    assert parsed.interval == 10.0
    assert parsed.on_failure.value == "pause_and_notify"
    assert schema["on_failure"] == "list(notify|pause|pause_and_notify)"


def test_every_option_is_translated(config: dict[str, Any]) -> None:
    translations = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text())
    assert set(translations["configuration"]) == set(config["schema"])
    for key, text in translations["configuration"].items():
        assert text["name"], key
        assert text["description"], key
    assert set(translations["network"]) == set(config["ports"])


def test_files_the_store_shows() -> None:
    for name in ("DOCS.md", "README.md", "CHANGELOG.md", "Dockerfile", "apparmor.txt"):
        assert (ADDON / name).is_file(), name
    with Image.open(ADDON / "icon.png") as icon:
        assert icon.format == "PNG"
        assert icon.size[0] == icon.size[1]
    with Image.open(ADDON / "logo.png") as logo:
        assert logo.format == "PNG"
    slug = yaml.safe_load((ADDON / "config.yaml").read_text())["slug"]
    assert f"profile {slug} " in (ADDON / "apparmor.txt").read_text()


def test_repository_yaml_names_the_repository() -> None:
    repo = yaml.safe_load((ROOT / "repository.yaml").read_text())
    assert repo["name"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": 0}, "interval"),
        ({"sensitivity": 5}, "sensitivity"),
        ({"on_failure": "explode"}, "on_failure"),
        ({"notify": "not an action"}, "notify"),
        ({"ai_task_entity": "light.kitchen"}, "ai_task_entity"),
        ({"cameras": [{"camera": "sensor.x"}]}, "camera"),
        ({"cameras": [{"camera": "camera.x", "pause": "DROP TABLE"}]}, "pause"),
        ({"cameras": "camera.x"}, "cameras"),
        ({"inference_url": "ftp://x"}, "inference_url"),
        ({"threads": 99}, "threads"),
    ],
)
def test_bad_options_are_refused_with_the_option_named(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(OptionsError, match=message):
        Options.from_mapping(options)


def test_extra_cameras_parse() -> None:
    options = Options.from_mapping(
        {
            "cameras": [
                {
                    "camera": "camera.ender",
                    "pause": "button.ender_pause",
                    "status": "binary_sensor.ender_printing",
                }
            ]
        }
    )
    assert options.cameras[0].camera == "camera.ender"
    assert options.cameras[0].pause == "button.ender_pause"
    assert json.dumps(options.cameras[0].status) == '"binary_sensor.ender_printing"'
