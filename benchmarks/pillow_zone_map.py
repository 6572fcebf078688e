"""The report map as it was drawn before it became SVG (issue 22, item 5): the same scene
(:func:`maps.zone_map.zone_scene`) rasterised with Pillow at twice the size, reduced, and written
as a JPEG. Kept here only so that ``benchmarks/bench_report_maps.py`` measures both side by side.
"""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from pathlib import Path

import numpy as np

from maps.zone_map import LABEL_PX, ZONE_LINE_COLOUR, Scene

# Drawn at SUPERSAMPLE times the size, then reduced: Pillow draws without anti-aliasing.
SUPERSAMPLE = 2


def jpeg(scene: Scene) -> bytes:
    """The scene as a JPEG, exactly as ``maps/zone_map.py`` drew it before (commit f634fe9)."""
    from PIL import Image, ImageDraw

    px = float(SUPERSAMPLE)
    image = Image.new("RGB", (scene.width * SUPERSAMPLE, scene.height * SUPERSAMPLE), "#ffffff")
    draw = ImageDraw.Draw(image)
    for colour, _, parts in scene.areas:
        for exterior, _ in parts:
            draw.polygon(_flat(exterior), fill=colour)
    for _, member, parts in scene.areas:
        for ring in (r for exterior, holes in parts for r in (exterior, *holes)):
            draw.line(_flat(ring), fill="#ffffff", width=round((1.2 if member else 1.0) * px))
    for exterior, holes in scene.lines:
        for ring in (exterior, *holes):
            draw.line(_flat(ring), fill=ZONE_LINE_COLOUR, width=round(2.4 * px), joint="curve")
    for exterior, holes in scene.outline:
        for ring in (exterior, *holes):
            for dash in _dashes(_flat(ring), 9 * px, 4 * px):
                draw.line(dash, fill="#000000", width=round(3 * px))
    font = _font(LABEL_PX * SUPERSAMPLE)
    for x, y, name in scene.labels:
        draw.text((x * px, y * px), name, font=font, fill="#1d1d1b", anchor="mm",
                  stroke_width=2 * SUPERSAMPLE, stroke_fill="#ffffff")
    image = image.reduce(SUPERSAMPLE)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, subsampling=0)
    return buffer.getvalue()


def _flat(ring: np.ndarray) -> list[float]:
    return (np.asarray(ring) * SUPERSAMPLE).ravel().tolist()


def _dashes(ring: list[float], on: float, off: float) -> list[list[float]]:
    xy = np.asarray(ring, dtype=float).reshape(-1, 2)
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    dashes = []
    for start in np.arange(0.0, along[-1], on + off):
        end = min(start + on, along[-1])
        inside = (along > start) & (along < end)
        at = np.r_[start, along[inside], end]
        points = np.column_stack([np.interp(at, along, xy[:, 0]), np.interp(at, along, xy[:, 1])])
        dashes.append(points.ravel().tolist())
    return dashes


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    folder = Path(importlib.util.find_spec("matplotlib").origin).parent / "mpl-data" / "fonts" / "ttf"
    return ImageFont.truetype(str(folder / "DejaVuSans.ttf"), size)
