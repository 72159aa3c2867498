"""Detections, feedback frames, score series, per-printer settings and camera references.

One SQLite file (WAL) under the data folder, bounded: the oldest detections go
once their images pass ``max_image_bytes`` or their count ``max_detections``;
score series are kept for the newest prints only. Calls are blocking and short;
the service runs them in a thread. ``backup`` writes a consistent copy for
Home Assistant's backup of the add-on's data (the live file is excluded there).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import sqlite3
import threading
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS detections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    printer TEXT NOT NULL,
    print_id TEXT NOT NULL,
    time REAL NOT NULL,
    level TEXT NOT NULL,
    score REAL NOT NULL,
    smoothed REAL NOT NULL,
    action TEXT,
    note TEXT,
    image BLOB,
    frame BLOB,
    feedback TEXT,
    feedback_time REAL
);
CREATE INDEX IF NOT EXISTS detections_printer ON detections (printer, id);
CREATE TABLE IF NOT EXISTS series (
    printer TEXT NOT NULL,
    print_id TEXT NOT NULL,
    time REAL NOT NULL,
    score REAL NOT NULL,
    smoothed REAL NOT NULL,
    level TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS series_print ON series (print_id, time);
CREATE TABLE IF NOT EXISTS prints (
    print_id TEXT PRIMARY KEY,
    printer TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    job TEXT
);
CREATE TABLE IF NOT EXISTS settings (
    printer TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL DEFAULT 1,
    sensitivity REAL
);
CREATE TABLE IF NOT EXISTS references_ (
    camera TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
"""
DETECTION_COLUMNS = (
    "id, printer, print_id, time, level, score, smoothed, action, note, feedback, feedback_time"
)


@dataclass(frozen=True, slots=True)
class DetectionRecord:
    """A stored detection, without its images."""

    id: int
    printer: str
    print_id: str
    time: float
    level: str
    score: float
    smoothed: float
    action: str | None
    note: str | None
    feedback: str | None
    feedback_time: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "id": self.id,
            "printer": self.printer,
            "print_id": self.print_id,
            "time": self.time,
            "level": self.level,
            "score": round(self.score, 4),
            "smoothed": round(self.smoothed, 4),
            "action": self.action,
            "note": self.note,
            "feedback": self.feedback,
        }


