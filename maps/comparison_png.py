"""A static PNG of two zonings side by side around the moved municipalities, for the printed
comparison (``/vergelijk.pdf``). No tiles, works offline.

Both panels colour the municipalities by their zone (the same colour for the same zone code in
both), outline the zones, and mark the moved municipalities with a thick purple edge and their
name; the view is the area of the zones the moves touched.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from geo.engine.layer import Layer
from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.paths import ATTRIBUTION, SHIPPED_DATA
from maps import style
from maps.base import zone_colours

MARGIN = 0.08
# Drawing tolerance: 25 m is below a pixel at these maps' scale and makes plotting several times faster.
DRAW_SIMPLIFY_METRES = 25.0
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
    """Simplify, ahead of a first comparison PDF, the municipalities and the outlines of ``layers``
    (those scenarios are usually drawn on) for drawing (the server's warm-up does it): a fifth
    of a second of a first print otherwise.

    Examples
    --------
    >>> prepare([elz])
    """
    _drawn_municipalities(Path(data_dir))
    for layer in layers:
        _drawn_zones(layer, Path(data_dir))


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
    munis = _drawn_municipalities(Path(data_dir))
    colours = zone_colours(base, Path(data_dir))
    touched = {c for layer in (base, other) for nis in moved for c, _, _ in layer.zones_of(int(nis))}
    area = [n for layer in (base, other) for code in touched
            for n in layer.members(code)["nis_code"].astype(int) if n in munis.index]
    xmin, ymin, xmax, ymax = view_bounds(munis, area)
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
