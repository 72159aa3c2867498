"""A real browser on the develop Home Assistant: tests/browser/dashboard.mjs (playwright-core
driving Debian's Chromium, no browser download).

scripts/interop_setup installs what it needs (npm ci in tests/browser, chromium
through apt when root); ``missing()`` says what is still absent.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import shutil
from typing import Any

from .api import HaApi
from .onboarding import Owner
from .screenshot import find_chromium, logged_in_url

REPO = Path(__file__).resolve().parent.parent
BROWSER_DIR = REPO / "tests" / "browser"
SCRIPT = BROWSER_DIR / "dashboard.mjs"
TIMEOUT = 420.0


class BrowserError(Exception):
    """The browser could not be started or did not finish."""


def chromium_path() -> str | None:
    """$CHROMIUM, or a Chromium on PATH."""
    return os.environ.get("CHROMIUM") or find_chromium()


def missing() -> list[str]:
    """What the browser run lacks on this machine (empty when it can run)."""
    lacks = []
    if shutil.which("node") is None:
        lacks.append("node (apt-get install nodejs npm)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        lacks.append("playwright-core (npm ci --prefix tests/browser, or scripts/interop_setup)")
    if chromium_path() is None:
        lacks.append("chromium (apt-get install chromium)")
    return lacks


async def open_dashboard(
    api: HaApi,
    owner: Owner,
    path: str,
    out: Path,
    *,
    shot: str | None = None,
    expect_sections: int = 1,
    press: dict[str, str] | None = None,
    size: tuple[int, int] = (1600, 1000),
    add_dialog: bool = False,
) -> dict[str, Any]:
    """Log in on the start page, open ``path`` from the sidebar; what the browser saw."""
    if lacks := missing():
        raise BrowserError("the browser run needs " + ", ".join(lacks))
    out.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "url": await logged_in_url(api, owner, "/"),
        "path": path,
        "out": str(out),
        "expect_sections": expect_sections,
        "size": list(size),
        "chromium": chromium_path(),
    }
    if shot:
        options["shot"] = shot
    if press:
        options["press"] = press
    if add_dialog:
        options["add_dialog"] = True
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        json.dumps(options),
        cwd=BROWSER_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError as err:
        process.kill()
        await process.wait()
        raise BrowserError(f"the browser did not finish in {TIMEOUT:.0f} s") from err
    lines = stdout.decode(errors="replace").strip().splitlines()
    try:
        report: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError) as err:
        raise BrowserError(
            f"no report from the browser (exit {process.returncode}): "
            f"{stderr.decode(errors='replace')[-2000:]}"
        ) from err
    return report
