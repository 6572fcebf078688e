"""The printed comparison's map (``/vergelijk.pdf``): two zonings side by side around the moved
municipalities, drawn offline (no tiles).

Both panels colour the municipalities by their zone (the same colour for the same zone code in
both), outline the zones, and mark the moved municipalities with a thick purple edge and their
name; the view is the area of the zones the moves touched. :func:`comparison_svg` draws it as
SVG for the PDF (WeasyPrint prints it as vector graphics); :func:`comparison_png` draws the same
figure with matplotlib, as the PDF had it before, for the benchmark that compares the two
(``benchmarks/bench_print.py``). The module keeps its name for the server's warm-up, which
calls :func:`prepare`.
"""

from __future__ import annotations

import base64
import io
import math
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from markupsafe import escape

from geo.engine.layer import Layer
from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.paths import ATTRIBUTION, SHIPPED_DATA
from maps import style
from maps.base import zone_colours
from maps.zone_map import LABEL_ADVANCE, SVG_UNITS, Rings, path_data, simplified_polygons

MARGIN = 0.08
# Drawing tolerance: 25 m is below a pixel at these maps' scale and makes plotting several times faster.
DRAW_SIMPLIFY_METRES = 25.0
# Simplification tolerances (metres, powers of two: :func:`comparison_svg`) a comparison map is
# usually drawn at: from a few zones (16-64 m a pixel) to all of Flanders (256 m).
PREPARED_TOLERANCES = (16.0, 32.0, 64.0, 128.0, 256.0)
# Views wider than this ratio (height / width) put the two maps one above the other.
STACK_BELOW_RATIO = 0.75
# Two moved municipalities' names closer than this share of the view are not both written.
LABEL_GAP = 0.035
# A view of more than this share of Flanders' width or height shows all of Flanders.
WHOLE_ABOVE = 0.5


@lru_cache(maxsize=4)
def _drawn_municipalities(data_dir: Path) -> gpd.GeoDataFrame:
    frame = municipal_polygons(data_dir).copy()
    frame["geometry"] = frame.geometry.simplify(DRAW_SIMPLIFY_METRES, preserve_topology=True)
    return frame


@lru_cache(maxsize=32)
def _drawn_zones(layer: Layer, data_dir: Path) -> gpd.GeoDataFrame:
    # Keyed on the layer object: a scenario saved again is a new object, so never a stale outline.
    frame = zone_polygons(layer, data_dir)
    frame["geometry"] = frame.geometry.simplify(DRAW_SIMPLIFY_METRES, preserve_topology=True)
    return frame


def prepare(layers: list[Layer], data_dir: Path = SHIPPED_DATA) -> None:
    """Simplify, ahead of a first comparison PDF, the municipalities and the zones of ``layers``
    (those scenarios are usually drawn on) at the scales a comparison map is drawn at, and colour
    their zones (the server's warm-up does it): a tenth of a second of a first print otherwise.

    Examples
    --------
    >>> prepare([elz])
    """
    _drawn_municipalities(Path(data_dir))
    for layer in layers:
        zone_colours(layer, Path(data_dir))  # kept per layer: the comparison page's maps use them too
    for tolerance in PREPARED_TOLERANCES:
        simplified_polygons(None, tolerance, data_dir)
        for layer in layers:
            simplified_polygons(layer, tolerance, data_dir)


def view_bounds(munis: gpd.GeoDataFrame, area: list[int]) -> tuple[float, float, float, float]:
    """What the comparison maps show (EPSG:31370): the municipalities of the zones the moves touch
    with a margin, or all of Flanders and Brussels when those spread over much of it.

    Examples
    --------
    >>> munis = _drawn_municipalities(SHIPPED_DATA)
    >>> whole = tuple(float(v) for v in munis.total_bounds)
    >>> view_bounds(munis, [34025, 72004])[0] < whole[0] and view_bounds(munis, [34025, 72004])[2] > whole[2]
    True
    >>> view_bounds(munis, [34025, 34022])[2] < whole[0] + (whole[2] - whole[0]) / 2
    True
    """
    focus = munis.loc[sorted(set(area))] if area else munis
    xmin, ymin, xmax, ymax = (float(v) for v in focus.total_bounds)
    fx0, fy0, fx1, fy1 = (float(v) for v in munis.total_bounds)
    if (xmax - xmin) > WHOLE_ABOVE * (fx1 - fx0) or (ymax - ymin) > WHOLE_ABOVE * (fy1 - fy0):
        # Changes across much of Flanders: all of it, rather than a view that cuts off the coast.
        xmin, ymin, xmax, ymax = fx0, fy0, fx1, fy1
    # A margin per direction: a wide view keeps little white above and below its maps.
    pad_x, pad_y = MARGIN * max(xmax - xmin, 10_000.0), MARGIN * max(ymax - ymin, 10_000.0)
    return xmin - pad_x, ymin - pad_y, xmax + pad_x, ymax + pad_y


