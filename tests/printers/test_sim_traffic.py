"""Simulators count the state messages they send (scripts/bench sets HA's writes against them)."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.printfarm.printers.factory import create_client
from simulator import traffic
from simulator.base import SimOptions
from simulator.camera import FrameSource
from simulator.job import PrintJob
from simulator.runner import simulator_class
from tests.conftest import RunningSims
from tests.lines import client_options


@pytest.mark.parametrize("kind", ["moonraker", "octoprint", "prusalink", "elegoo", "bambu"])
async def test_state_messages_are_counted_per_kind(running_sims: RunningSims, kind: str) -> None:
    """A connected client's state change is counted as sent by its kind, and by no other."""
    sim = simulator_class(kind)(PrintJob(heat_s=0.0), FrameSource(), SimOptions())
    line = await running_sims.start(sim)
    async with aiohttp.ClientSession() as session:
        client = create_client(client_options(line, poll_interval=0.3), session)
        await client.connect()
        try:
            before = dict(traffic.SENT)
            sim.job.set_bed_target(42.0)
            await client.wait_for_state(lambda s: s.bed_target == 42.0, 10.0)
        finally:
            await client.close()
    after = dict(traffic.SENT)
    assert after.get(kind, 0) > before.get(kind, 0)
    others = {k: v for k, v in after.items() if k != kind}
    assert others == {k: v for k, v in before.items() if k != kind}
    assert traffic.report()["traffic"][kind] == after[kind]
