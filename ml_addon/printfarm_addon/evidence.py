"""Draw what the model saw on the frame: tinted regions or boxes, and a banner."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .inference.formats import Evidence

COLOURS = {"ok": (46, 160, 67), "warning": (230, 160, 0), "failure": (220, 38, 38)}


def draw(image: Image.Image, evidence: Evidence, *, level: str, score: float) -> Image.Image:
    """A copy of ``image`` with the evidence drawn and the level and score written on top."""
    canvas = image.convert("RGBA")
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    red = COLOURS["failure"]
    # A quiet frame shows no evidence: a region map always has some warm cells.
    shown = evidence if level != "ok" else Evidence()
    if shown.heatmap is not None and shown.heatmap.size:
        grid = np.asarray(shown.heatmap, dtype=np.float32)
        rows, cols = grid.shape
        for r in range(rows):
            for c in range(cols):
                strength = float(np.clip((grid[r, c] - 0.5) * 2.0, 0.0, 1.0))
                if strength <= 0.05:
                    continue
                box = (
                    c * canvas.width // cols,
                    r * canvas.height // rows,
                    (c + 1) * canvas.width // cols,
                    (r + 1) * canvas.height // rows,
                )
                pen.rectangle(box, fill=(*red, int(110 * strength)))
    width = max(2, canvas.width // 200)
    for found in shown.boxes:
        box = (
            round(found.x1 * canvas.width),
            round(found.y1 * canvas.height),
            round(found.x2 * canvas.width),
            round(found.y2 * canvas.height),
        )
        pen.rectangle(box, outline=(*red, 255), width=width)
        pen.text(
            (box[0] + 3, box[1] + 2), f"{found.label} {found.confidence:.0%}", fill=(*red, 255)
        )
    colour = COLOURS.get(level, COLOURS["ok"])
    pen.rectangle((0, 0, canvas.width, 18), fill=(0, 0, 0, 150))
    pen.text((6, 3), f"{level.upper()}  score {score:.0%}", fill=(*colour, 255))
    return Image.alpha_composite(canvas, overlay).convert("RGB")
