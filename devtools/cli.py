"""``scripts/develop``: simulated farm + real Home Assistant + every printer added.

    scripts/develop [--speed F] [--port N] [--fresh] [-- SIMULATOR ARGS]
    scripts/develop screenshot OUT.png [--page /lovelace/0]

Order of events: install what the develop Home Assistant lacks (first run
only), write its config, start the farm, start Home Assistant, onboard or log
in, add every printer through the config flow, print the summary and the
login, then wait. Ctrl-C (SIGINT) or SIGTERM stops Home Assistant and then the
farm; a second Ctrl-C kills both at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time

import aiohttp

from . import discovery
from .addon import AddonError, addon_log, api_key, connect_addon, start_addon
from .api import HaApi, HaApiError
from .dashboard import ensure_farm_dashboard
from .farm import DEFAULT_SPEED, FarmError, expected_printers, start_farm
from .flows import (
    Added,
    FlowError,
    add_printers,
    load_tracked,
    read_statuses,
    save_tracked,
    summary_table,
    wait_settled,
)
from .ha import HomeAssistantError, start_home_assistant, wait_running, wait_serving
from .layout import Layout, port_from_env, port_is_free, prepare_config
from .onboarding import Access, OnboardingError, Owner, ensure_access
from .processes import Child
from .requirements import develop_requirements, install, missing_requirements
from .screenshot import capture, find_chromium, logged_in_url

REPO = Path(__file__).resolve().parent.parent
SERVE_TIMEOUT = 300.0
RUN_TIMEOUT = 300.0
SETTLE_TIMEOUT = 90.0

EXPECTED_ERRORS = (
    AddonError,
    FarmError,
    FlowError,
    HaApiError,
    HomeAssistantError,
    OnboardingError,
    OSError,
    aiohttp.ClientError,
    subprocess.SubprocessError,
    ValueError,
)


def say(message: str = "") -> None:
    """One line for the person at the terminal."""
    print(message, flush=True)


def relative(path: Path) -> str:
    """A path as the person at the repo root would type it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def build_parser() -> argparse.ArgumentParser:
    """scripts/develop's command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=(
            "Run a simulated farm and a real Home Assistant on 127.0.0.1 with every simulated "
            "printer added through the printfarm config flow. Ctrl-C stops everything. "
            "'scripts/develop screenshot OUT.png' photographs a page of the running instance."
        ),
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"simulated seconds per real second (default {DEFAULT_SPEED:g})",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="HTTP port (default $PRINTFARM_HA_PORT or 8123)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete .develop (Home Assistant config, owner, token) and start afresh",
    )
    parser.add_argument(
        "simulator_args",
        nargs=argparse.REMAINDER,
        help="after --: more scripts/simulate arguments (e.g. -- --failure-after 60)",
    )
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """scripts/develop's arguments; what follows ``--`` goes to scripts/simulate."""
    args = build_parser().parse_args(argv)
    if args.simulator_args[:1] == ["--"]:
        args.simulator_args = args.simulator_args[1:]
    return args


