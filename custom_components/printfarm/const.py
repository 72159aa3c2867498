"""Constants of the printfarm integration."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any, Final

from homeassistant.const import Platform

DOMAIN: Final = "printfarm"
LOGGER = logging.getLogger(__package__)

CONF_KIND: Final = "kind"
CONF_SERIAL: Final = "serial"
CONF_ACCESS_CODE: Final = "access_code"
CONF_CAMERA_PORT: Final = "camera_port"
CONF_CA_FILE: Final = "ca_file"
CONF_MODEL: Final = "model"
CONF_ADVANCED: Final = "advanced"
CONF_ADDON_UUID: Final = "addon_uuid"
KIND_ADDON: Final = "addon"
KIND_FARM: Final = "farm"

OPTION_CAMERA: Final = "camera"
OPTION_POLL_INTERVAL: Final = "poll_interval"
#: Values of the camera option: live video, still images only (no stream held open), none.
CAMERA_STREAM: Final = "stream"
CAMERA_SNAPSHOT: Final = "snapshot"
CAMERA_OFF: Final = "off"
CAMERA_MODES: Final = (CAMERA_STREAM, CAMERA_SNAPSHOT, CAMERA_OFF)


def camera_mode(options: Mapping[str, Any]) -> str:
    """The entry's camera mode; entries from before the modes stored a bool."""
    value = options.get(OPTION_CAMERA, CAMERA_STREAM)
    if value is True:
        return CAMERA_STREAM
    if value is False:
        return CAMERA_OFF
    return value if value in CAMERA_MODES else CAMERA_STREAM


PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.FAN,
    Platform.IMAGE,
    Platform.LIGHT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
