"""``scripts/screenshot``: the README's pictures, taken in a real browser from scripts/develop.

    scripts/screenshot [--out docs/images] [--port N]

Needs a running scripts/develop (same PRINTFARM_HA_PORT). Writes
farm-dashboard.png (the farm dashboard strategy) and printer-card.png (the
printer card on a dashboard of one's own).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import sys

import aiohttp

from .api import HaApi
from .browser import BrowserError, open_dashboard
from .dashboard import ensure_farm_dashboard, save_card_dashboard
from .layout import Layout, port_from_env
from .onboarding import Owner

REPO = Path(__file__).resolve().parent.parent
CARDS_PATH = "printfarm-cards"


async def printer_names(api: HaApi) -> list[str]:
    """The printers' device names, as the farm's Printers sensor lists them."""
    state = await api.get("/api/states/sensor.print_farm_printers")
    return list(state["attributes"].get("printers", []))


async def take(base_url: str, layout: Layout, out: Path) -> list[Path]:
    """Both pictures; their paths."""
    owner = Owner.load(layout.owner_file)
    if owner is None:
        raise BrowserError(f"no {layout.owner_file}: run scripts/develop first")
    token = layout.token_file.read_text().strip()
    async with aiohttp.ClientSession() as session:
        plain = HaApi(session, base_url)
        api = plain.with_token(token)
        names = await printer_names(api)
        farm = await ensure_farm_dashboard(api)
        report = await open_dashboard(
            plain, owner, farm, out, shot="farm-dashboard.png", expect_sections=1 + len(names)
        )
        check(report, "farm dashboard")
        cards = [{"type": "custom:printfarm-printer-card", "printer": name} for name in names[:2]]
        page = await save_card_dashboard(api, CARDS_PATH, cards)
        report = await open_dashboard(
            plain,
            owner,
            page,
            out,
            shot="printer-card.png",
            expect_sections=len(cards),
            size=(1000, 900),
        )
        check(report, "printer card")
    return [out / "farm-dashboard.png", out / "printer-card.png"]


def check(report: dict[str, object], what: str) -> None:
    """A browser report without errors, or why not."""
    if report.get("error") or report.get("error_cards"):
        raise BrowserError(f"{what}: {report}")


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="scripts/screenshot", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else port_from_env()
    layout = Layout.for_repo(REPO)
    try:
        shots = asyncio.run(take(f"http://127.0.0.1:{port}", layout, args.out))
    except (BrowserError, OSError, aiohttp.ClientError) as err:
        sys.stderr.write(f"scripts/screenshot: {err}\n")
        return 1
    for shot in shots:
        sys.stdout.write(f"scripts/screenshot: {shot}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
