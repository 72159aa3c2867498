"""``python -m ml_addon.printfarm_addon``: run the add-on (or ``backup`` before a backup).

In the add-on container the Supervisor provides SUPERVISOR_TOKEN and
/data/options.json. Standalone, set HA_URL and HA_TOKEN (and optionally
HA_WS_URL, PRINTFARM_OPTIONS, PRINTFARM_DATA, PRINTFARM_CONFIG, PRINTFARM_MEDIA).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from .config import Environment, OptionsError, load_options
from .ha import HaAuthError
from .history import History
from .service import Service, backup_path, history_path

LOGGER = logging.getLogger("printfarm_addon")


async def run(env: Environment) -> int:
    """Run until SIGTERM or SIGINT."""
    options = load_options(env.options_path)
    logging.getLogger().setLevel(options.log_level.upper())
    service = Service(env, options)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(service.start())
    waiting = asyncio.create_task(stop.wait())
    try:
        done, _pending = await asyncio.wait(
            {starting, waiting}, return_when=asyncio.FIRST_COMPLETED
        )
        if starting in done:
            starting.result()
            await waiting
    except HaAuthError:
        LOGGER.error(  # noqa: TRY400 - the reason is the message, not a traceback
            "Home Assistant refused the token: give the add-on a valid long-lived access token"
        )
        return 1
    finally:
        starting.cancel()
        waiting.cancel()
        LOGGER.info("Stopping")
        await service.stop()
    return 0


def backup(env: Environment) -> int:
    """Write a consistent copy of the history for Home Assistant's backup."""
    history = History(history_path(env))
    try:
        history.backup(backup_path(env))
    finally:
        history.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        env = Environment.from_env()
        if args[:1] == ["backup"]:
            return backup(env)
        if args:
            print("usage: python -m ml_addon.printfarm_addon [backup]", file=sys.stderr)  # noqa: T201
            return 2
        return asyncio.run(run(env))
    except OptionsError as err:
        LOGGER.error("%s", err)  # noqa: TRY400
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
