"""Real-peer tier for Bambu: BambuClient through a real mosquitto TLS broker.

There is no Bambu firmware that runs off the printer, so the peer is the
part that can be real: mosquitto (installed by scripts/interop/mosquitto.sh)
with TLS under a CA that, like Bambu's old root, has no keyUsage extension,
a leaf named after the serial, password auth for ``bblp`` and an ACL. The
printer side is printfarm's simulated printer connected to that broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
import shutil
import ssl
from typing import Any

from cryptography import x509
import pytest

from custom_components.printfarm.printers import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterState,
    PrintStatus,
)
from custom_components.printfarm.printers.bambu import BambuClient, create
from custom_components.printfarm.printers.bambu.mqtt import AsyncMqtt
from custom_components.printfarm.printers.bambu.tls import client_context
from simulator.bambu import BambuSimulator, MosquittoMissingError
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from tests.lines import client_options

pytestmark = pytest.mark.interop

UNAVAILABLE = Path(__file__).parents[2] / ".interop" / "mosquitto.unavailable"


@pytest.fixture
async def printer() -> AsyncIterator[tuple[BambuSimulator, dict[str, Any]]]:
    if UNAVAILABLE.exists():
        pytest.skip(f"mosquitto unavailable: {UNAVAILABLE.read_text().strip()}")
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed: run scripts/interop/mosquitto.sh")
    job = PrintJob(heat_s=0.5, duration_s=4.0, start_printing=False)
    sim = BambuSimulator(
        job, FrameSource(), SimOptions(model="P1S", extra={"report_interval": 0.2})
    )
    try:
        line = await sim.start()
    except MosquittoMissingError as err:
        pytest.skip(str(err))
    yield sim, line
    await sim.stop()


def client_for(line: dict[str, Any], **overrides: Any) -> BambuClient:
    client = create(client_options(line, **overrides))
    client.backoff.initial = 0.05
    return client


def status_is(*statuses: PrintStatus) -> Any:
    def check(state: PrinterState) -> bool:
        return state.connected and state.status in statuses

    return check


async def test_full_cycle_through_real_mosquitto(
    printer: tuple[BambuSimulator, dict[str, Any]],
) -> None:
    sim, line = printer
    client = client_for(line)
    seen: list[PrintStatus] = []
    client.add_listener(lambda s: seen.append(s.status) if s.status not in seen[-1:] else None)
    async with client:
        await client.wait_for_state(status_is(PrintStatus.IDLE), 10)
        sim.job.start("interop.gcode")
        await client.wait_for_state(status_is(PrintStatus.PREPARING, PrintStatus.PRINTING), 10)
        await client.wait_for_state(status_is(PrintStatus.PRINTING), 10)
        await client.pause()
        assert client.state.status is PrintStatus.PAUSED
        await client.resume()
        await client.stop()
        cancelled = client.state
        assert cancelled.status is PrintStatus.CANCELLED
        assert cancelled.error is None

        sim.job.start("second.gcode")  # runs to the end
        done = await client.wait_for_state(status_is(PrintStatus.FINISHED), 20)
        assert done.progress == 100
        assert done.job == "second"

        sim.job.start("third.gcode")
        await client.wait_for_state(status_is(PrintStatus.PREPARING, PrintStatus.PRINTING), 10)
        sim.job.fail("nozzle clog")
        failed = await client.wait_for_state(status_is(PrintStatus.ERROR), 10)
        assert failed.error is not None
        assert failed.hms_errors
    for expected in (
        PrintStatus.IDLE,
        PrintStatus.PRINTING,
        PrintStatus.PAUSED,
        PrintStatus.CANCELLED,
        PrintStatus.FINISHED,
        PrintStatus.ERROR,
    ):
        assert expected in seen
    assert seen.index(PrintStatus.PAUSED) < seen.index(PrintStatus.CANCELLED)


async def test_wrong_access_code_is_refused_by_mosquitto(
    printer: tuple[BambuSimulator, dict[str, Any]],
) -> None:
    _, line = printer
    client = client_for(line, access_code="00000000")
    with pytest.raises(PrinterAuthError):
        await client.connect()
    await client.close()


async def test_tls_on_python_313_with_a_ca_without_key_usage(
    printer: tuple[BambuSimulator, dict[str, Any]],
) -> None:
    sim, line = printer
    ca_pem = Path(line["extra"]["ca_file"]).read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.KeyUsage)

    async def try_connect(context: ssl.SSLContext, name: str = sim.serial) -> None:
        mqtt = AsyncMqtt(
            line["host"],
            line["port"],
            username="bblp",
            password=line["access_code"],
            ssl_context=context,
            server_hostname=name,
            on_message=lambda topic, payload: None,
        )
        try:
            await mqtt.connect(5)
        finally:
            await mqtt.close()

    # the stock Python 3.13 context (VERIFY_X509_STRICT) rejects such a CA: the trap is real
    strict = ssl.create_default_context(cadata=ca_pem.decode())
    with pytest.raises(PrinterConnectionError, match="certificate"):
        await try_connect(strict)
    relaxed = client_context(ca_pem.decode())
    assert relaxed.check_hostname
    assert relaxed.verify_mode is ssl.CERT_REQUIRED
    await try_connect(relaxed)  # verification on, name = serial: accepted
    with pytest.raises(PrinterConnectionError, match="certificate"):
        await try_connect(relaxed, line["host"])  # the IP is not in the certificate
