"""The map of one zone in a fit report: its members filled by the zone of the comparison layer
they sit in, that layer's zones outlined, the zone's own border dashed and the surrounding
municipalities in grey for context.

Drawn with Pillow from the EPSG:31370 polygons (:mod:`geo.geometry.polygons`), simplified to what the
map's scale shows and supersampled for smooth edges: a few hundredths of a second per map, where
a matplotlib figure took a quarter of a second. The legend and the data credit are returned
beside the image (:class:`ZoneMap`) for the page to set as text, so they wrap, print sharp and
stay readable at any size.
"""

from __future__ import annotations

import importlib.util
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

from geo.engine.details import ZoneDetail
from geo.engine.layer import Layer
from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.paths import SHIPPED_DATA
from geo.reference.codes import label, published
from maps.colouring import NEAR_METRES, greedy_colouring

# Okabe-Ito: distinguishable with colour-blindness and still apart in greyscale print.
DOMINANT_COLOUR = "#0072B2"
OTHER_COLOURS = ("#E69F00", "#CC79A7", "#009E73", "#D55E00", "#56B4E9", "#F0E442", "#999933", "#882255")
UNCOVERED_COLOUR = "#dddddd"
CONTEXT_COLOUR = "#efefef"
ZONE_LINE_COLOUR = "#333333"
# Members are filled at this opacity over white: lighter than the legend swatch, so the white
# borders between members and the dark zone lines stand out.
FILL_OPACITY = 0.85
# The image is WIDTH pixels wide; its height follows the zone's shape within these ratios.
WIDTH = 1000
MIN_ASPECT, MAX_ASPECT = 0.55, 1.05
MARGIN = 0.08
MIN_EXTENT_METRES = 5_000.0
# Drawn at SUPERSAMPLE times the size, then reduced: Pillow draws without anti-aliasing.
SUPERSAMPLE = 2
MAX_LABELS = 45
LABEL_PX = 16


@dataclass(frozen=True)
class LegendRow:
    """One legend line: a filled swatch (``fill``) or a line (``line``: ``"solid"`` or ``"dashed"``)."""

    label: str
    fill: str | None = None
    line: str | None = None


@dataclass(frozen=True)
class ZoneMap:
    """The map as a JPEG image, and its legend."""

    jpeg: bytes
    legend: list[LegendRow]


def zone_colours(detail: ZoneDetail, against: Layer | None = None, data_dir: Path = SHIPPED_DATA) -> dict[str, str]:
    """Fill colour per touched zone code: the dominant zone blue, the others each their own colour
    while there are enough; beyond that, zones that (nearly) touch differ (greedy colouring on
    ``against``'s zone polygons).

    Examples
    --------
    >>> zone_colours(overlay(assoc, elz).zone_detail("W13"))["elz18"]
    '#0072B2'
    """
    codes = [zone.code for zone in detail.zones_touched if zone.code != detail.dominant_zone]
    edges: list[tuple[str, str]] = []
    if against is not None and len(codes) > len(OTHER_COLOURS):
        polygons = _zones(against, Path(data_dir))
        polygons = polygons[polygons.index.isin(codes)]
        left, right = shapely.STRtree(polygons.to_numpy()).query(polygons.to_numpy(), predicate="dwithin",
                                                                 distance=NEAR_METRES)
        names = polygons.index.to_numpy()
        edges = [(names[a], names[b]) for a, b in zip(left, right) if a != b]
        numbers = greedy_colouring(codes, edges)
    else:
        numbers = {code: i for i, code in enumerate(codes)}
    colours = {code: OTHER_COLOURS[numbers[code] % len(OTHER_COLOURS)] for code in codes}
    if detail.dominant_zone in {zone.code for zone in detail.zones_touched}:
        colours[detail.dominant_zone] = DOMINANT_COLOUR
    return {zone.code: colours[zone.code] for zone in detail.zones_touched}


