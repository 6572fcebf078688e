"""The map of one zone in a fit report: its members filled by the zone of the comparison layer
they sit in, that layer's zones outlined, the zone's own border dashed and the surrounding
municipalities in grey for context.

Drawn as SVG from the EPSG:31370 polygons (:mod:`geo.geometry.polygons`), cut to the view and
simplified to a pixel of the map on the page, and to a fifth of a millimetre for the PDF (at most a
pixel: :data:`PRINT_TOLERANCE_MM`): WeasyPrint prints it as vector graphics, sharp at any zoom,
and the page shows it as an image. :func:`zone_scene` says what the map shows
in drawing pixels, :func:`svg` writes it (``benchmarks/pillow_zone_map.py`` draws the same scene
with Pillow, the JPEG this replaced, for the benchmark). The legend and the data credit are
returned beside the image (:class:`ZoneMap`) for the page to set as text, so they wrap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from markupsafe import escape

from geo.engine.details import ZoneDetail
from geo.engine.layer import Layer
from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.paths import ATTRIBUTION, SHIPPED_DATA
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
# SVG coordinates are whole tenths of a drawing pixel (a fiftieth of a millimetre on paper).
SVG_UNITS = 10
# Shapes are cut this many pixels beyond the map's edge (more than the widest line).
CLIP_BORDER_PX = 10.0
# Shapes are simplified to at most a drawing pixel: a fifth of a millimetre on paper at the widest
# (18.6 cm for 1,000 pixels), the pixel of the JPEG this SVG replaced. Half a pixel drew half as
# many points again and printed 10 % slower (benchmarks/README.md, issue 22).
TOLERANCE_PX = 1.0
# On paper (base.html's print style) a report map is at most the A4 text width wide and 8.5 cm high,
# so a drawing pixel of a tall map is a twelfth of a millimetre: a map drawn for the PDF is
# simplified to a fifth of a millimetre on paper (as the widest map is at a pixel), which draws
# a third fewer points for elz40's maps and prints its report 15 % faster.
PRINT_WIDTH_MM, PRINT_HEIGHT_MM = 186.0, 85.0
PRINT_TOLERANCE_MM = 0.2
MAX_LABELS = 45
LABEL_PX = 16
LABEL_ADVANCE = 0.6  # DejaVu Sans's mean character width, in font sizes


@dataclass(frozen=True)
class LegendRow:
    """One legend line: a filled swatch (``fill``) or a line (``line``: ``"solid"`` or ``"dashed"``)."""

    label: str
    fill: str | None = None
    line: str | None = None


@dataclass(frozen=True)
class ZoneMap:
    """The map as an SVG document, and its legend."""

    svg: str
    legend: list[LegendRow]

    @property
    def data_uri(self) -> str:
        """``data:image/svg+xml;base64,...``: the page stays one file, and the PDF renderer is
        handed the image beside the page (:mod:`maps.pdf`)."""
        import base64

        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


Rings = list[tuple[np.ndarray, list[np.ndarray]]]  # polygons as (exterior, holes), each an (n, 2) array


@dataclass(frozen=True)
class Scene:
    """What a zone map shows, in drawing pixels (``width`` wide, y down), for any renderer.

    ``areas``: (fill colour, member of the zone?, rings) per municipality, largest first;
    ``lines``: the comparison layer's zones; ``outline``: the zone's own border (dashed);
    ``labels``: (x, y, name) of the members."""

    width: int
    height: int
    areas: list[tuple[str, bool, Rings]]
    lines: Rings
    outline: Rings
    labels: list[tuple[float, float, str]]
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
             data_dir: Path = SHIPPED_DATA, *, for_print: bool = False) -> ZoneMap:
    """The map of zone ``code`` of ``layer``, its members coloured by their zone in ``against``.

    Parameters
    ----------
    layer, code
        The zone the report is about.
    against : Layer
        The comparison layer whose zones colour the members.
    detail : ZoneDetail
        ``overlay(layer, against).zone_detail(code)``: the map shows exactly this result.
    for_print : bool
        Simplified to a fifth of a millimetre on paper (:data:`PRINT_TOLERANCE_MM`) rather than a
        pixel of the page: the map of a report's PDF.

    Examples
    --------
    >>> result = overlay(assoc, elz)
    >>> drawn = zone_map(assoc, "W13", elz, result.zone_detail("W13"))
    >>> drawn.svg[:4], drawn.legend[0].fill
    ('<svg', '#0072B2')
    """
    scene = zone_scene(layer, code, against, detail, data_dir, for_print=for_print)
    return ZoneMap(svg(scene), scene.legend)


def zone_scene(layer: Layer, code: str, against: Layer, detail: ZoneDetail,
               data_dir: Path = SHIPPED_DATA, *, for_print: bool = False) -> Scene:
    """What :func:`zone_map` draws, in drawing pixels: the shapes simplified to the map's scale,
    their colours, the members' names and the legend.

    Examples
    --------
    >>> scene = zone_scene(assoc, "W13", elz, overlay(assoc, elz).zone_detail("W13"))
    >>> scene.width, len(scene.outline) > 0, "Lendelede" in [name for _, _, name in scene.labels]
    (1000, True, True)
    """
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
    tolerance = view.tolerance(view.print_pixels(PRINT_TOLERANCE_MM) if for_print else TOLERANCE_PX)
    munis = _simplified(_municipalities, Path(data_dir), tolerance)
    in_view = munis[shapely.intersects(munis.to_numpy(), shapely.box(*view.bounds))]
    zones = _simplified(_zones, layer, Path(data_dir), tolerance)
    outline = zones.get(str(code))
    others = _simplified(_zones, against, Path(data_dir), tolerance)
    others = others[others.index.isin(list(colours))].to_numpy()

    # Largest first, so a municipality inside another's hole is drawn over it.
    order = np.argsort(-shapely.area(in_view.to_numpy()))
    codes = in_view.index.to_numpy()[order]
    areas = [(_over_white(fill[c], FILL_OPACITY) if c in fill else CONTEXT_COLOUR, bool(c in fill), parts)
             for c, parts in zip(codes, _rings(view, view.clip(in_view.to_numpy()[order])))]
    labels: list[tuple[float, float, str]] = []
    if len(drawn) <= MAX_LABELS:
        members = munis.loc[drawn]
        points = view.pixels(shapely.get_coordinates(shapely.point_on_surface(members.to_numpy())))
        labels = [(x, y, layer.atoms.name(int(nis))) for nis, (x, y) in zip(members.index, points.tolist())]

    legend = [LegendRow(f"{z.name} ({published(z.code)})", fill=colours[z.code]) for z in detail.zones_touched]
    if detail.not_covered:
        legend.append(LegendRow(f"in geen zone van {against.name}", fill=UNCOVERED_COLOUR))
    legend.append(LegendRow(f"grens van {label(code, layer.zone_name(code))}", line="dashed"))
    legend.append(LegendRow(f"grenzen {against.name}", line="solid"))
    return Scene(width=WIDTH, height=view.height, areas=areas,
                 lines=[part for parts in _rings(view, view.clip(others)) for part in parts],
                 outline=_rings(view, [outline])[0] if outline is not None else [],
                 labels=labels, legend=legend)


def svg(scene: Scene) -> str:
    """The scene as an SVG document: one path per fill colour (municipalities with their holes),
    the zone lines and the dashed outline one path each, the names on light boxes, and the data credit
    (:data:`geo.paths.ATTRIBUTION`) as its description. Coordinates are whole tenths of a pixel,
    each relative to the point before: a few dozen kilobytes for a zone's map.

    Examples
    --------
    >>> square = (np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 3.0], [0.0, 0.0]]), [])
    >>> scene = Scene(width=10, height=5, areas=[("#0072b2", True, [square])], lines=[], outline=[],
    ...               labels=[(2.0, 2.0, "Lendelede")], legend=[])
    >>> drawn = svg(scene)
    >>> '<path fill="#0072b2" d="M0 0l40 0l0 30z"/>' in drawn, ">Lendelede</text>" in drawn, "Statbel" in drawn
    (True, True, True)
    """
    u = SVG_UNITS
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
             f'viewBox="0 0 {scene.width * u} {scene.height * u}">',
             f"<desc>{escape(ATTRIBUTION)}</desc>",
             f'<rect width="{scene.width * u}" height="{scene.height * u}" fill="#ffffff"/>']
    for member in (False, True):  # the context first: the members' wider white borders on top
        # One path per colour (holes and enclaves cut out by the even-odd rule): a PDF renderer
        # spends more on each element than on each point.
        by_colour: dict[str, Rings] = {}
        for colour, is_member, rings in scene.areas:
            if is_member is member:
                by_colour.setdefault(colour, []).extend(rings)
        parts.append(f'<g stroke="#ffffff" stroke-width="{(1.2 if member else 1.0) * u:g}" fill-rule="evenodd">')
        parts.extend(f'<path fill="{colour}" d="{_path(rings)}"/>' for colour, rings in by_colour.items() if rings)
        parts.append("</g>")
    if scene.lines:
        parts.append(f'<path fill="none" stroke="{ZONE_LINE_COLOUR}" stroke-width="{2.4 * u:g}" '
                     f'stroke-linejoin="round" d="{_path(scene.lines)}"/>')
    if scene.outline:
        parts.append(f'<path fill="none" stroke="#000000" stroke-width="{3 * u}" '
                     f'stroke-dasharray="{9 * u} {4 * u}" d="{_path(scene.outline)}"/>')
    if scene.labels:
        size = LABEL_PX * u
        # Each name on a light box (a halo would need each name drawn twice, and a PDF renderer
        # lays out every text element on its own). Box width: DejaVu Sans's mean advance.
        parts.append('<g fill="#ffffff" fill-opacity="0.7">')
        for x, y, name in scene.labels:
            half_w, half_h = (len(name) * LABEL_ADVANCE + 0.3) * size / 2, 0.65 * size
            parts.append(f'<rect x="{round(x * u - half_w)}" y="{round(y * u - half_h)}" width="{round(2 * half_w)}" '
                         f'height="{round(2 * half_h)}" rx="{round(0.25 * size)}"/>')
        # y: the baseline, a third of the size below the point, so the name is centred on it
        parts.append(f'</g><g font-family="DejaVu Sans" font-size="{size}" text-anchor="middle" fill="#1d1d1b">')
        parts.extend(f'<text x="{round(x * u)}" y="{round(y * u + 0.35 * size)}">{escape(name)}</text>'
                     for x, y, name in scene.labels)
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _path(rings: Rings) -> str:
    """SVG path data of polygons: per ring its first point, then whole tenths of a pixel relative
    to the point before (a step that rounds to nothing is left out) and ``z`` to close it."""
    out = []
    for exterior, holes in rings:
        for ring in (exterior, *holes):
            xy = np.rint(np.asarray(ring) * SVG_UNITS).astype(np.int64)
            steps = np.diff(xy[:-1] if len(xy) > 1 and (xy[0] == xy[-1]).all() else xy, axis=0)
            steps = steps[steps.any(axis=1)]
            out.append(f"M{xy[0, 0]} {xy[0, 1]}" + "".join([f"l{dx} {dy}" for dx, dy in steps.tolist()]) + "z")
    return "".join(out)


def simplified_polygons(layer: Layer | None, tolerance: float, data_dir: Path = SHIPPED_DATA):
    """The municipalities' polygons (``layer=None``) or ``layer``'s zone polygons (EPSG:31370, a
    Series indexed by NIS code or zone code) simplified to ``tolerance`` metres, kept per tolerance:
    what a map drawn at a pixel of ``tolerance`` metres shows (:func:`maps.comparison_png.comparison_svg`).

    Examples
    --------
    >>> len(simplified_polygons(None, 64.0)) == len(simplified_polygons(None, 1.0))
    True
    """
    if layer is None:
        return _simplified(_municipalities, Path(data_dir), float(tolerance))
    return _simplified(_zones, layer, Path(data_dir), float(tolerance))


def path_data(rings: Rings) -> str:
    """SVG path data of polygons in drawing pixels (tenths of a pixel, :data:`SVG_UNITS`, each
    step relative to the point before): what :func:`svg` writes for each colour.

    Examples
    --------
    >>> path_data([(np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 3.0], [0.0, 0.0]]), [])])
    'M0 0l40 0l0 30z'
    """
    return _path(rings)


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


@lru_cache(maxsize=128)
def _simplified(source, *args):
    """``source(*args)`` simplified to the tolerance given last: computed once per tolerance, of
    which there are few (:meth:`_View.tolerance`, for the screen and for paper). Plain
    Douglas-Peucker (4x faster than keeping the topology): whatever it might fold is under half
    a pixel."""
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

    def tolerance(self, pixels: float = TOLERANCE_PX) -> float:
        """Simplification in metres: ``pixels`` or less, rounded down to a power of two so that
        maps of similar scale share one simplified copy of the polygons."""
        return float(2.0 ** math.floor(math.log2(max(pixels / self.scale, 1.0))))

    def print_pixels(self, millimetres: float) -> float:
        """How many drawing pixels ``millimetres`` on paper are (at least one): the printed map
        is as wide as the text or 8.5 cm high, whichever is smaller.

        Examples
        --------
        >>> _View((0.0, 0.0, 1000.0, 1050.0), 1.0).print_pixels(0.2)  # a tall map: 8.1 cm wide
        2.47...
        """
        mm_per_pixel = min(PRINT_WIDTH_MM / WIDTH, PRINT_HEIGHT_MM / max(self.height, 1))
        return max(millimetres / mm_per_pixel, TOLERANCE_PX)

    def clip(self, geometries: np.ndarray) -> np.ndarray:
        """``geometries`` cut to the view and a border wider than any line drawn: what lies further
        out is not drawn, and the cut edges (a line along them) fall outside the map.

        Examples
        --------
        >>> view = _View((0.0, 0.0, 1000.0, 500.0), 1.0)
        >>> shapely.bounds(view.clip(np.array([shapely.box(-5000, 100, 500, 200)]))).tolist()
        [[-10.0, 100.0, 500.0, 200.0]]
        """
        border = CLIP_BORDER_PX / self.scale
        xmin, ymin, xmax, ymax = self.bounds
        return shapely.clip_by_rect(geometries, xmin - border, ymin - border, xmax + border, ymax + border)

    @property
    def height(self) -> int:
        return round((self.bounds[3] - self.bounds[1]) * self.scale)

    def pixels(self, xy: np.ndarray) -> np.ndarray:
        """EPSG:31370 metres to drawing pixels (y down)."""
        out = np.empty(xy.shape, dtype=float)
        out[:, 0] = (xy[:, 0] - self.bounds[0]) * self.scale
        out[:, 1] = (self.bounds[3] - xy[:, 1]) * self.scale
        return out


def _rings(view: _View, geometries) -> list[Rings]:
    """Per geometry, its polygons as (exterior, holes) in drawing pixels."""
    polygons, of_geometry = shapely.get_parts(geometries, return_index=True)
    out: list[Rings] = [[] for _ in range(len(geometries))]
    for polygon, i in zip(polygons, of_geometry):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        exterior = view.pixels(shapely.get_coordinates(polygon.exterior))
        holes = [view.pixels(shapely.get_coordinates(h)) for h in polygon.interiors]
        out[i].append((exterior, holes))
    return out


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
