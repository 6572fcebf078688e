"""Any interactive map as an image (:func:`map_png`, the "Download als PNG" of every map page),
drawn with matplotlib's Agg backend from the same frames as the page. No tiles, works offline.

The maps of a printed report are drawn by :mod:`maps.zone_map`.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import re

import folium
import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from geo.paths import ATTRIBUTION


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` so the page stays one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# -- any interactive map as a PNG: the same view, drawn with matplotlib --------------------------
PNG_WIDTH_INCHES = 11.0
PX_TO_POINTS = 0.75
_SWATCH_FILL = re.compile(r"background:(#[0-9a-fA-F]{3,8})")
_SWATCH_BORDER = re.compile(r"border(?:-top)?:(\d+)px (solid|dashed) (#[0-9a-fA-F]{3,8})")


def map_png(m: folium.Map) -> bytes:
    r"""A PNG of an interactive map (every map of its figure, side by side): the same layers and
    styles, labels, title, legend and data credit, drawn from the same frames as the page.

    Examples
    --------
    >>> from maps.overlay_map import overlay_map
    >>> png = map_png(overlay_map(result, focus="W13"))
    >>> png[:4]
    b'\x89PNG'
    """
    figure = m.get_root()
    maps = [child for child in figure._children.values() if isinstance(child, folium.Map)] or [m]
    fig = Figure(figsize=(PNG_WIDTH_INCHES, 7.0 if len(maps) == 1 else 6.0), dpi=120)
    side_legend = len(maps) == 1  # one map: the legend beside it; two: inside the right-hand one
    for i, one in enumerate(maps):
        ax = fig.add_axes((0.01, 0.06, 0.64, 0.80) if side_legend else (i / len(maps) + 0.005, 0.06,
                                                                        1 / len(maps) - 0.01, 0.80))
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
                shapes.boundary.plot(ax=ax, color=_rgba(colour, st.get("opacity", 1.0)), linewidth=width,
                                     linestyle=line)
            else:
                shapes.boundary.plot(ax=ax, color=_rgba(colour, st.get("opacity", 1.0)), linewidth=width,
                                     linestyle=line)
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
