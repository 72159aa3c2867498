"""Size and shape limits on everything a printer sends, in one place.

Every network read is bounded by one of these before it is buffered, so a
printer cannot make Home Assistant's process grow by more than a few MB.
"""

from __future__ import annotations

from typing import Final

#: Largest single message a client accepts (a JSON body, a websocket frame, an MQTT packet).
MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024
#: Largest camera frame or thumbnail accepted.
MAX_IMAGE_BYTES: Final = 8 * 1024 * 1024
#: Nesting printfarm follows when it merges or rewrites a document; deeper parts are
#: kept as they are (replaced whole, never walked), so no input can exhaust the stack.
MAX_DEPTH: Final = 16
#: Longest URL a printer may hand over (a camera or thumbnail reference).
MAX_URL_LENGTH: Final = 2048
#: Most files a printer's file list yields (newest first); the rest are not offered.
MAX_FILES: Final = 500
#: Longest file path printfarm sends or accepts.
MAX_PATH_LENGTH: Final = 255
