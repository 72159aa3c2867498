"""How each target reaches the client code: the glue that follows the clients' shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from custom_components.printfarm.printers.bambu import BambuClient
from custom_components.printfarm.printers.coerce import decode_json, decode_object
from custom_components.printfarm.printers.elegoo import ElegooClient
from custom_components.printfarm.printers.elegoo.parse import (
    ResponseReport,
    SdcpParseError,
    parse_message,
)
from custom_components.printfarm.printers.httpx_compat import httpx
from custom_components.printfarm.printers.moonraker import MoonrakerClient
from custom_components.printfarm.printers.moonraker.rpc import RpcConnection
from custom_components.printfarm.printers.octoprint import OctoPrintClient
from custom_components.printfarm.printers.octoprint.camera import camera_info, resolve_url
from custom_components.printfarm.printers.octoprint.flavour import detect_flavour
from custom_components.printfarm.printers.octoprint.merge import Reading
from custom_components.printfarm.printers.octoprint.parse import (
    as_dict,
    as_str,
    parse_connection,
    parse_error,
    parse_job,
    parse_printer,
    parse_version,
    parse_webcam,
)
from custom_components.printfarm.printers.octoprint.push import PushSession
from custom_components.printfarm.printers.plumbing import Pending
from custom_components.printfarm.printers.prusalink import PrusaLinkClient
from custom_components.printfarm.printers.prusalink.parse import (
    parse_cameras,
    parse_info,
    parse_job as parse_link_job,
    parse_status,
    parse_version as parse_link_version,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
GOOD_NOZZLE = 201.5


class StuckStateError(AssertionError):
    """A good message after a bad one did not reach the state."""


def expect(condition: bool, what: str) -> None:
    """Fail the example when the client did not recover."""
    if not condition:
        raise StuckStateError(what)


def _fixture(kind: str, name: str) -> Any:
    data = json.loads((FIXTURES / kind / name).read_text(encoding="utf-8"))
    return data["body"] if isinstance(data, dict) and "body" in data else data


# ---------------------------------------------------------------- moonraker

MOONRAKER_GOOD = json.dumps(
    {
        "jsonrpc": "2.0",
        "method": "notify_status_update",
        "params": [{"extruder": {"temperature": GOOD_NOZZLE, "target": 210.0}}, 1.0],
    }
)


def moonraker_dispatch(client: MoonrakerClient, text: str) -> None:
    rpc = RpcConnection(None, client._on_notification, Pending())  # type: ignore[arg-type]
    rpc.dispatch(text)


def decode_result(text: str) -> Any:
    message = decode_json(text, "reply")
    return message.get("result") if isinstance(message, dict) else message


# ---------------------------------------------------------------- octoprint

OCTO_GOOD_JOB = json.dumps(_fixture("octoprint", "live_job_printing.json"))
_printer = _fixture("octoprint", "live_printer_printing.json")
_printer["temperature"]["tool0"]["actual"] = GOOD_NOZZLE
OCTO_GOOD_PRINTER = json.dumps(_printer)


def _push_current(job: Any, printer: Any) -> dict[str, Any]:
    return {
        "state": printer.get("state"),
        "job": job.get("job"),
        "progress": job.get("progress"),
        "temps": [{"time": 1, **printer.get("temperature", {})}],
    }


def octoprint_push_seeds() -> list[Any]:
    job = _fixture("octoprint", "live_job_printing.json")
    printer = _fixture("octoprint", "live_printer_printing.json")
    paused = _fixture("octoprint", "live_printer_paused.json")
    return [
        {"current": _push_current(job, printer)},
        {"history": _push_current(job, paused)},
        {"connected": {"version": "1.11.2", "apikey": None}},
    ]


OCTO_GOOD_PUSH = json.dumps({"current": _push_current(json.loads(OCTO_GOOD_JOB), _printer)})


async def octoprint_poll(
    client: OctoPrintClient, job_text: str, printer_text: str, *, also_409: bool = False
) -> None:
    """A poll; ``also_409``: the printer body read as a 409 answer as well."""
    job = parse_job(decode_json(job_text, "/api/job"))
    body = decode_json(printer_text, "/api/printer")
    if also_409:
        client._apply(Reading.printer_absent(job, body))
    client._apply(Reading.from_printer(job, parse_printer(body)))
    parse_error(body)


def octoprint_push(client: OctoPrintClient, text: str) -> None:
    push = PushSession(None, client.base_url, {}, 1.0, on_current=client._on_push)  # type: ignore[arg-type]
    push.handle(text)


def octoprint_identity(client: OctoPrintClient, text: str) -> None:
    body = decode_json(text, "document")
    detect_flavour(parse_version(body))
    parse_connection(body)
    camera_info(parse_webcam(body), client.base_url)
    as_str(as_dict(as_dict(body).get("appearance")).get("name"))
    resolve_url(as_str(as_dict(body).get("thumbnail")), client.base_url)


# ---------------------------------------------------------------- prusalink

_status = _fixture("prusalink", "pyprusalink_status_printing.json")
_status["printer"]["temp_nozzle"] = GOOD_NOZZLE
PRUSA_GOOD_STATUS = json.dumps(_status).encode()


def prusalink_status(client: PrusaLinkClient, raw: bytes) -> None:
    client._apply(parse_status(decode_object(raw, "status")))


def prusalink_documents(raw: bytes) -> None:
    data = decode_object(raw, "document")
    parse_link_version(data)
    parse_info(data)
    parse_link_job(data)
    parse_cameras(data)


def challenge_seeds() -> list[Any]:
    seeds = []
    for path in sorted((FIXTURES / "prusalink").glob("*401*.json")):
        headers = json.loads(path.read_text(encoding="utf-8")).get("headers", {})
        seeds.append(headers.get("WWW-Authenticate", 'Digest realm="Printer API"'))
    seeds.append('Digest realm="Printer API", nonce="0000abcd", stale=true')
    return seeds


async def prusalink_challenge(http_class: Any, header: str) -> None:
    value = header.encode("latin-1", "replace").decode("latin-1")
    value = "".join(ch for ch in value if ch not in "\r\n\0")

    def answer(request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            return httpx.Response(200, json={})
        return httpx.Response(401, headers={"WWW-Authenticate": value})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        http = http_class(
            "http://127.0.0.1",
            username="maker",
            password="p",
            api_key=None,
            client=client,
            timeout=1.0,
        )
        await http.request("GET", "/api/version", max_bytes=1 << 16)


# ---------------------------------------------------------------- elegoo

_elegoo = _fixture("elegoo", "cc_status_printing.json")
_elegoo["Status"]["TempOfNozzle"] = GOOD_NOZZLE
ELEGOO_GOOD = json.dumps(_elegoo)


def elegoo_message(client: ElegooClient, text: str) -> None:
    try:
        report = parse_message(text)
    except SdcpParseError:
        return
    if report is not None:
        client._handle(report)


async def elegoo_video(client: ElegooClient, text: str) -> None:
    try:
        report = parse_message(text)
    except SdcpParseError:
        return
    if not isinstance(report, ResponseReport):
        return

    async def request(cmd: int, data: dict[str, Any]) -> dict[str, Any]:
        return report.data

    client._request = request  # type: ignore[method-assign]
    client._update_state(connected=True)
    url = await client._switch_video(on=True)
    expect(url.startswith(("http://127.0.0.1", "https://127.0.0.1")), f"video URL {url!r}")


# ---------------------------------------------------------------- bambu


def bambu_seeds() -> list[Any]:
    seeds: list[Any] = []
    for path in sorted((FIXTURES / "bambu").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        seeds.extend(data if isinstance(data, list) else [data])
    return seeds


#: A delta that sets only the nozzle: a bad field kept in the merged report would block it.
BAMBU_GOOD = json.dumps(
    {"print": {"command": "push_status", "sequence_id": "9", "nozzle_temper": GOOD_NOZZLE}}
).encode()


def bambu_message(client: BambuClient, payload: bytes) -> None:
    client._on_message("device/01P00A000000001/report", payload)