class History:
    """The add-on's SQLite database."""

    def __init__(
        self,
        path: Path,
        *,
        max_image_bytes: int = 200 * 1024 * 1024,
        max_detections: int = 2000,
        max_series_prints: int = 50,
    ) -> None:
        """Open (or create) the database in WAL mode."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_image_bytes = max_image_bytes
        self.max_detections = max_detections
        self.max_series_prints = max_series_prints
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Checkpoint and close."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    # ------------------------------------------------------------- prints

    def start_print(self, print_id: str, printer: str, started: float, job: str | None) -> None:
        """Record a print's start."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO prints (print_id, printer, started, job) VALUES (?,?,?,?)",
                (print_id, printer, started, job),
            )
            self._prune_series()

    def end_print(self, print_id: str, ended: float) -> None:
        """Record a print's end."""
        with self._lock:
            self._db.execute("UPDATE prints SET ended = ? WHERE print_id = ?", (ended, print_id))

    def add_point(
        self, printer: str, print_id: str, time: float, score: float, smoothed: float, level: str
    ) -> None:
        """One analysed frame of a print, for the score plot."""
        with self._lock:
            self._db.execute(
                "INSERT INTO series VALUES (?,?,?,?,?,?)",
                (printer, print_id, time, score, smoothed, level),
            )

    def series(self, print_id: str, limit: int = 2000) -> list[dict[str, Any]]:
        """The print's points, evenly thinned to at most ``limit``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT time, score, smoothed, level FROM series WHERE print_id = ? ORDER BY time",
                (print_id,),
            ).fetchall()
        step = max(1, -(-len(rows) // limit))
        return [
            {"time": t, "score": round(s, 4), "smoothed": round(m, 4), "level": lv}
            for t, s, m, lv in rows[::step]
        ]

    def _prune_series(self) -> None:
        keep = self._db.execute(
            "SELECT print_id FROM prints ORDER BY started DESC LIMIT ?", (self.max_series_prints,)
        ).fetchall()
        if len(keep) < self.max_series_prints:
            return
        ids = [k[0] for k in keep]
        marks = ",".join("?" * len(ids))
        self._db.execute(f"DELETE FROM series WHERE print_id NOT IN ({marks})", ids)  # noqa: S608
        self._db.execute(f"DELETE FROM prints WHERE print_id NOT IN ({marks})", ids)  # noqa: S608

    # --------------------------------------------------------- detections

    def add_detection(
        self,
        *,
        printer: str,
        print_id: str,
        time: float,
        level: str,
        score: float,
        smoothed: float,
        action: str | None,
        image: bytes,
        frame: bytes,
        note: str | None = None,
    ) -> int:
        """Store a detection with its evidence image and the raw frame; its id."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO detections (printer, print_id, time, level, score, smoothed, action,"
                " note, image, frame) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (printer, print_id, time, level, score, smoothed, action, note, image, frame),
            )
            detection_id = int(cursor.lastrowid or 0)
            self._prune_detections()
        return detection_id

    def set_note(self, detection_id: int, note: str) -> None:
        """Attach text (e.g. the AI Task's answer) to a detection."""
        with self._lock:
            self._db.execute("UPDATE detections SET note = ? WHERE id = ?", (note, detection_id))

    def _prune_detections(self) -> None:
        total = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(image) + LENGTH(frame)), 0) FROM detections"
        ).fetchone()
        count, size = int(total[0]), int(total[1])
        while count > self.max_detections or (size > self.max_image_bytes and count > 1):
            oldest = self._db.execute(
                "SELECT id, LENGTH(image) + LENGTH(frame) FROM detections ORDER BY id LIMIT 1"
            ).fetchone()
            self._db.execute("DELETE FROM detections WHERE id = ?", (oldest[0],))
            count -= 1
            size -= int(oldest[1] or 0)

    def detections(self, printer: str | None = None, limit: int = 50) -> list[DetectionRecord]:
        """Newest first."""
        query = f"SELECT {DETECTION_COLUMNS} FROM detections"  # noqa: S608 - constant columns
        params: tuple[Any, ...] = ()
        if printer is not None:
            query += " WHERE printer = ?"
            params = (printer,)
        query += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*params, max(1, min(limit, 500)))).fetchall()
        return [DetectionRecord(*row) for row in rows]

    def detection(self, detection_id: int) -> DetectionRecord | None:
        """One detection."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {DETECTION_COLUMNS} FROM detections WHERE id = ?",  # noqa: S608
                (detection_id,),
            ).fetchone()
        return None if row is None else DetectionRecord(*row)

    def blob(self, detection_id: int, column: str) -> bytes | None:
        """The evidence ``image`` or the raw ``frame`` of a detection."""
        if column not in ("image", "frame"):
            raise ValueError(column)
        with self._lock:
            row = self._db.execute(
                f"SELECT {column} FROM detections WHERE id = ?",  # noqa: S608 - checked above
                (detection_id,),
            ).fetchone()
        return None if row is None else row[0]

    def set_feedback(self, detection_id: int, verdict: str, time: float) -> None:
        """The user's verdict on a detection (false_alarm or confirmed)."""
        with self._lock:
            self._db.execute(
                "UPDATE detections SET feedback = ?, feedback_time = ? WHERE id = ?",
                (verdict, time, detection_id),
            )

    # ----------------------------------------------- settings, references

    def settings(self) -> dict[str, tuple[bool, float | None]]:
        """Per-printer (enabled, sensitivity)."""
        with self._lock:
            rows = self._db.execute("SELECT printer, enabled, sensitivity FROM settings").fetchall()
        return {p: (bool(e), s) for p, e, s in rows}

    def save_settings(self, printer: str, enabled: bool, sensitivity: float | None) -> None:
        """Store a printer's settings."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO settings (printer, enabled, sensitivity) VALUES (?,?,?)",
                (printer, int(enabled), sensitivity),
            )

    def references(self) -> dict[str, dict[str, Any]]:
        """Every camera's lifetime reference."""
        with self._lock:
            rows = self._db.execute("SELECT camera, data FROM references_").fetchall()
        found = {}
        for camera, data in rows:
            try:
                value = json.loads(data)
            except ValueError:
                continue
            if isinstance(value, dict):
                found[camera] = value
        return found

    def save_reference(self, camera: str, data: dict[str, Any]) -> None:
        """Store a camera's lifetime reference."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO references_ (camera, data) VALUES (?, ?)",
                (camera, json.dumps(data)),
            )

    # -------------------------------------------------------------- backup

    def backup(self, target: Path) -> None:
        """A consistent copy of the database at ``target`` (replaced atomically)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        with self._lock:
            copy = sqlite3.connect(partial)
            try:
                self._db.backup(copy)
            finally:
                copy.close()
        partial.replace(target)


def restore_if_missing(live: Path, backup: Path) -> bool:
    """After a restore from Home Assistant's backup only the copy exists: put it back."""
    if live.exists() or not backup.exists():
        return False
    live.parent.mkdir(parents=True, exist_ok=True)
    live.write_bytes(backup.read_bytes())
    return True
