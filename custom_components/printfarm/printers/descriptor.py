"""What each kind of printer is, in data: the one place a caller learns about a kind.

Home Assistant's config flow builds its forms from ``fields``, its number
entities take their ranges from ``limits`` (the same limits the clients
enforce), and the base client takes its probe and staleness timing from
here. No caller needs a table keyed by brand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .models import PrinterKind


class FieldKind(StrEnum):
    """How a connection field is entered."""

    TEXT = "text"
    PASSWORD = "password"  # noqa: S105 - a secret: masked, never shown again
    PORT = "port"  # a TCP port number


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    """One connection setting a user may enter; ``key`` names a ConnectionOptions field."""

    key: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    default: str | int | None = None
    advanced: bool = False  # tucked away: only unusual setups change it
    credential: bool = False  # asked again when the printer refuses the stored ones


class Pairing(StrEnum):
    """How a printer hands out a credential when the user approves it at the printer."""

    APP_KEY = "app_key"  # OctoPrint: the user clicks Allow in OctoPrint; yields ``api_key``


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What a kind's clients accept; None means the kind has no such control."""

    nozzle_max: float | None = None
    bed_max: float | None = None
    speed_min: int | None = None  # feed-rate override in percent
    speed_max: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KindDescriptor:
    """One kind of printer, as data."""

    kind: PrinterKind
    manufacturer: str
    default_port: int
    fields: tuple[FormField, ...]
    limits: Limits
    #: No push channel: the client polls, and the interval is the user's to change.
    polls: bool = False
    #: Seconds between round trips that prove the state current (a poll, or a probe).
    poll_interval: float
    #: Seconds between polls right after a command, until it is confirmed (None: push).
    fast_poll_interval: float | None = None
    #: Without a round trip this long the state is stale: the printer shows offline.
    stale_after: float
    #: Resolution of the fan speeds the printer reports, in percent.
    fan_step: float = 1.0
    pairing: Pairing | None = None
    #: How printers of this kind are found: "zeroconf", "dhcp", "ssdp", "sdcp".
    discovery: tuple[str, ...] = ()
    #: Its zeroconf announcement carries the identity the client reports (a ``uuid``).
    announces_identity: bool = False

    @property
    def credentials(self) -> tuple[str, ...]:
        """The keys of the fields asked again when the printer refuses them."""
        return tuple(f.key for f in self.fields if f.credential)

    @property
    def identity_needs_credentials(self) -> bool:
        """Whether the printer says who it is only after a login (a required credential)."""
        return any(f.credential and f.required for f in self.fields)