def comparison_png(base: Layer, other: Layer, moved: list[int], data_dir: Path = SHIPPED_DATA,
                   width_inches: float = 7.2) -> bytes:
    r"""PNG: ``base`` left, ``other`` right, the moved municipalities (NIS codes) marked.

    Examples
    --------
    >>> from geo.engine.scenario import Move, apply_moves
    >>> png = comparison_png(elz, apply_moves(elz, [Move(34025, "elz18")]), [34025])
    >>> png[:4]
    b'\x89PNG'
    """
    from matplotlib.figure import Figure  # the benchmark's reference only: the PDF draws SVG
    from matplotlib.lines import Line2D

    munis = _drawn_municipalities(Path(data_dir))
    colours = zone_colours(base, Path(data_dir))
    xmin, ymin, xmax, ymax = view_bounds(munis, _area(base, other, moved, munis))
    panel_ratio = (ymax - ymin) / max(xmax - xmin, 1.0)
    # A wide view (all of Flanders is three times wider than high) gets the page's whole width for
    # each map, one above the other; a compact one stays side by side.
    stacked = panel_ratio < STACK_BELOW_RATIO
    if stacked:
        panel = width_inches * panel_ratio
        height = 2 * panel + 0.8
        boxes = [(0.0, (panel + 0.5) / height, 1.0, panel / height), (0.0, 0.2 / height, 1.0, panel / height)]
    else:
        height = max(2.6, min(6.5, width_inches / 2 * panel_ratio + 0.8))
        boxes = [(0.0, 0.08, 0.49, 0.82), (0.5, 0.08, 0.49, 0.82)]

    fig = Figure(figsize=(width_inches, height), dpi=130)
    label_gap = LABEL_GAP * max(xmax - xmin, ymax - ymin)
    for i, layer in enumerate((base, other)):
        ax = fig.add_axes(boxes[i])
        view = munis.cx[xmin:xmax, ymin:ymax]
        fill = []
        for nis in view.index:
            zones = layer.zones_of(int(nis))
            fill.append(colours.get(zones[0][0], style.NO_ZONE_FILL) if zones else style.NO_ZONE_FILL)
        view.plot(ax=ax, color=fill, edgecolor="white", linewidth=0.5)
        outlines = _drawn_zones(layer, Path(data_dir))
        outlines = outlines[outlines.geometry.notna()]
        outlines.boundary.plot(ax=ax, color="#333333", linewidth=1.0)
        shown = munis.loc[[n for n in moved if n in munis.index]]
        if len(shown):
            shown.boundary.plot(ax=ax, color=style.MOVED, linewidth=2.2)
            placed: list = []
            # Largest first; a name that would sit on one already written is left to the table.
            for nis, geometry in sorted(shown.geometry.items(), key=lambda item: -item[1].area):
                point = geometry.representative_point()
                if any(abs(point.x - x) < label_gap * 2.5 and abs(point.y - y) < label_gap for x, y in placed):
                    continue
                placed.append((point.x, point.y))
                ax.annotate(layer.atoms.name(int(nis)), (point.x, point.y), ha="center", va="center", fontsize=6,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal")
        ax.set_axis_off()
        # A title placed by hand (where matplotlib would put it: the axes are off) skips working out
        # the tick labels' extent on every draw, a quarter of the drawing.
        ax.set_title(layer.name, fontsize=8, y=1.0)
    fig.legend(handles=[Line2D([], [], color=style.MOVED, linewidth=2.2, label="verschoven gemeente"),
                        Line2D([], [], color="#333333", linewidth=1.0, label="zonegrens")],
               loc="upper center", bbox_to_anchor=(0.5, 1.04), fontsize=6.5, frameon=False, ncol=2)
    fig.text(0.01, 0.02, ATTRIBUTION, fontsize=5, color="#555555")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white", bbox_inches="tight", pad_inches=0.06)
    return buffer.getvalue()


# -- the same two maps as SVG ------------------------------------------------------------------
DPI = 130  # drawing pixels per inch of the figure (the PNG's resolution)
PT = DPI / 72  # drawing pixels per point: line widths and font sizes as the PNG gave them
U = SVG_UNITS
LEGEND_PX, TITLE_PX, CREDIT_PX = 0.34 * DPI, 0.24 * DPI, 0.16 * DPI  # rows above and below the panels
MAX_PANEL_INCHES = 0.82 * 6.5  # a side-by-side panel's greatest height (a tall view gets narrower)


def comparison_svg(base: Layer, other: Layer, moved: list[int], data_dir: Path = SHIPPED_DATA,
                   width_inches: float = 7.2) -> str:
    """SVG: ``base`` left (or above), ``other`` right (or below), the moved municipalities (NIS
    codes) outlined in purple and named; the legend above, the data credit below. What
    :func:`comparison_png` draws, as a vector image: shapes cut to the view and simplified to at
    most a pixel of the figure (:func:`maps.zone_map.simplified_polygons`), one path per colour,
    coordinates in tenths of a pixel. Drawing it (20 ms) and printing it (0.1 s of WeasyPrint)
    cost less than matplotlib's drawing of the PNG alone (0.15-0.3 s), and it stays sharp at any
    zoom (``benchmarks/bench_print.py``).

    Examples
    --------
    >>> from geo.engine.scenario import Move, apply_moves
    >>> drawn = comparison_svg(elz, apply_moves(elz, [Move(34025, "elz18")]), [34025])
    >>> drawn[:4], ">Lendelede</text>" in drawn, "verschoven gemeente" in drawn
    ('<svg', True, True)
    """
    data_dir = Path(data_dir)
    munis = _drawn_municipalities(data_dir)
    colours = zone_colours(base, data_dir)
    xmin, ymin, xmax, ymax = view_bounds(munis, _area(base, other, moved, munis))
    ratio = (ymax - ymin) / max(xmax - xmin, 1.0)
    width = width_inches * DPI
    top = LEGEND_PX + TITLE_PX
    if ratio < STACK_BELOW_RATIO:  # a wide view: each map the whole width, one above the other
        panel_w, panel_h = width, width * ratio
        corners = [(0.0, top), (0.0, 2 * top - LEGEND_PX + panel_h)]
        height = corners[1][1] + panel_h + CREDIT_PX
    else:
        panel_h = min(0.49 * width * ratio, MAX_PANEL_INCHES * DPI)
        panel_w = panel_h / ratio
        corners = [(0.245 * width - panel_w / 2, top), (0.745 * width - panel_w / 2, top)]
        height = top + panel_h + CREDIT_PX
    scale = panel_w / (xmax - xmin)  # drawing pixels per metre
    tolerance = float(2.0 ** math.floor(math.log2(max(1.0 / scale, 1.0))))
    polygons = simplified_polygons(None, tolerance, data_dir)
    box = shapely.box(xmin, ymin, xmax, ymax)
    in_view = polygons[shapely.intersects(polygons.to_numpy(), box)]
    cut = shapely.clip_by_rect(in_view.to_numpy(), xmin, ymin, xmax, ymax)
    label_gap = LABEL_GAP * max(xmax - xmin, ymax - ymin)
    shown = [n for n in moved if n in in_view.index]
    moved_lines = shapely.boundary(in_view.loc[shown].to_numpy()) if shown else np.array([])

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width * U:.0f} {height * U:.0f}">',
             f"<desc>{escape(ATTRIBUTION)}</desc>",
             f'<rect width="{width * U:.0f}" height="{height * U:.0f}" fill="#ffffff"/>']
    for layer, (x0, y0) in zip((base, other), corners):
        def pixels(xy: np.ndarray, x0=x0, y0=y0) -> np.ndarray:
            return np.column_stack([x0 + (xy[:, 0] - xmin) * scale, y0 + (ymax - xy[:, 1]) * scale])

        by_colour: dict[str, list] = {}
        for nis, geometry in zip(in_view.index, cut):
            zones = layer.zones_of(int(nis))
            colour = colours.get(zones[0][0], style.NO_ZONE_FILL) if zones else style.NO_ZONE_FILL
            by_colour.setdefault(colour, []).append(geometry)
        parts.append(f'<g stroke="#ffffff" stroke-width="{0.5 * PT * U:.0f}" fill-rule="evenodd">')
        parts.extend(f'<path fill="{colour}" d="{path_data(_polygon_rings(shapes, pixels))}"/>'
                     for colour, shapes in by_colour.items())
        parts.append("</g>")
        outlines = _outlines(layer, base, tolerance, data_dir)
        outlines = outlines[shapely.intersects(outlines.to_numpy(), box)]
        lines = shapely.clip_by_rect(shapely.boundary(outlines.to_numpy()), xmin, ymin, xmax, ymax)
        parts.append(f'<path fill="none" stroke="#333333" stroke-width="{1.0 * PT * U:.0f}" stroke-linejoin="round" '
                     f'd="{_line_data(lines, pixels)}"/>')
        if len(moved_lines):
            lines = shapely.clip_by_rect(moved_lines, xmin, ymin, xmax, ymax)
            parts.append(f'<path fill="none" stroke="{style.MOVED}" stroke-width="{2.2 * PT * U:.0f}" '
                         f'stroke-linejoin="round" d="{_line_data(lines, pixels)}"/>')
        labels, placed = [], []
        # Largest first; a name that would sit on one already written is left to the table.
        for nis, geometry in sorted(in_view.loc[shown].items(), key=lambda item: -item[1].area):
            point = geometry.representative_point()
            if any(abs(point.x - x) < label_gap * 2.5 and abs(point.y - y) < label_gap for x, y in placed):
                continue
            placed.append((point.x, point.y))
            (px, py), = pixels(np.array([[point.x, point.y]])).tolist()
            labels.append((px, py, layer.atoms.name(int(nis))))
        parts.extend(_labels(labels, 6 * PT))
        parts.append(_text(x0 + panel_w / 2, y0 - 0.3 * TITLE_PX, layer.name, 8 * PT, anchor="middle"))
    parts.extend(_legend(width / 2, 0.55 * LEGEND_PX))
    parts.append(_text(0.01 * width, height - 0.3 * CREDIT_PX, ATTRIBUTION, 5 * PT, fill="#555555"))
    parts.append("</svg>")
    return "".join(parts)


