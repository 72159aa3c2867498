"""printfarm benchmarks, run by scripts/bench.

Each section is a module in this package with a ``run(args) -> Section`` function,
registered in ``SECTIONS`` below. Sections return rows (name, value, unit, note),
printed as one table and written as JSON, so later sections (for example the
printer protocol layer) only add a module and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    """One measured number."""

    name: str
    value: float
    unit: str
    note: str = ""


@dataclass
class Section:
    """The result of one benchmark section."""

    name: str
    rows: list[Row] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, note: str = "") -> None:
        """Append a row."""
        self.rows.append(Row(name, value, unit, note))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: rows plus free-form info (environment, parameters)."""
        return {"info": self.info, "rows": [asdict(r) for r in self.rows]}


SectionRunner = Callable[[Any], Section]


def sections() -> dict[str, SectionRunner]:
    """Every known section by name (imported lazily: sections may need extras)."""
    from . import addon, latency, model, scale

    return {"model": model.run, "addon": addon.run, "scale": scale.run, "latency": latency.run}
