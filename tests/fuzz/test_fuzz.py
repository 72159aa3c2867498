"""Bounded fuzzing in the suite: every target, a fixed set of hostile inputs, no escapes.

``scripts/fuzz`` runs the same targets far longer and with fresh inputs each
time; this keeps CI fast (derandomized, a few hundred inputs per target).
"""

from __future__ import annotations

import pytest

from .engine import run_target
from .targets import TARGETS, FuzzTarget

#: Inputs per target in CI; ``scripts/fuzz --examples N`` for more.
EXAMPLES = 150


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_no_input_escapes(target: FuzzTarget) -> None:
    """Only typed errors leave a parser, and a good message after a bad one takes effect."""
    tally = run_target(target, examples=EXAMPLES, derandomize=True)
    assert tally.inputs >= EXAMPLES // 2
    escapes = [s for s in tally.samples if s["what"] == "escape"]
    assert tally.escapes == 0, escapes
