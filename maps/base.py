"""Building blocks shared by the map builders: an offline base map, stacked panes, GeoJSON layers
whose style, tooltip and popup travel in the feature properties, labels and zone colouring.

Geometry comes from :mod:`geo.geometry` (EPSG:31370, simplified and reprojected by ``to_web``);
nothing here measures or counts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable

import folium
import geopandas as gpd
import networkx as nx
import numpy as np
from branca.element import Figure, MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from geo.atoms import Atoms
from geo.geometry import geojson, municipalities_web, to_web, zone_polygons
from geo.layer import Layer
from geo.paths import METRIC_CRS, SHIPPED_DATA
from maps import style
from maps.assets import AssetMode, RawHTML, use_assets

# Douglas-Peucker tolerance for views of (a large part of) Flanders: keeps the biggest map far
# below 3 MB while borders still read as borders at zoom 8-11.
SIMPLIFY_METRES = 120.0

# Panes stack the layers in a fixed order, whatever the user toggles in the layer control.
PANES = {"fills": 410, "municipalities": 420, "highlight": 430, "outlines": 440, "labels": 450}

# Style, tooltip and popup are feature properties; one small function binds them, so folium
# does not have to generate a style switch over hundreds of features.
_BIND = JsCode("""
function(feature, layer) {
    var p = feature.properties || {};
    if (p._style && layer.setStyle) { layer.setStyle(p._style); }
    if (p._tip) { layer.bindTooltip(p._tip, {sticky: true, direction: 'top', opacity: 0.96}); }
    if (p._pop) { layer.bindPopup(p._pop, {maxWidth: 380}); }
    if (p._hover && layer.setStyle) {
        layer.on('mouseover', function() { layer.setStyle(p._hover); });
        layer.on('mouseout', function() { layer.setStyle(p._style); });
    }
}
""")


def new_map(title: str, subtitle: str, population_year: int, assets: AssetMode, *,
            figure: Figure | None = None, **position: str) -> folium.Map:
    """An empty map with no tile layer (works offline), the data credit, a title and the panes.

    ``position`` (``width``, ``left``, ``position``...) places the map inside a shared figure
    for side-by-side views.
    """
    m = folium.Map(location=(51.05, 4.4), zoom_start=8, tiles=None, control_scale=False, zoom_snap=0.25,
                   zoom_delta=0.5, **position)
    if figure is not None:
        figure.add_child(m)
    use_assets(m, assets)
    root = m.get_root()
    root.header.add_child(RawHTML(f"<title>{style.esc(title)}</title>"), name="title")
    # An empty icon: otherwise every browser asks the server for /favicon.ico (a 404 in the log).
    root.header.add_child(RawHTML('<link rel="icon" href="data:,">'), name="favicon")
    root.header.add_child(RawHTML(style.PAGE_CSS), name="regiomatch_css")
    root.html.add_child(RawHTML(style.HATCH_SVG), name="regiomatch_hatch")
    for name, z in PANES.items():
        folium.map.CustomPane(name, z_index=z, pointer_events=True).add_to(m)
    style.add_title(m, title, subtitle)
    style.add_attribution(m, population_year)
    style.add_scale(m)
    return m


def render(m: folium.Map) -> str:
    """The complete HTML page of a map (or of the figure it shares with another map)."""
    return m.get_root().render()


def feature_layer(frame: gpd.GeoDataFrame, name: str, pane: str, *, show: bool = True,
                  interactive: bool = True, control: bool = True) -> folium.GeoJson:
    """A GeoJSON layer from a EPSG:4326 frame with ``_style`` (dict), optional ``_hover``,
    ``_tip`` and ``_pop`` (HTML) columns. Each feature's ``id`` is its zone ``code`` column or,
    for municipalities, the NIS code index."""
    keep = [c for c in ("_style", "_hover", "_tip", "_pop") if c in frame.columns]
    data = geojson(gpd.GeoDataFrame(geometry=frame.geometry.values, crs=frame.crs))
    # Properties are attached here rather than through to_json, which would stringify the style dicts.
    ids = frame["code"].astype(str) if "code" in frame.columns else frame.index.astype(str)
    for feature, ident, (_, row) in zip(data["features"], ids, frame[keep].iterrows()):
        feature["id"] = ident  # zone code or NIS code: lets tests and scripts find a feature
        feature["properties"] = {key: row[key] for key in keep if isinstance(row[key], (str, dict))}
    return folium.GeoJson(data, name=name, show=show, control=control, on_each_feature=_BIND, pane=pane,
                          interactive=interactive, zoom_on_click=False, smooth_factor=1.0)


class _Labels(MacroElement):
    """Text labels as ``L.divIcon`` markers created with their icon (a default marker icon would
    be fetched otherwise), never in the way of the mouse."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.points|tojson }}.forEach(function(p) {
            L.marker([p[0], p[1]], {interactive: false, keyboard: false, pane: 'labels',
                icon: L.divIcon({className: '', iconSize: [0, 0], iconAnchor: [0, 0],
                    html: '<div class="' + {{ this.css|tojson }} + '" style="transform:translate(-50%,-50%)">'
                          + p[2] + '</div>'})})
             .addTo({{ this._parent.get_name() }});
        });
        {% endmacro %}
    """)

    def __init__(self, points: list[list], css: str):
        super().__init__()
        self._name = "Labels"
        self.points, self.css = points, css


def add_labels(m: folium.Map | folium.FeatureGroup, frame: gpd.GeoDataFrame, text_column: str,
               small: bool = False) -> None:
    """Text labels at a point inside each polygon (EPSG:4326 frame); the text is escaped here."""
    points = [[round(p.y, 5), round(p.x, 5), style.esc(text)]
              for p, text in zip(frame.geometry.representative_point(), frame[text_column])
              if p is not None and not p.is_empty]
    m.add_child(_Labels(points, "rm-label rm-label-small" if small else "rm-label"))


class _Fit(MacroElement):
    """``fitBounds`` without animation: the map opens on its subject, not halfway through a zoom."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }},
            {paddingTopLeft: {{ this.top_left|tojson }}, paddingBottomRight: {{ this.bottom_right|tojson }},
             animate: false});
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]], top_left: tuple[int, int], bottom_right: tuple[int, int]):
        super().__init__()
        self._name = "Fit"
        self.bounds, self.top_left, self.bottom_right = bounds, list(top_left), list(bottom_right)


