"""A static PNG of one zone and its members, for printable reports (no tiles, works offline).

Drawn with matplotlib's Agg backend from the same EPSG:31370 polygons as the web maps
(:mod:`geo.geometry`): members are filled by the zone of the comparison layer they sit in,
that layer's zones are outlined, surrounding municipalities give context in grey.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

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
    ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.9, title=against.name, title_fontsize=7.5)
    fig.text(0.01, 0.02, ATTRIBUTION, fontsize=5.5, color="#555555", wrap=True)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white", bbox_inches="tight", pad_inches=0.08)
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
