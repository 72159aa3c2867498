"""Onboard Home Assistant without the wizard, or log in to an onboarded one.

First run: ``POST /api/onboarding/users`` creates the owner and answers an
auth code; ``/auth/token`` turns it into an access token; the WebSocket
command ``auth/long_lived_access_token`` makes the token that is written to
``.develop/token``. The other onboarding steps were marked done in
``.storage/onboarding`` before Home Assistant first started (see layout.py).

Later runs: log in through ``/auth/login_flow`` with the stored owner, keep
the stored long-lived token while it still works, make a new one otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import json
from pathlib import Path
import secrets
from typing import Any

from .api import HaApi, HaApiError
from .layout import Layout, write_private

OWNER_USERNAME = "printfarm"
OWNER_NAME = "Printfarm Developer"
TOKEN_CLIENT_NAME = "printfarm develop"  # noqa: S105 - a label, not a secret
TOKEN_LIFESPAN_DAYS = 3650


class OnboardingError(Exception):
    """Home Assistant cannot be logged in to with what .develop holds."""


@dataclass(frozen=True, slots=True)
class Owner:
    """The owner account scripts/develop made."""

    username: str
    password: str
    name: str = OWNER_NAME

    @classmethod
    def generate(cls) -> Owner:
        """A new owner with a random password."""
        return cls(username=OWNER_USERNAME, password=secrets.token_urlsafe(12))

    @classmethod
    def load(cls, path: Path) -> Owner | None:
        """The stored owner, or None when there is none."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(username=data["username"], password=data["password"], name=data["name"])

    def save(self, path: Path) -> None:
        """Store it (0600)."""
        write_private(path, json.dumps(asdict(self), indent=2) + "\n")


@dataclass(frozen=True, slots=True)
class Access:
    """What a session needs: the owner, a long-lived token, what was done to get them."""

    owner: Owner
    token: str
    onboarded_now: bool
    token_created: bool


async def onboarding_steps(api: HaApi) -> dict[str, bool] | None:
    """``GET /api/onboarding``: step -> done (no auth needed); None once all are done.

    Home Assistant stops serving the onboarding views when every step is done.
    """
    try:
        steps = await api.get("/api/onboarding", auth=False)
    except HaApiError as err:
        if err.status == 404:
            return None
        raise
    return {str(step["step"]): bool(step["done"]) for step in steps}


async def create_owner(api: HaApi, owner: Owner) -> str:
    """Create the owner through onboarding; returns an auth code."""
    result = await api.post(
        "/api/onboarding/users",
        auth=False,
        json={
            "client_id": api.client_id,
            "name": owner.name,
            "username": owner.username,
            "password": owner.password,
            "language": "en",
        },
    )
    return str(result["auth_code"])


async def login_code(api: HaApi, owner: Owner, redirect_uri: str | None = None) -> str:
    """Log in through the login flow as the frontend does; returns an auth code."""
    flow = await api.post(
        "/auth/login_flow",
        auth=False,
        json={
            "client_id": api.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": redirect_uri or f"{api.base_url}/?auth_callback=1",
        },
    )
    result = await api.post(
        f"/auth/login_flow/{flow['flow_id']}",
        auth=False,
        json={
            "client_id": api.client_id,
            "username": owner.username,
            "password": owner.password,
        },
    )
    if result.get("type") != "create_entry":
        errors = result.get("errors") or result.get("reason") or result
        raise OnboardingError(f"login as {owner.username!r} refused: {errors}")
    return str(result["result"])


async def exchange_code(api: HaApi, code: str) -> str:
    """Auth code -> short-lived access token."""
    tokens = await api.post(
        "/auth/token",
        auth=False,
        form={"grant_type": "authorization_code", "code": code, "client_id": api.client_id},
    )
    return str(tokens["access_token"])


async def create_long_lived_token(api: HaApi, access_token: str) -> str:
    """A long-lived access token (each gets its own client name, as HA requires)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    result: Any = await api.ws_command(
        {
            "type": "auth/long_lived_access_token",
            "client_name": f"{TOKEN_CLIENT_NAME} {stamp}",
            "lifespan": TOKEN_LIFESPAN_DAYS,
        },
        access_token=access_token,
    )
    return str(result)


async def token_works(api: HaApi, token: str) -> bool:
    """Whether Home Assistant accepts the token (``GET /api/``)."""
    try:
        await api.with_token(token).get("/api/")
    except HaApiError as err:
        if err.status == 401:
            return False
        raise
    return True


def write_token(layout: Layout, api: HaApi, token: str) -> None:
    """``.develop/token`` and ``.develop/addon.env`` (what the add-on reads)."""
    write_private(layout.token_file, token + "\n")
    write_private(
        layout.addon_env,
        f"HA_URL={api.base_url}\nHA_WS_URL={api.websocket_url}\nHA_TOKEN={token}\n",
    )


async def ensure_access(api: HaApi, layout: Layout) -> Access:
    """Onboard on the first run, log in on later ones; always end with a working token."""
    steps = await onboarding_steps(api) or {}
    onboarded_now = False
    if steps and not steps.get("user", False):
        owner = Owner.generate()
        code = await create_owner(api, owner)
        owner.save(layout.owner_file)
        onboarded_now = True
    else:
        stored = Owner.load(layout.owner_file)
        if stored is None:
            raise OnboardingError(
                f"{layout.config} is onboarded but {layout.owner_file} is missing: "
                "start afresh with scripts/develop --fresh"
            )
        owner = stored
        code = None
    pending = [step for step, done in steps.items() if not done and step != "user"]
    if pending:
        raise OnboardingError(
            f"onboarding steps {pending} are not done (.storage/onboarding was not seeded): "
            "start afresh with scripts/develop --fresh"
        )
    if not onboarded_now and layout.token_file.is_file():
        token = layout.token_file.read_text(encoding="utf-8").strip()
        if token and await token_works(api, token):
            write_token(layout, api, token)
            return Access(owner, token, onboarded_now=False, token_created=False)
    if code is None:
        code = await login_code(api, owner)
    access_token = await exchange_code(api, code)
    token = await create_long_lived_token(api, access_token)
    write_token(layout, api, token)
    return Access(owner, token, onboarded_now=onboarded_now, token_created=True)
