"""Every translation file mirrors strings.json: same keys, same placeholders, no empty text."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

import pytest

COMPONENT = Path(__file__).parents[2] / "custom_components" / "printfarm"
SOURCE = COMPONENT / "strings.json"
LANGUAGE_FILES = sorted((COMPONENT / "translations").glob("*.json"))
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Plain file checks: no Home Assistant instance needed, unlike the rest of this folder."""


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: top level is not an object"
    return data


def leaves(node: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) for every non-object value, depth first."""
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from leaves(value, path)
        else:
            yield path, value


def test_there_are_translations() -> None:
    assert {p.stem for p in LANGUAGE_FILES} >= {"en", "de", "fr", "es", "nl"}


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_translation_matches_strings(path: Path) -> None:
    source = dict(leaves(load(SOURCE)))
    translated = dict(leaves(load(path)))

    assert sorted(translated) == sorted(source), (
        f"{path.name}: missing {sorted(source.keys() - translated.keys())}, "
        f"extra {sorted(translated.keys() - source.keys())}"
    )
    for key, text in translated.items():
        assert isinstance(text, str), f"{path.name} {key}: not a string"
        assert text.strip(), f"{path.name} {key}: empty"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source[key])), (
            f"{path.name} {key}: placeholders differ from strings.json"
        )
