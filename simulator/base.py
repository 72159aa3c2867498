"""What every simulated printer provides to the ``scripts/simulate`` runner and to tests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .camera import FrameSource
from .faults import Fault
from .job import PrintJob


@dataclass(slots=True, kw_only=True)
class SimOptions:
    """Per-printer options shared by every kind."""

    index: int = 0
    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port
    name: str | None = None
    model: str | None = None  # brand-specific model code, e.g. "X1C", "P1S"
    state_file: str | None = None  # Bambu: start from a captured full report
    extra: dict[str, Any] = field(default_factory=dict)


class SimulatedPrinter(ABC):
    """A printer of one kind, speaking that brand's real wire protocol on loopback."""

    kind: ClassVar[str]

    def __init__(self, job: PrintJob, camera: FrameSource, options: SimOptions) -> None:
        """Keep the shared parts; ``start()`` opens the sockets."""
        self.job = job
        self.camera = camera
        self.options = options

    @abstractmethod
    async def start(self) -> dict[str, Any]:
        """Open every socket and return the line ``scripts/simulate`` prints.

        Keys: ``kind``, ``name``, ``host``, ``port`` and the credentials a
        client needs (``serial``, ``access_code``, ``api_key``, ``username``,
        ``password`` as applicable), plus any extra ports (``camera_port`` ...).
        """

    @abstractmethod
    async def stop(self) -> None:
        """Close every socket and task; idempotent."""

    @abstractmethod
    async def inject(self, fault: Fault) -> None:
        """Send one bad message of ``fault`` on this printer's own channel(s)."""