def _area(base: Layer, other: Layer, moved: list[int], munis: gpd.GeoDataFrame) -> list[int]:
    """The municipalities of the zones the moves touch, in either zoning (a zone code of one
    zoning that the other does not have counts in the one that has it)."""
    touched = {c for layer in (base, other) for nis in moved for c, _, _ in layer.zones_of(int(nis))}
    return [n for layer in (base, other) for code in touched if layer.has_zone(code)
            for n in layer.members(code)["nis_code"].astype(int) if n in munis.index]


def _outlines(layer: Layer, base: Layer, tolerance: float, data_dir: Path):
    """``layer``'s zone polygons simplified to ``tolerance``: for a zoning that differs from
    ``base`` in a few zones (a scenario), ``base``'s prepared outlines of the zones whose members
    are the same and a dissolve of only the others (a first comparison would otherwise dissolve
    every zone of the scenario: 40 ms of its print)."""
    if layer is base or layer.polygons is not None or base.polygons is not None or layer.atoms is not base.atoms:
        return simplified_polygons(layer, tolerance, data_dir)
    ours, theirs = _members(layer), _members(base)
    changed = [code for code, members in ours.items() if members and theirs.get(code) != members]
    kept = simplified_polygons(base, tolerance, data_dir)
    kept = kept[kept.index.isin([code for code, members in ours.items() if members and code not in changed])]
    munis = municipal_polygons(data_dir).geometry
    drawn = [shapely.coverage_union_all(munis.reindex(sorted(ours[code])).dropna().to_numpy()) for code in changed]
    drawn = shapely.simplify(np.array(drawn, dtype=object), tolerance, preserve_topology=False)
    return gpd.GeoSeries([*kept.to_numpy(), *drawn], index=[*kept.index, *changed], crs=kept.crs)