def fit(m: folium.Map, frame: gpd.GeoDataFrame, legend_width: int = 0) -> None:
    """Fit the view to the polygons of a EPSG:4326 frame, leaving room for the title (top left)
    and, when given, a legend (bottom right)."""
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
    m.add_child(_Fit([[miny, minx], [maxy, maxx]], (16, 80), (16 + legend_width, 16)))


# -- geometry: geo.geometry caches the outlines, so the same ones serve many requests -------------
def municipalities(atoms: Atoms, data_dir: Path = SHIPPED_DATA, simplify: float = SIMPLIFY_METRES) -> gpd.GeoDataFrame:
    """The municipalities in EPSG:4326 with name, population and region, indexed by NIS code."""
    frame = municipalities_web(data_dir, simplify).set_index("nis_code")
    table = atoms.table.reindex(frame.index)
    frame["name"] = table["name"]
    frame["population"] = table["population"]
    frame["flemish"] = (table["region"] == "Vlaams Gewest").to_numpy()
    return frame


def zones(layer: Layer, data_dir: Path = SHIPPED_DATA, simplify: float = SIMPLIFY_METRES,
          codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Dissolved zones of a layer in EPSG:4326 with population, member count and whether the zone
    lies in Brussels (all its members are Brussels municipalities). Zones without geometry are
    dropped."""
    frame = zone_polygons(layer, Path(data_dir))
    if codes is not None:
        wanted = {str(c) for c in codes}
        frame = frame[frame["code"].astype(str).isin(wanted)]
    summary = layer.summary().set_index("code")
    frame["population"] = frame["code"].map(summary["population"]).to_numpy()
    frame["members"] = frame["code"].map(summary["members"]).to_numpy()
    frame["brussels"] = frame["code"].map(dict(zip(layer.zone_codes, brussels_zones(layer)))).to_numpy()
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return to_web(gpd.GeoDataFrame(frame, geometry="geometry", crs=METRIC_CRS), simplify).reset_index(drop=True)


def brussels_zones(layer: Layer) -> np.ndarray:
    """Per zone: True when none of its members is Flemish (shown grey, never judged)."""
    return ~layer.flemish_zones()


@lru_cache(maxsize=64)
def zone_colours(layer: Layer, data_dir: Path = SHIPPED_DATA) -> dict[str, str]:
    """A fill colour per zone code such that touching zones differ (greedy graph colouring).

    Presentation only: zones that share a border get different colours so each zone reads as one
    patch; the colours carry no meaning.
    """
    metric = zone_polygons(layer, Path(data_dir))
    metric = metric[metric.geometry.notna() & ~metric.geometry.is_empty]
    graph = nx.Graph()
    graph.add_nodes_from(layer.zone_codes)
    buffered = metric.assign(geometry=metric.geometry.buffer(200.0))
    pairs = gpd.sjoin(buffered[["code", "geometry"]], metric[["code", "geometry"]], predicate="intersects")
    for left, right in zip(pairs["code_left"].astype(str), pairs["code_right"].astype(str)):
        if left != right:
            graph.add_edge(left, right)
    colouring = nx.greedy_color(graph, strategy="largest_first")
    return {code: style.ZONE_COLOURS[i % len(style.ZONE_COLOURS)] for code, i in colouring.items()}


def zones_text(entries: list[tuple[str, str, float]]) -> str:
    """``code – name`` of the zones a municipality is in (with its share when partial), as HTML."""
    if not entries:
        return '<span class="rm-muted">in geen zone</span>'
    parts = []
    for code, name, share in entries:
        part = f"{style.esc(name)} <span class=\"rm-muted\">({style.esc(code)})</span>"
        if share < 0.999:
            part += f" voor {style.nl_pct(share)}"
        parts.append(part)
    return "; ".join(parts)
