"""Bambu SSDP NOTIFY: the parser over realistic and junk datagrams, and the passive listener."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import socket

import pytest

from custom_components.printfarm.printers import DiscoveredPrinter
from custom_components.printfarm.printers.bambu.ssdp import (
    MAX_DATAGRAM_BYTES,
    SSDP_PORT,
    SsdpAnnouncement,
    SsdpListener,
    parse_notify,
)
from simulator.bambu.models import MODELS as SIM_MODELS
from simulator.bambu.ssdp import notify_datagram

# As a P1S on firmware 01.08 sends it (header order, spacing and CRLFs of the real thing).
P1S_NOTIFY = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b"Server: Buildroot/2018.02-rc3 UPnP/1.0 ssdpd/1.8\r\n"
    b"Location: 192.168.1.50\r\n"
    b"NT: urn:bambulab-com:device:3dprinter:1\r\n"
    b"USN: 01P00A123456789\r\n"
    b"Cache-Control: max-age=1800\r\n"
    b"DevModel.bambu.com: C12\r\n"
    b"DevName.bambu.com: Workshop P1S\r\n"
    b"DevSignal.bambu.com: -52\r\n"
    b"DevConnect.bambu.com: lan\r\n"
    b"DevBind.bambu.com: free\r\n"
    b"Devseclink.bambu.com: secure\r\n"
    b"DevVersion.bambu.com: 01.08.02.00\r\n"
    b"DevCap.bambu.com: 1\r\n"
    b"\r\n"
)


def test_parses_a_p1s_announcement() -> None:
    found = parse_notify(P1S_NOTIFY, "192.168.1.50")
    assert found == SsdpAnnouncement(
        host="192.168.1.50",
        serial="01P00A123456789",
        model="P1S",
        model_name="P1S",
        dev_model="C12",
        name="Workshop P1S",
        firmware="01.08.02.00",
        connect_mode="lan",
        bind="free",
    )


@pytest.mark.parametrize(
    ("dev_model", "code", "name"),
    [
        ("3DPrinter-X1-Carbon", "X1C", "X1 Carbon"),
        ("3DPrinter-X1", "X1", "X1"),
        ("C11", "P1P", "P1P"),
        ("C13", "X1E", "X1E"),
        ("N1", "A1M", "A1 mini"),
        ("N2S", "A1", "A1"),
        ("O1D", "H2D", "H2D"),
    ],
)
def test_model_codes_map_to_models(dev_model: str, code: str, name: str) -> None:
    datagram = P1S_NOTIFY.replace(b"C12", dev_model.encode())
    found = parse_notify(datagram)
    assert found is not None
    assert (found.model, found.model_name, found.dev_model) == (code, name, dev_model)


def test_unknown_model_code_falls_back_to_the_serial_prefix() -> None:
    datagram = P1S_NOTIFY.replace(b"C12", b"Z99").replace(b"01P00A", b"00M00A")
    found = parse_notify(datagram)
    assert found is not None
    assert (found.model, found.dev_model) == ("X1C", "Z99")


def test_unknown_model_and_serial_leave_the_model_unknown() -> None:
    datagram = P1S_NOTIFY.replace(b"C12", b"Z99").replace(b"01P00A", b"ZZZ00A")
    found = parse_notify(datagram)
    assert found is not None
    assert (found.model, found.model_name) == (None, None)


def test_tolerates_lf_only_lowercase_names_and_missing_optional_headers() -> None:
    datagram = (
        b"notify * http/1.1\n"
        b"location: 10.0.0.7\n"
        b"nt: URN:BAMBULAB-COM:DEVICE:3DPRINTER:1\n"
        b"usn:00M09A350100123\n"
    )
    found = parse_notify(datagram, "10.0.0.99")
    assert found is not None
    assert (found.host, found.serial, found.model, found.name) == (
        "10.0.0.7",
        "00M09A350100123",
        "X1C",
        None,
    )
    assert (found.firmware, found.connect_mode, found.bind) == (None, None, None)


def test_values_with_leading_spaces_are_trimmed() -> None:
    datagram = P1S_NOTIFY.replace(b"DevBind.bambu.com: free", b"DevBind.bambu.com:  Occupied")
    found = parse_notify(datagram)
    assert found is not None
    assert found.bind == "occupied"


@pytest.mark.parametrize(
    ("location", "host"),
    [
        (b"192.168.1.50", "192.168.1.50"),
        (b"http://192.168.1.51:80/desc.xml", "192.168.1.51"),
        (b"192.168.1.52:2021", "192.168.1.52"),
        (b"[fe80::1]:2021", "fe80::1"),
        (b"printer.local", "172.16.0.9"),  # not an address: the datagram's source
        (b"", "172.16.0.9"),
    ],
)
def test_location_or_source_gives_the_host(location: bytes, host: str) -> None:
    datagram = P1S_NOTIFY.replace(b"Location: 192.168.1.50", b"Location: " + location)
    found = parse_notify(datagram, "172.16.0.9")
    assert found is not None
    assert found.host == host


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"M99999",
        b'{"Id": "x", "Data": {}}',
        # An M-SEARCH from Bambu Studio, not a printer's NOTIFY.
        b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1990\r\nMAN: "ssdp:discover"\r\n'
        b"ST: urn:bambulab-com:device:3dprinter:1\r\n\r\n",
        # A standard UPnP NOTIFY (a router, a TV).
        b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        b"NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        b"USN: uuid:1234::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        b"Location: http://192.168.1.1:5000/rootDesc.xml\r\n\r\n",
        P1S_NOTIFY.replace(b"NT: urn:bambulab-com:device:3dprinter:1\r\n", b""),
        P1S_NOTIFY.replace(b"USN: 01P00A123456789\r\n", b""),
        P1S_NOTIFY.replace(b"01P00A123456789", b"01P 00A/1234"),
        P1S_NOTIFY.replace(b"01P00A123456789", b"X" * 40),
        P1S_NOTIFY.replace(b"NOTIFY * HTTP/1.1", b"HTTP/1.1 200 OK"),
        P1S_NOTIFY + b"X-Padding: " + b"a" * MAX_DATAGRAM_BYTES + b"\r\n",
    ],
)
def test_anything_else_is_none(datagram: bytes) -> None:
    assert parse_notify(datagram, "192.168.1.50") is None


def test_no_address_at_all_is_none() -> None:
    datagram = P1S_NOTIFY.replace(b"Location: 192.168.1.50\r\n", b"")
    assert parse_notify(datagram, "") is None
    assert parse_notify(datagram, "not-an-ip") is None


@pytest.mark.parametrize("code", sorted(SIM_MODELS))
def test_the_simulators_notify_parses_to_its_model(code: str) -> None:
    spec = SIM_MODELS[code]
    serial = f"{spec.serial_prefix}00A000000001"
    datagram = notify_datagram(spec, serial=serial, location="127.0.0.1", name="Sim")
    found = parse_notify(datagram, "127.0.0.1")
    assert found is not None
    assert (found.host, found.serial, found.model, found.name) == ("127.0.0.1", serial, code, "Sim")


# ----------------------------------------------------------------- listener


@pytest.fixture
async def listener() -> AsyncIterator[tuple[SsdpListener, asyncio.Queue[DiscoveredPrinter]]]:
    queue: asyncio.Queue[DiscoveredPrinter] = asyncio.Queue()
    ssdp = SsdpListener(queue.put_nowait, host="127.0.0.1", port=0)
    await ssdp.start()
    yield ssdp, queue
    await ssdp.stop()


def _send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, ("127.0.0.1", port))


async def test_listener_calls_back_per_announcement_and_drops_junk(
    listener: tuple[SsdpListener, asyncio.Queue[DiscoveredPrinter]],
) -> None:
    ssdp, queue = listener
    assert ssdp.listening
    assert ssdp.port != 0
    other = P1S_NOTIFY.replace(b"01P00A123456789", b"00M00A000000002")
    _send(ssdp.port, b"junk", P1S_NOTIFY, b"M99999", other)
    first = await asyncio.wait_for(queue.get(), 5)
    second = await asyncio.wait_for(queue.get(), 5)
    assert [first.serial, second.serial] == ["01P00A123456789", "00M00A000000002"]
    assert first.host == "192.168.1.50"  # Location wins over the loopback source
    assert (first.kind, first.unique_id, first.model) == ("bambu", "01P00A123456789", "P1S")
    assert queue.empty()


async def test_listener_survives_a_failing_callback() -> None:
    seen: asyncio.Queue[DiscoveredPrinter] = asyncio.Queue()

    def callback(announcement: DiscoveredPrinter) -> None:
        seen.put_nowait(announcement)
        if seen.qsize() == 1:
            raise RuntimeError("bug in the consumer")

    ssdp = SsdpListener(callback, host="127.0.0.1", port=0)
    await ssdp.start()
    try:
        _send(ssdp.port, P1S_NOTIFY, P1S_NOTIFY)
        await asyncio.wait_for(seen.get(), 5)
        await asyncio.wait_for(seen.get(), 5)
        assert ssdp.listening
    finally:
        await ssdp.stop()


async def test_listener_shares_its_port_with_another_listener(
    listener: tuple[SsdpListener, asyncio.Queue[DiscoveredPrinter]],
) -> None:
    ssdp, _queue = listener
    if not hasattr(socket, "SO_REUSEPORT"):
        pytest.skip("no SO_REUSEPORT on this platform")
    second = SsdpListener(lambda _a: None, host="127.0.0.1", port=ssdp.port)
    await second.start()
    assert second.listening
    await second.stop()


async def test_listener_stop_is_idempotent_and_closes_the_socket() -> None:
    ssdp = SsdpListener(lambda _a: None, host="127.0.0.1", port=0)
    await ssdp.start()
    await ssdp.start()  # already listening: no second socket
    port = ssdp.port
    await ssdp.stop()
    await ssdp.stop()
    assert not ssdp.listening
    # The port is free again for a socket without SO_REUSEADDR.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))


async def test_listener_reports_a_port_it_cannot_bind() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))  # no SO_REUSEADDR/SO_REUSEPORT: exclusive
        port = sock.getsockname()[1]
        ssdp = SsdpListener(lambda _a: None, host="127.0.0.1", port=port)
        with pytest.raises(OSError, match="in use"):
            await ssdp.start()
        assert not ssdp.listening


def test_default_port_is_bambu_studios() -> None:
    assert SSDP_PORT == 2021
    assert SsdpListener(lambda _a: None).port == 2021