def zone_map(layer: Layer, code: str, against: Layer, detail: ZoneDetail,
             data_dir: Path = SHIPPED_DATA) -> ZoneMap:
    r"""The map of zone ``code`` of ``layer``, its members coloured by their zone in ``against``.

    Parameters
    ----------
    layer, code
        The zone the report is about.
    against : Layer
        The comparison layer whose zones colour the members.
    detail : ZoneDetail
        ``overlay(layer, against).zone_detail(code)``: the map shows exactly this result.

    Examples
    --------
    >>> result = overlay(assoc, elz)
    >>> drawn = zone_map(assoc, "W13", elz, result.zone_detail("W13"))
    >>> drawn.jpeg[:2], drawn.legend[0].fill
    (b'\xff\xd8', '#0072B2')
    """
    from PIL import Image, ImageDraw

    munis = _municipalities(Path(data_dir))
    colours = zone_colours(detail, against, data_dir)
    fill: dict[int, str] = {}
    for zone in detail.zones_touched:
        for member in zone.members:
            fill.setdefault(member.nis_code, colours[zone.code])  # split members: their largest zone
    for member in detail.not_covered:
        fill.setdefault(member.nis_code, UNCOVERED_COLOUR)
    drawn = sorted(n for n in fill if n in munis.index)

    outline = _zones(layer, Path(data_dir)).get(str(code))
    shown = [g for g in [*munis.loc[drawn].to_numpy(), outline] if g is not None]
    view = _View.around(shapely.total_bounds(shown))
    tolerance = view.tolerance
    munis = _simplified(_municipalities, Path(data_dir), tolerance)
    in_view = munis[shapely.intersects(munis.to_numpy(), shapely.box(*view.bounds))]
    zones = _simplified(_zones, layer, Path(data_dir), tolerance)
    outline = zones.get(str(code))
    others = _simplified(_zones, against, Path(data_dir), tolerance)
    others = others[others.index.isin(list(colours))].to_numpy()

    image = Image.new("RGB", (WIDTH * SUPERSAMPLE, view.height * SUPERSAMPLE), "#ffffff")
    draw = ImageDraw.Draw(image)
    px = float(SUPERSAMPLE)
    # Largest first, so a municipality inside another's hole is drawn over it.
    order = np.argsort(-shapely.area(in_view.to_numpy()))
    codes = in_view.index.to_numpy()[order]
    rings = _rings(view, in_view.to_numpy()[order])
    for code_, parts in zip(codes, rings):
        colour = _over_white(fill[code_], FILL_OPACITY) if code_ in fill else CONTEXT_COLOUR
        for exterior, _ in parts:
            draw.polygon(exterior, fill=colour)
    for code_, parts in zip(codes, rings):
        for ring in (r for exterior, holes in parts for r in (exterior, *holes)):
            # Thin lines need no rounded joints (drawing them is half the cost of a line).
            draw.line(ring, fill="#ffffff", width=round((1.2 if code_ in fill else 1.0) * px))
    for parts in _rings(view, others):
        for ring in (r for exterior, holes in parts for r in (exterior, *holes)):
            draw.line(ring, fill=ZONE_LINE_COLOUR, width=round(2.4 * px), joint="curve")
    if outline is not None:
        for parts in _rings(view, [outline]):
            for ring in (r for exterior, holes in parts for r in (exterior, *holes)):
                for dash in _dashes(ring, 9 * px, 4 * px):
                    draw.line(dash, fill="#000000", width=round(3 * px))
    if len(drawn) <= MAX_LABELS:
        _label(draw, view, munis.loc[drawn], layer)

    image = image.reduce(SUPERSAMPLE)
    buffer = io.BytesIO()
    # JPEG at high quality without colour subsampling: indistinguishable from a PNG of the flat
    # colours here, written in a few milliseconds, and placed in a PDF as it is (a PNG is decoded
    # and compressed again by the PDF renderer, 50 ms a map).
    image.save(buffer, format="JPEG", quality=90, subsampling=0)

    legend = [LegendRow(f"{z.name} ({published(z.code)})", fill=colours[z.code]) for z in detail.zones_touched]
    if detail.not_covered:
        legend.append(LegendRow(f"in geen zone van {against.name}", fill=UNCOVERED_COLOUR))
    legend.append(LegendRow(f"grens van {label(code, layer.zone_name(code))}", line="dashed"))
    legend.append(LegendRow(f"grenzen {against.name}", line="solid"))
    return ZoneMap(buffer.getvalue(), legend)


@lru_cache(maxsize=4)
def _municipalities(data_dir: Path):
    """The municipalities' polygons (EPSG:31370) as a Series indexed by NIS code."""
    return municipal_polygons(data_dir).geometry


@lru_cache(maxsize=64)
def _zones(layer: Layer, data_dir: Path):
    """A layer's zone polygons (EPSG:31370) as a Series indexed by code; cached per layer object
    (a scenario saved again is a new object, so never a stale outline)."""
    frame = zone_polygons(layer, data_dir)
    frame = frame[frame.geometry.notna()]
    return frame.set_index("code").geometry


