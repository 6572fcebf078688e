"""Static PNGs: one zone and its members for printable reports, and any interactive map as an
image (:func:`map_png`, the "Download als PNG" of every map page). No tiles, works offline.

Drawn with matplotlib's Agg backend from the same EPSG:31370 polygons as the web maps
(:mod:`geo.geometry`): members are filled by the zone of the comparison layer they sit in,
that layer's zones are outlined, surrounding municipalities give context in grey.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import re
import textwrap
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import folium
import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.lines import Line2D

from geo.geometry import municipal_polygons, zone_polygons
from geo.layer import Layer
from geo.overlay import ZoneDetail
from geo.paths import ATTRIBUTION, SHIPPED_DATA

# Okabe-Ito: distinguishable with colour-blindness and still apart in greyscale print.
DOMINANT_COLOUR = "#0072B2"
OTHER_COLOURS = ("#E69F00", "#CC79A7", "#009E73", "#D55E00", "#56B4E9", "#F0E442", "#999933", "#882255")
UNCOVERED_COLOUR = "#dddddd"
CONTEXT_COLOUR = "#f2f2f2"
MARGIN = 0.12
MAX_LABELS = 45
# Drawing tolerance: 25 m is below a pixel at report scale and makes plotting several times faster.
DRAW_SIMPLIFY_METRES = 25.0


def zone_colours(detail: ZoneDetail) -> dict[str, str]:
    """Fill colour per touched zone code: the dominant zone blue, the others in turn."""
    colours = {}
    others = iter(OTHER_COLOURS * 4)
    for zone in detail.zones_touched:
        colours[zone.code] = DOMINANT_COLOUR if zone.code == detail.dominant_zone else next(others)
    return colours


def _wrapped(text: str, width_inches: float, fontsize: float) -> str:
    """``text`` in lines that fit ``width_inches`` at ``fontsize`` points (about 0.5 em a character).

    Examples
    --------
    >>> _wrapped("Bron: Statbel en Agentschap Binnenlands Bestuur", 1.0, 10).count(chr(10))
    2
    """
    return textwrap.fill(text, max(int(width_inches * 72 / (fontsize * 0.5)), 20))


# The last images drawn, keyed by the (immutable) layer objects they show: a report's PDF right
# after its HTML page reuses the maps instead of drawing them again (a quarter second each).
_PNG_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_PNG_CACHE_SIZE = 48
_png_lock = threading.Lock()


# The share of the map's width and height a legend takes, about (for choosing its corner).
LEGEND_BOX = (0.45, 0.35)


def _emptiest_corner(geometries, bounds: tuple[float, float, float, float]) -> str:
    """The corner of the map whose legend-sized box covers the least of ``geometries``: what
    matplotlib's ``loc="best"`` does by testing every drawn vertex, at a fortieth of the cost.

    Examples
    --------
    >>> import shapely
    >>> _emptiest_corner([shapely.box(0, 0, 5, 10)], (0, 0, 10, 10))  # the shape fills the left half
    'upper right'
    """
    import shapely

    xmin, ymin, xmax, ymax = bounds
    w, h = (xmax - xmin) * LEGEND_BOX[0], (ymax - ymin) * LEGEND_BOX[1]
    boxes = {"upper left": (xmin, ymax - h, xmin + w, ymax), "upper right": (xmax - w, ymax - h, xmax, ymax),
             "lower left": (xmin, ymin, xmin + w, ymin + h), "lower right": (xmax - w, ymin, xmax, ymin + h)}
    shapes = shapely.union_all([g for g in geometries if g is not None])
    covered = {corner: shapely.intersection(shapes, shapely.box(*box)).area for corner, box in boxes.items()}
    return min(covered, key=lambda corner: (covered[corner], list(boxes).index(corner)))


def zone_map_png(layer: Layer, code: str, against: Layer, detail: ZoneDetail,
                 data_dir: Path = SHIPPED_DATA, width_inches: float = 7.0) -> bytes:
    """PNG of zone ``code`` of ``layer``, members coloured by their zone in ``against``.

    Parameters
    ----------
    layer, code
        The zone the report is about.
    against : Layer
        The comparison layer whose zones colour the members.
    detail : ZoneDetail
        ``overlay(layer, against).zone_detail(code)``; the map shows exactly this result.

    Examples
    --------
    >>> result = overlay(w13_layer, elz_layer)  # doctest: +SKIP
    >>> png = zone_map_png(w13_layer, "W13", elz_layer, result.zone_detail("W13"))  # doctest: +SKIP
    >>> png[:4]  # doctest: +SKIP
    b'\\x89PNG'
    """
    key = (layer, str(code), against, Path(data_dir), float(width_inches))
    with _png_lock:
        if key in _PNG_CACHE:
            _PNG_CACHE.move_to_end(key)
            return _PNG_CACHE[key]
    png = _draw_zone_map(layer, code, against, detail, Path(data_dir), width_inches)
    with _png_lock:
        _PNG_CACHE[key] = png
        while len(_PNG_CACHE) > _PNG_CACHE_SIZE:
            _PNG_CACHE.popitem(last=False)
    return png


def _draw_zone_map(layer: Layer, code: str, against: Layer, detail: ZoneDetail, data_dir: Path,
                   width_inches: float) -> bytes:
    munis = _drawn_municipalities(Path(data_dir))
    colours = zone_colours(detail)
    fill: dict[int, str] = {}
    for zone in detail.zones_touched:
        for member in zone.members:
            # A member split over two zones takes the colour of the first (largest) one.
            fill.setdefault(member.nis_code, colours[zone.code])
    for member in detail.not_covered:
        fill.setdefault(member.nis_code, UNCOVERED_COLOUR)
    members = munis.loc[[n for n in sorted(fill) if n in munis.index]]

    outline = _drawn_zones(layer, Path(data_dir))
    outline = outline[outline["code"] == str(code)]
    against_zones = _drawn_zones(against, Path(data_dir))
    against_zones = against_zones[against_zones["code"].isin(colours) & against_zones.geometry.notna()]

    extent = gpd.GeoSeries(list(members.geometry) + list(outline.geometry.dropna()), crs=munis.crs).total_bounds
    dx, dy = extent[2] - extent[0], extent[3] - extent[1]
    pad = MARGIN * max(dx, dy, 5_000.0)
    xmin, ymin, xmax, ymax = extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad
    height_inches = max(3.5, min(7.5, width_inches * (ymax - ymin) / max(xmax - xmin, 1.0)))

    fig = Figure(figsize=(width_inches, height_inches), dpi=130)
    ax = fig.add_axes((0.0, 0.08, 1.0, 0.92))
    context = munis.cx[xmin:xmax, ymin:ymax]
    context.plot(ax=ax, color=CONTEXT_COLOUR, edgecolor="white", linewidth=0.6)
    members.plot(ax=ax, color=[fill[n] for n in members.index], edgecolor="white", linewidth=0.8, alpha=0.85)
    if len(against_zones):
        against_zones.boundary.plot(ax=ax, color="#333333", linewidth=1.6)
    if len(outline):
        outline.boundary.plot(ax=ax, color="black", linewidth=2.2, linestyle=(0, (4, 2)))
    if len(members) <= MAX_LABELS:
        for nis, geometry in members.geometry.items():
            point = geometry.representative_point()
            ax.annotate(layer.atoms.name(int(nis)), (point.x, point.y), ha="center",
                        va="center", fontsize=6.5, color="black",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_axis_off()

    handles = [Patch(facecolor=colours[z.code], edgecolor="white", label=f"{z.name} ({z.code})")
               for z in detail.zones_touched]
    if detail.not_covered:
        handles.append(Patch(facecolor=UNCOVERED_COLOUR, label=f"in geen zone van {against.name}"))
    handles.append(Line2D([], [], color="black", linewidth=2.0, linestyle=(0, (4, 2)), label=f"grens van {code}"))
    handles.append(Line2D([], [], color="#333333", linewidth=1.6, label=f"grenzen {against.name}"))
    corner = _emptiest_corner(members.geometry.values, (xmin, ymin, xmax, ymax))
    ax.legend(handles=handles, loc=corner, fontsize=7, framealpha=0.9, title=against.name, title_fontsize=7.5)
    # Wrapped here, not by matplotlib (wrap=True measures the text word by word: a tenth of a second).
    fig.text(0.01, 0.02, _wrapped(ATTRIBUTION, width_inches, 5.5), fontsize=5.5, color="#555555")

    buffer = io.BytesIO()
    # The figure's height follows the zone's shape, so there is little to crop: no "tight" box,
    # which drew the whole figure twice (a third of each map's time). zlib level 1: flat colours
    # compress almost as well (+5 %) in a tenth of the time.
    fig.savefig(buffer, format="png", facecolor="white", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


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


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` so the page stays one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# -- any interactive map as a PNG: the same view, drawn with matplotlib --------------------------
PNG_WIDTH_INCHES = 11.0
PX_TO_POINTS = 0.75
_SWATCH_FILL = re.compile(r"background:(#[0-9a-fA-F]{3,8})")
_SWATCH_BORDER = re.compile(r"border(?:-top)?:(\d+)px (solid|dashed) (#[0-9a-fA-F]{3,8})")


def map_png(m: folium.Map) -> bytes:
    """A PNG of an interactive map (every map of its figure, side by side): the same layers and
    styles, labels, title, legend and data credit, drawn from the same frames as the page.

    Examples
    --------
    >>> png = map_png(overlay_map(result, focus="W13"))  # doctest: +SKIP
    >>> png[:4]  # doctest: +SKIP
    b'\\x89PNG'
    """
    figure = m.get_root()
    maps = [child for child in figure._children.values() if isinstance(child, folium.Map)] or [m]
    fig = Figure(figsize=(PNG_WIDTH_INCHES, 7.0 if len(maps) == 1 else 6.0), dpi=120)
    side_legend = len(maps) == 1  # one map: the legend beside it; two: inside the right-hand one
    for i, one in enumerate(maps):
        ax = fig.add_axes((0.01, 0.06, 0.64, 0.80) if side_legend else (i / len(maps) + 0.005, 0.06, 1 / len(maps) - 0.01, 0.80))
        _draw_map(ax, one)
        title, subtitle = getattr(one, "rm_title", ("", ""))
        x = (i + 0.02) / len(maps)
        fig.text(x, 0.95, title, fontsize=11 if len(maps) == 1 else 9.5, fontweight="bold", va="top", wrap=True)
        if subtitle:
            fig.text(x, 0.905, subtitle, fontsize=8, color="#444444", va="top", wrap=True)
        if getattr(one, "rm_legend", None):
            _draw_legend(ax, *one.rm_legend, beside=side_legend)
    fig.text(0.01, 0.015, getattr(maps[0], "rm_attribution", ATTRIBUTION), fontsize=6.5, color="#555555", wrap=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _groups(element) -> list:
    """Feature layers under ``element`` that the page shows when it opens."""
    found = []
    for child in element._children.values():
        if getattr(child, "show", True) is False:
            continue
        if hasattr(child, "rm_view"):
            found.append(child)
        found.extend(_groups(child))
    return found


def _labels(element) -> list:
    found = []
    for child in element._children.values():
        if hasattr(child, "rm_labels"):
            found.append(child)
        found.extend(_labels(child))
    return found


def _draw_map(ax, m: folium.Map) -> None:
    from maps.base import PANES
    from maps.style import BACKGROUND, HATCH_FILL, HIGHLIGHT

    ax.set_facecolor(BACKGROUND)
    layers = sorted((g for g in _groups(m) if g.rm_view[2]), key=lambda g: PANES.get(g.rm_view[1], 0))
    for group in layers:
        frame, _, _ = group.rm_view
        frame = frame[frame.geometry.notna() & frame["_style"].map(lambda v: isinstance(v, dict))]
        if not len(frame):
            continue
        keys = frame["_style"].map(lambda v: tuple(sorted((k, str(x)) for k, x in v.items())))
        for _, part in frame.groupby(keys, sort=False):  # one draw call per distinct style
            st = part["_style"].iloc[0]
            shapes = gpd.GeoSeries(part.geometry.values, crs=part.crs)
            dash = st.get("dashArray")
            width = st.get("weight", 3) * PX_TO_POINTS
            line = (0, tuple(float(v) * 0.6 for v in str(dash).split())) if dash else "solid"
            colour = st.get("color", "#3388ff")
            if st.get("fillColor") == HATCH_FILL:
                shapes.plot(ax=ax, facecolor="none", edgecolor=HIGHLIGHT, hatch="////", linewidth=0)
                shapes.boundary.plot(ax=ax, color=colour, linewidth=width)
            elif st.get("fill", True) and st.get("fillOpacity", 0.2) > 0:
                shapes.plot(ax=ax, facecolor=_rgba(st.get("fillColor", "#3388ff"), st.get("fillOpacity", 0.2)),
                            edgecolor="none")
                shapes.boundary.plot(ax=ax, color=_rgba(colour, st.get("opacity", 1.0)), linewidth=width, linestyle=line)
            else:
                shapes.boundary.plot(ax=ax, color=_rgba(colour, st.get("opacity", 1.0)), linewidth=width, linestyle=line)
    bounds = getattr(m, "rm_bounds", None)
    if bounds is None and layers:
        bounds = tuple(layers[0].rm_view[0].total_bounds)
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        pad = 0.04 * max(maxx - minx, maxy - miny, 0.01)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        # "datalim": widen the view to fill the panel rather than shrink the panel to the view (which
        # matplotlib announces with a log line about "fixed limits": intended here, so not logged)
        logging.getLogger("matplotlib.axes._base").setLevel(logging.ERROR)
        ax.set_aspect(1 / math.cos(math.radians((miny + maxy) / 2)), adjustable="datalim")
    ax.apply_aspect()
    # Labels by priority, as in the browser: one that would cover an earlier label is left out.
    labels = sorted(((priority, lat, lng, text, "rm-label-small" in element.css)
                     for element in _labels(m) for lat, lng, text, priority in element.rm_labels),
                    key=lambda item: item[0])
    placed: list[tuple[float, float, float, float]] = []
    dpi = ax.figure.dpi
    for _, lat, lng, text, small in labels:
        size = 6.5 if small else 8
        x, y = ax.transData.transform((lng, lat))
        half_w, half_h = len(text) * size * 0.31 * dpi / 72, size * 0.7 * dpi / 72
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        ax.text(lng, lat, text, ha="center", va="center", fontsize=size, fontweight="bold", clip_on=True,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _rgba(colour: str, opacity: float) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgb

    return (*to_rgb(colour), float(opacity))


def _draw_legend(ax, title: str, rows, notes, beside: bool = True) -> None:
    from maps.style import HIGHLIGHT

    handles = []
    for row in rows:
        html = row.swatch
        fill = _SWATCH_FILL.search(html)
        border = _SWATCH_BORDER.search(html)
        if "repeating-linear-gradient" in html:
            handles.append(Patch(facecolor="white", edgecolor=HIGHLIGHT, hatch="////", label=row.label))
        elif fill:
            handles.append(Patch(facecolor=fill.group(1), edgecolor=border.group(3) if border else "#888888",
                                 label=row.label))
        elif border:
            handles.append(Line2D([], [], color=border.group(3), linewidth=float(border.group(1)),
                                  linestyle="--" if border.group(2) == "dashed" else "-", label=row.label))
    if handles:
        where = {"loc": "lower left", "bbox_to_anchor": (1.02, 0.0)} if beside else {"loc": "lower right"}
        legend = ax.legend(handles=handles, fontsize=6.5, title=title, title_fontsize=7.5, framealpha=0.92, **where)
        legend._legend_box.align = "left"