@lru_cache(maxsize=32)
def _members(layer: Layer) -> dict[str, frozenset[int]]:
    """Per zone code, the NIS codes its outline is drawn from (at least half in the zone, as
    :func:`geo.geometry.polygons.zone_polygons` counts them); kept per layer object."""
    columns = layer.membership.tocsc()
    nis = np.asarray(layer.atoms.nis_codes)
    codes = layer.zones["code"].astype(str).to_numpy()
    out = {}
    for i, code in enumerate(codes):
        start, end = columns.indptr[i], columns.indptr[i + 1]
        rows = columns.indices[start:end][columns.data[start:end] >= 0.5]
        out[code] = frozenset(int(n) for n in nis[rows])
    return out


def svg_data_uri(drawn: str) -> str:
    """``data:image/svg+xml;base64,...``: the page stays one file (:mod:`maps.pdf` hands the image
    to the renderer beside it).

    Examples
    --------
    >>> svg_data_uri("<svg/>")
    'data:image/svg+xml;base64,PHN2Zy8+'
    """
    return "data:image/svg+xml;base64," + base64.b64encode(drawn.encode("utf-8")).decode("ascii")


def _polygon_rings(shapes, pixels) -> Rings:
    """Polygons (EPSG:31370) as (exterior, holes) in drawing pixels."""
    out: Rings = []
    for polygon in shapely.get_parts(np.asarray(shapes, dtype=object)):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        out.append((pixels(shapely.get_coordinates(polygon.exterior)),
                    [pixels(shapely.get_coordinates(h)) for h in polygon.interiors]))
    return out


