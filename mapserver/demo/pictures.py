"""Photos on some of the demo's cases: which cases get one, and the picture itself (a drawn scene, not a real
photo).

The newest :data:`REPORTED` cases that have a field account in their grid get a report photo (上报, uploaded by
that account when the case was reported); every :data:`AFTER_EVERY`-th of those that is closed also gets an after
photo (处置后, at its closing). A picture is a JPEG of :data:`SIZE` pixels: sky and ground, a few coloured boxes and
discs where the scene is, and the case's category key written in a corner; its colours come from ``rng``, so the
seed fixes every byte Pillow writes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mapserver.demo.field import FieldAccount
from mapserver.model import Incident

REPORTED = 200
AFTER_EVERY = 3
SIZE = (640, 480)
SHAPES = 6


@dataclass(frozen=True)
class DemoPhoto:
    """A photo to attach: the case, its kind (report, after), when and by which account, and the picture's
    bytes."""

    incident_id: str
    kind: str
    at: datetime
    by: str
    data: bytes


def build_photos(incidents: list[Incident], accounts: list[FieldAccount], rng: np.random.Generator,
                 as_of: datetime) -> list[DemoPhoto]:
    """Report photos on the newest :data:`REPORTED` cases of grids with a field account (reported before
    ``as_of``), after photos on every third closed one; by case, newest first."""
    worker = {a.grid_code: a.name for a in accounts}
    chosen = [i for i in reversed(incidents) if i.grid_code in worker and i.reported_at < as_of][:REPORTED]
    out: list[DemoPhoto] = []
    for k, case in enumerate(chosen):
        by = worker[case.grid_code]
        out.append(DemoPhoto(case.id, "report", case.reported_at, by, picture(case.category, rng)))
        if case.status == "closed" and case.closed_at is not None and k % AFTER_EVERY == 0:
            out.append(DemoPhoto(case.id, "after", case.closed_at, by, picture(case.category, rng, tidy=True)))
    return out


def picture(label: str, rng: np.random.Generator, *, tidy: bool = False) -> bytes:
    """A JPEG scene: sky over ground, coloured shapes (fewer and greener when ``tidy``: after handling), and
    ``label``."""
    width, height = SIZE
    sky, ground = rng.integers(150, 230, size=3), rng.integers(60, 140, size=3)
    image = Image.new("RGB", SIZE, tuple(int(v) for v in sky))
    draw = ImageDraw.Draw(image)
    horizon = int(rng.integers(height // 3, height // 2))
    draw.rectangle((0, horizon, width, height), fill=tuple(int(v) for v in ground))
    for _ in range(SHAPES // 2 if tidy else SHAPES):
        x, y = int(rng.integers(0, width - 80)), int(rng.integers(horizon - 60, height - 60))
        w, h = int(rng.integers(40, 200)), int(rng.integers(30, 150))
        colour = (40, int(rng.integers(140, 220)), 60) if tidy else tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=colour, outline=(30, 30, 30), width=2)
        else:
            draw.ellipse((x, y, x + w, y + h), fill=colour, outline=(30, 30, 30), width=2)
    draw.rectangle((8, 8, 16 + 9 * len(label), 34), fill=(255, 255, 255))
    draw.text((12, 14), label, fill=(0, 0, 0), font=ImageFont.load_default())
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
