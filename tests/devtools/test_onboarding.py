"""Onboarding without the wizard, and logging in again on later runs (real HA views)."""

from __future__ import annotations

import json
import stat
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from devtools.api import HaApi
from devtools.layout import Layout, onboarding_seed
from devtools.onboarding import (
    OWNER_USERNAME,
    OnboardingError,
    Owner,
    ensure_access,
    onboarding_steps,
    token_works,
)

from .conftest import served


@pytest.fixture
async def fresh_api(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    local_auth: Any,
    aiohttp_client: Any,
    session: aiohttp.ClientSession,
    socket_enabled: None,
) -> HaApi:
    """A Home Assistant as scripts/develop first starts it: onboarding seeded, no owner."""
    hass_storage["onboarding"] = onboarding_seed()
    base = await served(hass, aiohttp_client, "onboarding", "api", "websocket_api")
    return HaApi(session, base)


async def test_first_run_creates_owner_and_token(
    hass: HomeAssistant, fresh_api: HaApi, layout: Layout
) -> None:
    assert await onboarding_steps(fresh_api) == {
        "user": False,
        "core_config": True,
        "analytics": True,
        "integration": True,
    }
    access = await ensure_access(fresh_api, layout)
    assert access.onboarded_now
    assert access.token_created
    assert access.owner.username == OWNER_USERNAME
    # The owner exists in Home Assistant and is the owner.
    users = [u for u in await hass.auth.async_get_users() if not u.system_generated]
    owners = [u for u in users if u.is_owner]
    assert [u.name for u in owners] == [access.owner.name]
    # Onboarding is complete: the frontend shows no wizard.
    steps = await onboarding_steps(fresh_api)
    assert steps is None or all(steps.values())
    # The token works, is stored for the add-on, and only the owner can read the files.
    assert await token_works(fresh_api, access.token)
    assert layout.token_file.read_text().strip() == access.token
    env = dict(line.split("=", 1) for line in layout.addon_env.read_text().splitlines())
    assert env == {
        "HA_URL": fresh_api.base_url,
        "HA_WS_URL": fresh_api.base_url.replace("http", "ws") + "/api/websocket",
        "HA_TOKEN": access.token,
    }
    for path in (layout.token_file, layout.owner_file, layout.addon_env):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(layout.owner_file.read_text())
    assert stored["password"] == access.owner.password


async def test_later_run_keeps_a_working_token(fresh_api: HaApi, layout: Layout) -> None:
    first = await ensure_access(fresh_api, layout)
    again = await ensure_access(fresh_api, layout)
    assert not again.onboarded_now
    assert not again.token_created
    assert again.token == first.token
    assert again.owner == first.owner


async def test_later_run_logs_in_for_a_new_token_when_the_old_one_is_gone(
    hass: HomeAssistant, fresh_api: HaApi, layout: Layout
) -> None:
    first = await ensure_access(fresh_api, layout)
    # Revoke it in Home Assistant (as a user deleting it in their profile would).
    refresh = hass.auth.async_validate_access_token(first.token)
    assert refresh is not None
    hass.auth.async_remove_refresh_token(refresh)
    assert not await token_works(fresh_api, first.token)

    again = await ensure_access(fresh_api, layout)
    assert not again.onboarded_now
    assert again.token_created
    assert again.token != first.token
    assert await token_works(fresh_api, again.token)
    assert layout.token_file.read_text().strip() == again.token


async def test_onboarded_without_stored_owner_says_how_to_start_afresh(
    fresh_api: HaApi, layout: Layout
) -> None:
    await ensure_access(fresh_api, layout)
    layout.owner_file.unlink()
    with pytest.raises(OnboardingError, match="--fresh"):
        await ensure_access(fresh_api, layout)


async def test_wrong_stored_password_is_reported(fresh_api: HaApi, layout: Layout) -> None:
    await ensure_access(fresh_api, layout)
    layout.token_file.unlink()
    Owner(username=OWNER_USERNAME, password="not-it").save(layout.owner_file)
    with pytest.raises(OnboardingError, match="refused"):
        await ensure_access(fresh_api, layout)
