"""Constants of the printfarm integration."""

from __future__ import annotations

import logging
from typing import Final

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

OPTION_CAMERA: Final = "camera"
OPTION_POLL_INTERVAL: Final = "poll_interval"

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.LIGHT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
]