class Session:
    """Everything one scripts/develop run started, so all of it can be stopped."""

    def __init__(self, layout: Layout, port: int) -> None:
        """Nothing started yet."""
        self.layout = layout
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.farm: Child | None = None
        self.hass: Child | None = None
        self.addon: Child | None = None
        self.addon_ui: str | None = None
        self.dashboard: str | None = None

    def children(self) -> list[Child]:
        """Started children, the add-on and Home Assistant first (stopped first)."""
        return [child for child in (self.addon, self.hass, self.farm) if child is not None]

    async def run(self, speed: float, simulator_args: list[str]) -> None:
        """Start everything, report, then wait until a child exits (cancelled on Ctrl-C)."""
        layout = self.layout
        if not port_is_free(self.port):
            raise HomeAssistantError(
                f"127.0.0.1:{self.port} is taken (another Home Assistant?): stop it or set "
                "PRINTFARM_HA_PORT"
            )
        missing = missing_requirements(develop_requirements(layout))
        if missing:
            say(f"Installing {', '.join(missing)} into this venv (first run only)...")
            await asyncio.to_thread(install, missing)
        prepare_config(layout, self.port)

        say(f"Starting the simulated farm (speed x{speed:g}, log {relative(layout.simulate_log)})")
        ssdp_port = discovery.free_udp_port()
        self.farm, lines = await start_farm(
            layout, speed, [*discovery.simulate_args(ssdp_port), *simulator_args]
        )
        for line in lines:
            say(f"  {line['kind']:<10} {line.get('name', '?'):<24} {line['host']}:{line['port']}")

        started = time.monotonic()
        say(f"Starting Home Assistant on {self.base_url} (log {relative(layout.hass_log)})")
        self.hass = await start_home_assistant(layout, discovery.hass_env(lines, ssdp_port))
        async with aiohttp.ClientSession() as session:
            api = HaApi(session, self.base_url)
            await wait_serving(api, self.hass, SERVE_TIMEOUT)
            access = await ensure_access(api, layout)
            api = api.with_token(access.token)
            await wait_running(api, self.hass, RUN_TIMEOUT)
            say(f"Home Assistant is running ({time.monotonic() - started:.0f} s)")

            say("Adding the printers through the printfarm config flow...")
            results, removed = await add_printers(api, lines, load_tracked(layout))
            save_tracked(layout, [a.entry_id for a in results if a.entry_id is not None])
            if removed:
                say(f"  (removed {len(removed)} entries left from the last run)")
            await wait_settled(api, results, SETTLE_TIMEOUT)
            await read_statuses(api, results)
            self.dashboard = await ensure_farm_dashboard(api)

            say(f"Starting the detection add-on (log {relative(addon_log(layout))})")
            self.addon, ui_port, api_port = await start_addon(layout, self.base_url, access.token)
            self.addon_ui = f"http://127.0.0.1:{ui_port}"
            outcome = await connect_addon(api, f"http://127.0.0.1:{api_port}", api_key(layout))
            say(f"  connected through the printfarm config flow ({outcome}); {self.addon_ui}")
        self.report(access, results)
        await self.watch()

    def report(self, access: Access, results: list[Added]) -> None:
        """The summary table and how to get in."""
        layout = self.layout
        say()
        say(summary_table(results))
        say()
        account = "created now" if access.onboarded_now else "from an earlier run"
        say(f"Open {self.base_url} and log in ({account}, kept in {relative(layout.owner_file)}):")
        say(f"  username: {access.owner.username}")
        say(f"  password: {access.owner.password}")
        say(
            f"Long-lived access token: {relative(layout.token_file)} "
            f"(HA_URL, HA_WS_URL, HA_TOKEN for the add-on: {relative(layout.addon_env)})"
        )
        say(
            f"Logs: {relative(layout.hass_log)}, "
            f"{relative(layout.config / 'home-assistant.log')}, {relative(layout.simulate_log)}"
        )
        say(f"Detection add-on: {self.addon_ui} (options in {relative(layout.base / 'addon')})")
        if self.dashboard:
            say(f"Farm dashboard: {self.base_url}{self.dashboard}")
        failed = [a for a in results if a.state != "loaded"]
        if failed:
            say(f"WARNING: {len(failed)} printer(s) not loaded: see the table and the HA log")
        say("Ready. Ctrl-C stops the add-on, Home Assistant and the simulators.")

    async def watch(self) -> None:
        """Return (with an error) as soon as a child exits by itself."""
        children = self.children()
        waits = {asyncio.ensure_future(child.process.wait()): child for child in children}
        try:
            done, _pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in waits:
                future.cancel()
        child = waits[next(iter(done))]
        raise HomeAssistantError(
            f"{child.name} exited by itself ({child.process.returncode}); its log ends:\n"
            f"{child.log_tail()}"
        )

    async def stop(self) -> None:
        """Stop Home Assistant, then the farm."""
        for child in self.children():
            if child.running:
                say(f"Stopping {child.name} (pid {child.pid})...")
            await child.stop()

    def kill(self) -> None:
        """Kill everything now."""
        for child in self.children():
            child.kill()


async def develop(args: argparse.Namespace) -> int:
    """Run a session until Ctrl-C; stop everything it started in any case."""
    layout = Layout.for_repo(REPO)
    port = args.port if args.port is not None else port_from_env()
    session = Session(layout, port)
    if args.fresh and layout.base.exists():
        if not port_is_free(port):
            say(f"scripts/develop: 127.0.0.1:{port} is taken; not deleting {layout.base}")
            return 1
        shutil.rmtree(layout.base)
        say(f"Deleted {relative(layout.base)}")

    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    signals = 0

    def on_signal(sig: signal.Signals) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            say(f"\n{sig.name}: stopping everything scripts/develop started...")
            task.cancel()
        else:
            say(f"\n{sig.name} again: killing at once")
            session.kill()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    code = 0
    try:
        await session.run(args.speed, args.simulator_args)
    except asyncio.CancelledError:
        if not signals:
            raise
        task.uncancel()
    except EXPECTED_ERRORS as err:
        say(f"scripts/develop: {err}")
        code = 1
    finally:
        await session.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    say("Stopped.")
    return code


def screenshot_parser() -> argparse.ArgumentParser:
    """``scripts/develop screenshot``'s command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop screenshot",
        description="Headless Chromium screenshot of a page of the running develop instance.",
    )
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument(
        "--page", default="/config/integrations/integration/printfarm", help="path to open"
    )
    parser.add_argument("--size", default="1400,1000", help="window size W,H")
    parser.add_argument("--budget-ms", type=int, default=20000, help="virtual time budget")
    parser.add_argument("--port", type=int, default=None)
    return parser


async def screenshot(args: argparse.Namespace) -> int:
    """Log in as the stored owner and photograph a page."""
    layout = Layout.for_repo(REPO)
    chromium = find_chromium()
    if chromium is None:
        say("screenshot: no chromium on PATH (apt-get install chromium fonts-dejavu-core)")
        return 1
    owner = Owner.load(layout.owner_file)
    if owner is None:
        say(f"screenshot: no {layout.owner_file}: run scripts/develop first")
        return 1
    port = args.port if args.port is not None else port_from_env()
    async with aiohttp.ClientSession() as session:
        api = HaApi(session, f"http://127.0.0.1:{port}")
        url = await logged_in_url(api, owner, args.page)
    await asyncio.to_thread(
        capture, chromium, url, args.out, size=args.size, budget_ms=args.budget_ms
    )
    say(f"screenshot: {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["screenshot"]:
        shot_args = screenshot_parser().parse_args(argv[1:])
        try:
            return asyncio.run(screenshot(shot_args))
        except (*EXPECTED_ERRORS, RuntimeError) as err:
            say(f"screenshot: {err}")
            return 1
    args = parse_args(argv)
    if args.speed <= 0:
        say("scripts/develop: --speed must be positive")
        return 2
    expected_printers(args.speed, args.simulator_args)  # argparse errors before anything starts
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(develop(args))
    return 130