def _line_data(lines, pixels) -> str:
    """SVG path data of (multi)linestrings in drawing pixels: tenths of a pixel, relative steps."""
    out = []
    for line in shapely.get_parts(np.asarray(lines, dtype=object)):
        if line.is_empty or line.geom_type != "LineString":
            continue
        xy = np.rint(pixels(shapely.get_coordinates(line)) * U).astype(np.int64)
        steps = np.diff(xy, axis=0)
        steps = steps[steps.any(axis=1)]
        out.append(f"M{xy[0, 0]} {xy[0, 1]}" + "".join([f"l{dx} {dy}" for dx, dy in steps.tolist()]))
    return "".join(out)


def _text(x: float, y: float, text: str, size: float, anchor: str = "start", fill: str = "#1d1d1b") -> str:
    return (f'<text x="{x * U:.0f}" y="{y * U:.0f}" font-family="DejaVu Sans" font-size="{size * U:.0f}" '
            f'text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>')


def _labels(labels: list[tuple[float, float, str]], size: float) -> list[str]:
    """Names centred on their points, each on a light rounded box (as the PNG's annotations)."""
    if not labels:
        return []
    parts = ['<g fill="#ffffff" fill-opacity="0.75">']
    for x, y, name in labels:
        half_w, half_h = (len(name) * LABEL_ADVANCE + 0.3) * size / 2, 0.65 * size
        parts.append(f'<rect x="{(x - half_w) * U:.0f}" y="{(y - half_h) * U:.0f}" width="{2 * half_w * U:.0f}" '
                     f'height="{2 * half_h * U:.0f}" rx="{0.25 * size * U:.0f}"/>')
    parts.append("</g>")
    parts.extend(_text(x, y + 0.35 * size, name, size, anchor="middle") for x, y, name in labels)
    return parts


def _legend(centre: float, y: float) -> list[str]:
    """The two line symbols and their words, centred on ``centre``."""
    size = 6.5 * PT
    entries = [(style.MOVED, 2.2, "verschoven gemeente"), ("#333333", 1.0, "zonegrens")]
    swatch, gap = 2.0 * size, 0.6 * size
    widths = [swatch + gap + len(text) * LABEL_ADVANCE * size for _, _, text in entries]
    x = centre - (sum(widths) + 2 * size) / 2
    parts = []
    for (colour, line_width, text), entry_width in zip(entries, widths):
        parts.append(f'<path stroke="{colour}" stroke-width="{line_width * PT * U:.0f}" '
                     f'd="M{x * U:.0f} {y * U:.0f}l{swatch * U:.0f} 0"/>')
        parts.append(_text(x + swatch + gap, y + 0.35 * size, text, size))
        x += entry_width + 2 * size
    return parts
