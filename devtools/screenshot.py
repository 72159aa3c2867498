"""A headless Chromium screenshot of a logged-in Home Assistant page.

The browser is logged in without typing: a login flow with the stored owner
gives an auth code, and the frontend exchanges it itself when it opens
``<page>?auth_callback=1&code=...&state=...``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
import shutil
import subprocess
import tempfile
from urllib.parse import urlencode

from .api import HaApi
from .onboarding import Owner, login_code

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def find_chromium() -> str | None:
    """A Chromium binary on PATH."""
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    return None


def auth_callback_url(base_url: str, page: str, code: str) -> str:
    """The URL the frontend logs itself in from."""
    state = base64.b64encode(
        json.dumps({"hassUrl": base_url, "clientId": f"{base_url}/"}).encode()
    ).decode()
    query = urlencode({"auth_callback": "1", "code": code, "state": state})
    return f"{base_url}{page}?{query}"


async def logged_in_url(api: HaApi, owner: Owner, page: str) -> str:
    """A one-use URL that opens ``page`` logged in as ``owner``."""
    code = await login_code(api, owner)
    return auth_callback_url(api.base_url, page, code)


def capture(
    chromium: str, url: str, out: Path, *, size: str = "1400,1000", budget_ms: int = 20000
) -> None:
    """Render ``url`` headless and write a PNG."""
    with tempfile.TemporaryDirectory(prefix="printfarm-chromium-") as profile:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size}",
                f"--virtual-time-budget={budget_ms}",
                f"--screenshot={out.resolve()}",
                url,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )
    if not out.is_file():
        raise RuntimeError(f"{chromium} wrote no screenshot")
