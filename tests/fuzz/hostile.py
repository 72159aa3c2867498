"""What a hostile printer sends: captured payloads with values swapped for poison.

Mutation works on JSON text, not on Python objects, so inputs no Python
encoder would write (``10**400``, nesting deeper than the recursion limit,
a million-character string, truncated documents) reach the parsers exactly
as a printer would send them.
"""

from __future__ import annotations

from collections.abc import Sequence
import copy
import json
from typing import Any

from hypothesis import strategies as st

type Path = tuple[str | int, ...]

#: JSON texts that broke parsers once, or would break a careless one.
POISON: tuple[str, ...] = (
    "1" + "0" * 400,  # a valid JSON integer too large for a float
    "-1" + "0" * 400,
    "1e999",  # the decoder turns it into inf
    "NaN",
    "-Infinity",
    '"NaN"',
    '"1e999"',
    '"  42  "',
    '"0x1F"',
    '""',
    "true",
    "null",
    "-1",
    "4294967296",
    "1.7976931348623157e308",
    '"\\ud800"',  # a lone surrogate
    '"\\u0000"',
    '"' + "é" * 64 + '"',
    '"http://[::1"',
    '"' + "x" * 100_000 + '"',
    "[" * 50 + "]" * 50,
    "[" * 5000 + "]" * 5000,  # deeper than the decoder allows
    '{"a":' * 3000 + "1" + "}" * 3000,
    "[]",
    "{}",
    '{"": {"": []}}',
)

#: Key paths inside a document (values of any kind, containers included).
MAX_PATHS = 400


def json_values() -> st.SearchStrategy[Any]:
    """Arbitrary JSON values of modest size."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=12), inner, max_size=4),
        ),
        max_leaves=12,
    )


def poison() -> st.SearchStrategy[str]:
    """One hostile JSON value, as text."""
    return st.one_of(
        st.sampled_from(POISON),
        json_values().map(json.dumps),
        st.integers(min_value=1, max_value=6000).map(lambda n: "[" * n + "]" * n),
        st.integers(min_value=309, max_value=4000).map(lambda n: "9" * n),
        st.text(max_size=200).map(json.dumps),
    )


def paths(document: Any) -> list[Path]:
    """Every path to a value in ``document``, breadth first, at most MAX_PATHS."""
    found: list[Path] = [()]
    queue: list[tuple[Path, Any]] = [((), document)]
    while queue and len(found) < MAX_PATHS:
        path, value = queue.pop(0)
        children: list[tuple[str | int, Any]] = []
        if isinstance(value, dict):
            children = list(value.items())
        elif isinstance(value, list):
            children = list(enumerate(value))
        for key, child in children:
            found.append((*path, key))
            queue.append(((*path, key), child))
    return found


def _replace(document: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return document


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[Any]) -> str:
    """A seed document as text with one to three values replaced by poison.

    Sometimes also cut short, or with a poisoned key added to an object.
    """
    document = copy.deepcopy(draw(st.sampled_from(seeds)))
    candidates = paths(document)
    tokens: dict[str, str] = {}
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(candidates))
        token = f"\x00poison{index}\x00"
        try:
            document = _replace(document, path, token)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
        tokens[json.dumps(token)] = draw(poison())
    if isinstance(document, dict) and draw(st.booleans()):
        token = "\x00added\x00"
        document[draw(st.text(max_size=20))] = token
        tokens[json.dumps(token)] = draw(poison())
    text = json.dumps(document)
    for token, value in tokens.items():
        text = text.replace(token, value)
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    return text


def hostile_text(seeds: Sequence[Any]) -> st.SearchStrategy[str]:
    """Mostly mutated seeds; now and then plain garbage."""
    return st.one_of(
        mutated(seeds),
        mutated(seeds),
        mutated(seeds),
        st.text(max_size=300),
        poison(),
    )


@st.composite
def _edited(draw: st.DrawFn, seeds: Sequence[str]) -> str:
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        cut = draw(st.integers(min_value=0, max_value=8))
        insert = draw(st.one_of(st.text(max_size=12), st.sampled_from(POISON)))
        text = text[:at] + insert + text[at + cut :]
    if draw(st.booleans()):
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    return text


def edited_text(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    """Seeds that are not JSON (headers, framed bytes), edited in place."""
    return st.one_of(
        _edited(seeds),
        _edited(seeds),
        st.text(max_size=300),
        st.binary(max_size=300).map(lambda data: data.decode("latin-1")),
    )
