"""PrusaLink client against the simulator, both flavours: commands and their confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.printfarm.printers import (
    PrinterCommandError,
    PrinterNotSupportedError,
    PrintStatus,
)
from simulator.prusalink import Override

from .conftest import MakeClient, MakeSim, Sims

# ------------------------------------------------------------------ commands


async def test_pause_resume_stop_confirmed_by_state(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    job_id = sim.job_id
    seen: list[PrintStatus] = []
    for command in (client.pause, client.resume, client.stop):
        await command()
        seen.append(client.state.status)
    assert seen == [PrintStatus.PAUSED, PrintStatus.PRINTING, PrintStatus.CANCELLED]
    assert client.state.native_status == "STOPPED"
    assert sim.commands == [
        ("PUT", f"/api/v1/job/{job_id}/pause", 204),
        ("PUT", f"/api/v1/job/{job_id}/resume", 204),
        ("DELETE", f"/api/v1/job/{job_id}", 204),
    ]


async def test_acknowledged_but_unconfirmed_command(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    """A 204 is not enough: the command succeeds only when the state follows."""
    sim, line = await make_sim()
    client = make_client(line)
    client.confirm_timeout = 0.3
    await client.connect()
    path = f"/api/v1/job/{sim.job_id}/pause"
    sim.override(path, Override(status=204, content_type="text/plain"))
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_confirmed"
    assert client.state.status is PrintStatus.PRINTING


async def test_job_id_mismatch_reports_job_changed(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    old_id = sim.job_id
    new_id = sim.replace_job("other_part.gcode")
    assert new_id != old_id
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "job_changed"
    assert sim.commands == [("PUT", f"/api/v1/job/{old_id}/pause", 404)]
    assert client.details["job_id"] == new_id
    assert client.state.job == "other_part.gcode"
    await client.pause()  # now aimed at the new job
    assert sim.commands[-1] == ("PUT", f"/api/v1/job/{new_id}/pause", 204)


async def test_wrong_state_is_a_conflict(make_sim: MakeSim, make_client: MakeClient) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sent = len(sim.commands)
    with pytest.raises(PrinterCommandError) as err:
        await client.resume()  # printing, not paused: refused before anything is sent
    assert err.value.reason == "not_paused"
    assert len(sim.commands) == sent
    with pytest.raises(PrinterCommandError) as err:
        await client._job_command("PUT", "resume", "resume")  # the printer itself says 409
    assert err.value.reason == "conflict"
    assert sim.commands[-1][2] == 409


async def test_command_refused_when_job_ended_meanwhile(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.job.cancel()  # the client has not polled since
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"
    assert client.state.status is PrintStatus.CANCELLED


async def test_attention_is_an_error_with_text(
    variant: str, make_sim: MakeSim, make_client: MakeClient
) -> None:
    """Buddy lets a job waiting for attention be stopped; Prusa-Link answers 409."""
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.attention("Filament runout")
    state = await client.refresh()
    assert state.status is PrintStatus.ERROR
    assert state.native_status == "ATTENTION"
    assert state.error == "Filament runout"
    with pytest.raises(PrinterCommandError) as err:
        await client.pause()
    assert err.value.reason == "not_printing"
    if variant == "buddy":
        await client.stop()
        assert client.state.status is PrintStatus.CANCELLED
        assert client.state.error is None
    else:
        with pytest.raises(PrinterCommandError) as err:
            await client.stop()
        assert err.value.reason == "not_printing"
        assert sim.commands[-1][2] == 409


async def test_printer_error_carries_its_message(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    sim, line = await make_sim()
    client = make_client(line, poll_interval=60)
    await client.connect()
    sim.job.fail("Thermal runaway")
    state = await client.refresh()
    assert state.status is PrintStatus.ERROR
    assert state.error == "Thermal runaway"


async def test_buddy_cannot_set_temperatures_or_speed(sims: Sims, make_client: MakeClient) -> None:
    _sim, line = await sims("buddy")
    client = make_client(line)
    await client.connect()
    with pytest.raises(PrinterNotSupportedError):
        await client.set_nozzle_target(200)
    with pytest.raises(PrinterNotSupportedError):
        await client.set_bed_target(60)
    with pytest.raises(PrinterNotSupportedError):
        await client.set_speed_factor(120)


async def test_prusa_link_sets_temperatures_and_speed(sims: Sims, make_client: MakeClient) -> None:
    """Through the legacy routes Prusa-Link kept, confirmed by the targets it reports."""
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    await client.set_nozzle_target(205)
    assert client.state.nozzle_target == 205.0
    await client.set_bed_target(65.5)
    assert client.state.bed_target == 65.5
    await client.set_speed_factor(120)
    assert client.state.speed_factor == 120
    assert [c[:2] for c in sim.commands] == [
        ("POST", "/api/printer/tool"),
        ("POST", "/api/printer/bed"),
        ("POST", "/api/printer/printhead"),
    ]
    assert sim.job.nozzle_target == 205.0


@pytest.mark.parametrize(
    ("call", "value"),
    [
        ("set_nozzle_target", 306),
        ("set_bed_target", -1),
        ("set_speed_factor", 5),
        ("set_speed_factor", 1000),
        ("set_speed_factor", 1.5),
    ],
)
async def test_out_of_range_values_are_refused_before_sending(
    sims: Sims, make_client: MakeClient, call: str, value: Any
) -> None:
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    with pytest.raises(PrinterCommandError) as err:
        await getattr(client, call)(value)
    assert err.value.reason == "invalid_value"
    assert sim.commands == []


@pytest.mark.parametrize(
    ("status", "reason"), [(400, "invalid_value"), (409, "conflict"), (404, "unsupported")]
)
async def test_refused_control_request(
    sims: Sims, make_client: MakeClient, status: int, reason: str
) -> None:
    sim, line = await sims("pi")
    client = make_client(line)
    await client.connect()
    sim.override("/api/printer/bed", Override(status=status, body=b'{"title": "x"}'))
    with pytest.raises(PrinterCommandError) as err:
        await client.set_bed_target(50)
    assert err.value.reason == reason