@lru_cache(maxsize=64)
def _simplified(source, *args):
    """``source(*args)`` simplified to the tolerance given last: computed once per tolerance, of
    which there are few (:attr:`_View.tolerance`). Plain Douglas-Peucker (4x faster than keeping
    the topology): whatever it might fold is under half a pixel."""
    *args, tolerance = args
    series = source(*args)
    simplified = shapely.simplify(series.to_numpy(), tolerance, preserve_topology=False)
    return type(series)(simplified, index=series.index, crs=series.crs)


@dataclass(frozen=True)
class _View:
    """What the map shows (EPSG:31370 bounds) and how many drawing pixels a metre is."""

    bounds: tuple[float, float, float, float]
    scale: float

    @classmethod
    def around(cls, extent) -> "_View":
        xmin, ymin, xmax, ymax = (float(v) for v in extent)
        pad = MARGIN * max(xmax - xmin, ymax - ymin, MIN_EXTENT_METRES)
        xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
        # Widen the short side around the centre to keep the image between the aspect ratios.
        dx, dy = xmax - xmin, ymax - ymin
        if dy < MIN_ASPECT * dx:
            ymin, ymax = ymin - (MIN_ASPECT * dx - dy) / 2, ymax + (MIN_ASPECT * dx - dy) / 2
        elif dy > MAX_ASPECT * dx:
            xmin, xmax = xmin - (dy / MAX_ASPECT - dx) / 2, xmax + (dy / MAX_ASPECT - dx) / 2
        return cls((xmin, ymin, xmax, ymax), WIDTH / (xmax - xmin))

    @property
    def tolerance(self) -> float:
        """Simplification in metres: half a pixel or less, rounded down to a power of two so that
        maps of similar scale share one simplified copy of the polygons."""
        return float(2.0 ** math.floor(math.log2(max(0.5 / self.scale, 1.0))))

    @property
    def height(self) -> int:
        return round((self.bounds[3] - self.bounds[1]) * self.scale)

    def pixels(self, xy: np.ndarray) -> np.ndarray:
        """EPSG:31370 metres to drawing pixels (supersampled; y down)."""
        out = np.empty(xy.shape, dtype=float)
        out[:, 0] = (xy[:, 0] - self.bounds[0]) * self.scale * SUPERSAMPLE
        out[:, 1] = (self.bounds[3] - xy[:, 1]) * self.scale * SUPERSAMPLE
        return out


def _rings(view: _View, geometries) -> list[list[tuple[list, list[list]]]]:
    """Per geometry, its polygons as (exterior, holes) in drawing pixels."""
    polygons, of_geometry = shapely.get_parts(geometries, return_index=True)
    out: list[list[tuple[list, list[list]]]] = [[] for _ in range(len(geometries))]
    for polygon, i in zip(polygons, of_geometry):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        exterior = view.pixels(shapely.get_coordinates(polygon.exterior)).ravel().tolist()
        holes = [view.pixels(shapely.get_coordinates(h)).ravel().tolist() for h in polygon.interiors]
        out[i].append((exterior, holes))
    return out


def _dashes(ring: list[float], on: float, off: float) -> list[list[float]]:
    """The dashes of a dashed line along ``ring`` (flat x, y list): ``on`` pixels drawn, ``off`` not.

    Examples
    --------
    >>> _dashes([0, 0, 10, 0], 3, 2)
    [[0.0, 0.0, 3.0, 0.0], [5.0, 0.0, 8.0, 0.0]]
    """
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


def _over_white(colour: str, opacity: float) -> str:
    """``colour`` at ``opacity`` over white, as an opaque colour.

    Examples
    --------
    >>> _over_white("#000000", 0.5)
    '#808080'
    """
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    mixed = np.rint(opacity * rgb + (1 - opacity) * 255).astype(int)
    return "#" + "".join(f"{v:02x}" for v in mixed)


def _label(draw, view: _View, members, layer: Layer) -> None:
    """Member names at a point inside each, with a white halo so they read on any fill."""
    font = _font(LABEL_PX * SUPERSAMPLE)
    points = view.pixels(shapely.get_coordinates(shapely.point_on_surface(members.to_numpy())))
    for nis, (x, y) in zip(members.index, points.tolist()):
        draw.text((x, y), layer.atoms.name(int(nis)), font=font, fill="#1d1d1b", anchor="mm",
                  stroke_width=2 * SUPERSAMPLE, stroke_fill="#ffffff")


@lru_cache(maxsize=4)
def _font(size: int):
    """DejaVu Sans (the report's font), from matplotlib's own copy: the same on every machine."""
    from PIL import ImageFont

    folder = Path(importlib.util.find_spec("matplotlib").origin).parent / "mpl-data" / "fonts" / "ttf"
    return ImageFont.truetype(str(folder / "DejaVuSans.ttf"), size)
