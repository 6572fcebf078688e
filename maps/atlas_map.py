"""A static map of Flanders for the fit atlas: the "grensgemeenten".

Each municipality is coloured by the number of line-crossing associations in which it sits on the
minority side (outside the zone that holds most of the association's inhabitants); the lines of
the chosen layer are drawn over it. Drawn with matplotlib's Agg backend (no tiles, works offline
and prints), from the same EPSG:31370 polygons as every other map.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.paths import ATTRIBUTION, SHIPPED_DATA
from geo.views.atlas import Atlas
from maps.templating import zone_noun

# Classes of the minority-side count: 0, 1, 2, 3-4, 5-7, 8 or more (ColorBrewer Oranges).
CLASS_EDGES = (1, 2, 3, 5, 8)
CLASS_COLOURS = ("#f7f7f7", "#fee6ce", "#fdd0a2", "#fdae6b", "#e6550d", "#a63603")
CLASS_LABELS = ("geen", "1", "2", "3 of 4", "5 tot 7", "8 of meer")
BRUSSELS_COLOUR = "#d9d9d9"
DRAW_SIMPLIFY_METRES = 60.0


def class_of(count: int) -> int:
    """Index of the colour class of a minority-side count.

    Examples
    --------
    >>> [class_of(n) for n in (0, 1, 2, 4, 7, 12)]
    [0, 1, 2, 3, 4, 5]
    """
    return sum(count >= edge for edge in CLASS_EDGES)


def border_map_png(atlas: Atlas, data_dir: Path = SHIPPED_DATA, width_inches: float = 9.0) -> bytes:
    r"""PNG of Flanders with each municipality's minority-side count and the chosen layer's lines.

    Examples
    --------
    >>> from geo.views.atlas import fit_atlas
    >>> png = border_map_png(fit_atlas(catalog))
    >>> png[:4]
    b'\x89PNG'
    """
    counts = tuple(zip(atlas.municipalities["nis_code"].astype(int), atlas.municipalities["minority_side"].astype(int)))
    return _png(atlas.against, counts, Path(data_dir), width_inches)


@lru_cache(maxsize=16)
def _png(against, counts: tuple[tuple[int, int], ...], data_dir: Path, width_inches: float) -> bytes:  # noqa: ANN001
    munis = municipal_polygons(data_dir).copy()
    munis["geometry"] = munis.geometry.simplify(DRAW_SIMPLIFY_METRES, preserve_topology=True)
    by_code = dict(counts)
    flemish = dict(zip(against.atoms.nis_codes.astype(int), against.atoms.flemish))
    colours = [CLASS_COLOURS[class_of(by_code.get(int(n), 0))] if flemish.get(int(n), False) else BRUSSELS_COLOUR
               for n in munis.index]
    lines = zone_polygons(against, data_dir)
    lines = lines[lines.geometry.notna()].copy()
    lines["geometry"] = lines.geometry.simplify(DRAW_SIMPLIFY_METRES, preserve_topology=True)

    xmin, ymin, xmax, ymax = munis.total_bounds
    height = width_inches * (ymax - ymin) / (xmax - xmin) + 1.4
    fig = Figure(figsize=(width_inches, height), dpi=110)
    ax = fig.add_axes((0.0, 0.16, 1.0, 0.84))
    munis.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.35)
    lines.boundary.plot(ax=ax, color="#222222", linewidth=1.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Patch(facecolor=c, edgecolor="#999999", label=l) for c, l in zip(CLASS_COLOURS, CLASS_LABELS)]
    handles.append(Patch(facecolor=BRUSSELS_COLOUR, edgecolor="#999999", label="Brussel (niet beoordeeld)"))
    handles.append(Line2D([], [], color="#222222", linewidth=1.3, label=f"grenzen: {zone_noun(against, plural=True)}"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncol=4, fontsize=7.5, frameon=False,
               title="In hoeveel grensoverschrijdende samenwerkingsverbanden ligt de gemeente aan de minderheidskant?",
               title_fontsize=8)
    fig.text(0.01, 0.005, ATTRIBUTION, fontsize=5.5, color="#555555")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white", bbox_inches="tight", pad_inches=0.05)
    return buffer.getvalue()
