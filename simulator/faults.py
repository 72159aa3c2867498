"""What a hostile or broken printer sends, one interface for every simulator.

``SimulatedPrinter.inject(fault)`` sends one bad message on the printer's
own channel (a websocket frame, an MQTT report, the next HTTP answer). The
bad messages are built here, from a good message of the printer's own, so
every protocol gets the same faults. (A slow link is not the printer's
doing: ``slowlink.SlowLink`` puts one between any client and any simulator.)
"""

from __future__ import annotations

from enum import StrEnum
import json
from typing import Any

#: Over the clients' 4 MiB message limit by a little.
OVERSIZED_BYTES = 4 * 1024 * 1024 + 4096
#: Deeper than Python's recursion limit, within what a JSON decoder accepts.
DEPTH = 5000
#: A valid JSON integer that no float can hold.
HUGE_NUMBER = "1" + "0" * 400
_MARK = '"\\u0000fault\\u0000"'


class Fault(StrEnum):
    """One bad thing a printer may send."""

    GARBAGE = "garbage"  # bytes that are not the protocol at all
    OVERSIZED = "oversized"  # one message over the clients' size limit
    DEEP = "deep"  # a good message with a value nested thousands of levels deep
    HUGE_NUMBER = "huge_number"  # a good message whose number does not fit a float


def _with(message: Any, path: tuple[str | int, ...], text: str) -> str:
    """``message`` as JSON text with the value at ``path`` replaced by raw ``text``."""
    document = json.loads(json.dumps(message))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = "\x00fault\x00"
    return json.dumps(document).replace(_MARK, text)


def hostile_message(fault: Fault, good: Any, number: tuple[str | int, ...]) -> str:
    """The text a printer sends for ``fault``, built on its own ``good`` message.

    ``number`` is the path of a numeric field in ``good`` (a temperature).
    """
    if fault is Fault.GARBAGE:
        return "\x00\x01garbage {{{ \ufffd not the protocol"
    if fault is Fault.OVERSIZED:
        return _with(good, number, json.dumps("x" * OVERSIZED_BYTES))
    if fault is Fault.DEEP:
        return _with(good, number, "[" * DEPTH + "]" * DEPTH)
    return _with(good, number, HUGE_NUMBER)
