"""A real mosquitto broker with TLS and ``bblp`` auth, run as a subprocess.

A Bambu printer is its own MQTT broker; the simulator puts mosquitto in that
role (TLS with the printer's certificate, user ``bblp`` with the access code
as password, an ACL limited to ``device/<serial>/#``) and talks to it from an
in-process "printer" client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
from pathlib import Path
import secrets
import shutil
import socket

from .certs import CertFiles

#: PBKDF2 iterations mosquitto uses for its ``$7$`` password hashes.
_PBKDF2_ROUNDS = 101


class MosquittoMissingError(RuntimeError):
    """mosquitto is not installed (``apt-get install mosquitto``)."""


def mosquitto_binary() -> str:
    """Path of the mosquitto executable, or raise MosquittoMissingError."""
    for candidate in (
        shutil.which("mosquitto"),
        "/usr/sbin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise MosquittoMissingError(
        "mosquitto is not installed: run scripts/interop/mosquitto.sh "
        "(apt-get install -y mosquitto) to use the Bambu simulator"
    )


def password_entry(username: str, password: str) -> str:
    """A mosquitto 2.x password-file line (PBKDF2-SHA512, ``$7$`` format)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ROUNDS)
    encoded = (base64.b64encode(salt).decode(), base64.b64encode(digest).decode())
    return f"{username}:$7${_PBKDF2_ROUNDS}${encoded[0]}${encoded[1]}\n"


def free_port(host: str) -> int:
    """A port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def write_config(
    folder: Path,
    *,
    host: str,
    port: int,
    internal_port: int,
    serial: str,
    access_code: str,
    certs: CertFiles,
) -> Path:
    """Write mosquitto.conf, the password file and the ACL (blocking).

    Two listeners share the password file and ACL: ``port`` with TLS for
    clients, ``internal_port`` in plain TCP on 127.0.0.1 for the printer itself.
    """
    (folder / "passwd").write_text(password_entry("bblp", access_code))
    (folder / "acl").write_text(f"user bblp\ntopic readwrite device/{serial}/#\n")
    conf = folder / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                "per_listener_settings false",
                "allow_anonymous false",
                f"password_file {folder / 'passwd'}",
                f"acl_file {folder / 'acl'}",
                "persistence false",
                # Pass oversized messages on, as a printer would (mosquitto 2.1 caps
                # packets by default, 2.0 did not): the client must refuse them itself.
                "max_packet_size 67108864",
                "log_dest stderr",  # unbuffered, unlike stdout on a pipe
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_type information",  # carries the "running" line
                # the printer's own side: plain TCP on loopback (settings below are per listener)
                f"listener {internal_port} 127.0.0.1",
                # what clients reach: TLS with the printer's certificate
                f"listener {port} {host}",
                f"cafile {certs.ca}",
                f"certfile {certs.cert}",
                f"keyfile {certs.key}",
                "require_certificate false",
                "",
            ]
        )
    )
    # mosquitto started as root drops to its own user: let it read the throw-away files.
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)
    return conf


class Mosquitto:
    """One mosquitto process; ``start()`` returns once it listens."""

    def __init__(self, conf: Path, host: str, port: int) -> None:
        """Remember the config; nothing runs until ``start()``."""
        self.conf = conf
        self.host = host
        self.port = port
        self._process: asyncio.subprocess.Process | None = None
        self._log: list[str] = []
        self._drain: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> None:
        """Run mosquitto and wait until it accepts connections."""
        binary = mosquitto_binary()
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "-c",
            str(self.conf),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self._process.stdout is not None
        try:
            async with asyncio.timeout(timeout):
                await self._wait_running(self._process.stdout)
                await self._wait_listening()
        except BaseException:
            await self.stop()
            raise
        self._drain = asyncio.create_task(self._drain_output(), name="mosquitto output")

    async def _wait_running(self, stdout: asyncio.StreamReader) -> None:
        while line := await stdout.readline():
            text = line.decode(errors="replace").strip()
            self._log.append(text)
            # "mosquitto version X running"; mosquitto 2.1 also logs "running mosquitto
            # as user ..." before it opens the listeners.
            if text.endswith(" running"):
                return
        raise RuntimeError(f"mosquitto exited: {' | '.join(self._log[-5:])}")

    async def _wait_listening(self) -> None:
        # "running" is logged after the listeners are open; one connect proves it.
        _, writer = await asyncio.open_connection(self.host, self.port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def _drain_output(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            return
        while line := await process.stdout.readline():
            self._log.append(line.decode(errors="replace").strip())
            del self._log[:-50]

    @property
    def log(self) -> list[str]:
        """The last lines mosquitto printed."""
        return list(self._log)

    async def stop(self) -> None:
        """Terminate mosquitto; idempotent."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        drain, self._drain = self._drain, None
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
