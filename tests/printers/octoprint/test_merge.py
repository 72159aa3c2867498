"""OctoPrint polls and pushes merged into state, from captured answers; options."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.printfarm.printers import (
    ConnectionOptions,
    PrinterKind,
    PrintStatus,
)
from custom_components.printfarm.printers.octoprint import create
from custom_components.printfarm.printers.octoprint.merge import Reading, state_changes
from custom_components.printfarm.printers.octoprint.parse import (
    parse_job,
    parse_printer,
)

from .conftest import load


def reading_from(job_fixture: str, printer_fixture: str) -> Reading:
    """A poll made of two captures, the way the client builds it."""
    job = parse_job(load(job_fixture)["body"])
    printer = load(printer_fixture)
    if printer["status"] == 409:
        return Reading(job, None, {}, printer["body"]["error"], None, None, None)
    report = parse_printer(printer["body"])
    return Reading(
        job, report.text, report.flags, report.error, report.tool0, report.bed, report.chamber
    )


@pytest.mark.parametrize(
    ("job_fixture", "printer_fixture", "previous", "status", "control", "error"),
    [
        ("live_job_offline.json", "live_printer_offline.json", PrintStatus.OFFLINE,
         PrintStatus.OFFLINE, False, None),
        ("live_job_operational_idle.json", "live_printer_operational.json", PrintStatus.OFFLINE,
         PrintStatus.IDLE, True, None),
        ("live_job_printing.json", "live_printer_printing.json", PrintStatus.IDLE,
         PrintStatus.PRINTING, True, None),
        ("live_job_paused.json", "live_printer_paused.json", PrintStatus.PRINTING,
         PrintStatus.PAUSED, True, None),
        ("live_job_cancelled.json", "live_printer_after_cancel.json", PrintStatus.PRINTING,
         PrintStatus.CANCELLED, True, None),
        ("live_job_cancelled.json", "live_printer_after_cancel.json", PrintStatus.IDLE,
         PrintStatus.IDLE, True, None),
        ("live_job_finished.json", "live_printer_finished.json", PrintStatus.PRINTING,
         PrintStatus.FINISHED, True, None),
        ("live_job_error.json", "live_printer_error.json", PrintStatus.PRINTING,
         PrintStatus.ERROR, False, "MAXTEMP triggered! - Not SD printing"),
        # the two reads straddled the moment OctoPrint closed the link
        ("live_job_error.json", "live_printer_operational.json", PrintStatus.PRINTING,
         PrintStatus.ERROR, False, "MAXTEMP triggered! - Not SD printing"),
    ],
)  # fmt: skip
def test_state_from_captured_polls(
    job_fixture: str,
    printer_fixture: str,
    previous: PrintStatus,
    status: PrintStatus,
    control: bool,
    error: str | None,
) -> None:
    changes = state_changes(reading_from(job_fixture, printer_fixture), previous, False)
    assert changes["status"] is status
    assert changes["connected"]
    assert changes["control_available"] is control
    assert changes["error"] == error
    if not control:
        assert changes["control_unavailable_reason"] == "printer_offline"
        assert changes["nozzle_temp"] is None
        assert changes["bed_target"] is None
    else:
        assert changes["nozzle_temp"] is not None


def test_state_fields_while_printing() -> None:
    changes = state_changes(
        reading_from("live_job_printing.json", "live_printer_printing.json"),
        PrintStatus.IDLE,
        False,
    )
    assert changes["native_status"] == "Printing"
    assert changes["job"] == "cube.gcode"
    assert changes["progress"] == pytest.approx(15.99, abs=0.01)
    assert (changes["elapsed_s"], changes["remaining_s"]) == (2, None)
    assert (changes["nozzle_temp"], changes["nozzle_target"]) == (33.52, 200.0)
    assert (changes["bed_temp"], changes["bed_target"]) == (33.44, 60.0)
    assert changes["chamber_temp"] is None


def test_a_new_file_forgets_the_last_outcome() -> None:
    reading = reading_from("live_job_cancelled.json", "live_printer_after_cancel.json")
    assert state_changes(reading, PrintStatus.CANCELLED, False)["status"] is PrintStatus.CANCELLED
    assert state_changes(reading, PrintStatus.CANCELLED, True)["status"] is PrintStatus.IDLE


async def test_create_reads_options() -> None:
    async with aiohttp.ClientSession() as session:
        client = create(
            ConnectionOptions(
                kind=PrinterKind.OCTOPRINT,
                host="10.0.0.5",
                api_key="k",
                ssl=True,
                path="/octo",
                push=False,
                poll_interval=2,
            ),
            session,
        )
        assert str(client.base_url) == "https://10.0.0.5/octo/"
        assert client.use_push is False
        assert client.poll_interval == 2.0
        plain = create(ConnectionOptions(kind=PrinterKind.OCTOPRINT, host="h"), session)
        assert str(plain.base_url) == "http://h/"
        assert plain.use_push is True
        assert plain.poll_interval == 5.0
