"""Files a printer reports, checked once for every kind before they become ``PrintFile``s."""

from __future__ import annotations

from typing import Any

from .coerce import as_float, as_int, as_text
from .limits import MAX_FILES, MAX_PATH_LENGTH
from .models import PrintFile


def _clean(value: Any) -> str | None:
    text = as_text(value)
    if text is None or len(text) > MAX_PATH_LENGTH:
        return None
    # Control characters of any range (C0, DEL, C1), lone surrogates, separators
    # other than the space: nothing a printer could be sent back safely.
    if not text.isprintable():
        return None
    return text


def print_file(
    path: Any, name: Any = None, size: Any = None, modified: Any = None
) -> PrintFile | None:
    """A ``PrintFile`` from reported values; None when the path is unusable.

    A path longer than ``MAX_PATH_LENGTH``, with control characters or a
    ``..`` part is dropped (it could never be started safely); a missing or
    odd name falls back to the file name, odd sizes and times to None.
    """
    clean = _clean(path)
    if clean is None or ".." in clean.split("/") or clean.endswith("/"):
        return None
    size_bytes = as_int(size)
    stamp = as_float(modified)
    return PrintFile(
        path=clean,
        name=_clean(name) or clean.rsplit("/", 1)[-1],
        size=size_bytes if size_bytes is not None and size_bytes >= 0 else None,
        modified=stamp if stamp is not None and stamp >= 0 else None,
    )


class FileCollector:
    """Collects parsed files up to a bound (a hostile listing cannot grow memory)."""

    def __init__(self, limit: int = MAX_FILES * 4) -> None:
        """At most ``limit`` files are kept."""
        self.limit = limit
        self.files: list[PrintFile] = []

    @property
    def full(self) -> bool:
        """No more files are taken."""
        return len(self.files) >= self.limit

    def add(self, file: PrintFile | None) -> None:
        """Keep ``file`` when it is one and there is room."""
        if file is not None and not self.full:
            self.files.append(file)
