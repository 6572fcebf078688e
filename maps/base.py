"""Building blocks shared by the map builders: an offline base map, stacked panes, layers drawn
from geometry served once per layer with a small per-page style table, labels and zone colouring.

A served page carries no geometry: it links ``/api/v1/geometry/...`` (prepared once per layer by
:mod:`geo.geometry.polygons`, cached by the browser) and, per feature id, the style, tooltip and popup; a
layer of more than ``MANY_ZONES`` zones carries columns of numbers per zone instead, from which the
browser writes the tooltips (:func:`zone_columns_layer`), its popups fetched on click. A standalone file
(CLI export) carries each geometry once instead. The browser side is ``maps/static/regiomatch.js``.
Nothing here measures or counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.geometry.polygons import DEFAULT_WEB_DETAIL, web_geometry, web_municipalities, web_zones, zone_polygons
from geo.paths import SHIPPED_DATA
from maps import style
from maps.assets import AssetMode, RawHTML, use_assets
from maps.colouring import NEAR_METRES, greedy_colouring  # noqa: F401 (also for callers of this module)

# Named detail levels of the served geometry (geo.geometry.polygons.WEB_DETAIL_METRES): "coarse" (120 m)
# for views of (a large part of) Flanders, "fine" (60 m) around one municipality.
DETAIL = DEFAULT_WEB_DETAIL
GEOMETRY_URL = "/api/v1/geometry"
ZONE_URL = "/api/v1/layers"  # + /{layer}/zones/{code}: one zone's members, fetched when it is clicked

# Panes stack the layers in a fixed order, whatever the user toggles in the layer control.
PANES = {"fills": 410, "municipalities": 420, "highlight": 430, "outlines": 440, "labels": 450}
# Above this many zones a served map draws a layer from per-zone columns (numbers, names and a few
# words: zone_columns_layer) instead of a tooltip and popup text per zone, about 200-400 bytes each:
# an imported grid of 10,000 squares made pages of megabytes.
MANY_ZONES = 500
# How many zones a tooltip or popup names for one municipality before "en N andere": a layer that
# puts a municipality in thousands of zones must not make every page that shows it huge or slow.
MAX_ZONES_NAMED = 8
# Above this many candidate neighbour pairs per zone, zones are coloured in turn (see zone_colours).
MAX_COLOUR_PAIRS_PER_ZONE = 50


def new_map(title: str, subtitle: str, population_year: int, assets: AssetMode, *,
            figure: Figure | None = None, **position: str) -> folium.Map:
    """An empty map with no tile layer (works offline), the data credit, a title and the panes.

    ``position`` (``width``, ``left``, ``position``...) places the map inside a shared figure
    for side-by-side views.

    Examples
    --------
    >>> m = new_map("Eerstelijnszones", "57 zones", 2020, "served")
    >>> "Eerstelijnszones" in render(m)
    True
    """
    m = folium.Map(location=(51.05, 4.4), zoom_start=8, tiles=None, control_scale=False, zoom_snap=0.25,
                   zoom_delta=0.5, **position)
    if figure is not None:
        figure.add_child(m)
    use_assets(m, assets)
    m.rm_assets = assets  # read by the layers below: link the geometry or carry it in the page
    root = m.get_root()
    root.header.add_child(RawHTML(f"<title>{style.esc(title)}</title>"), name="title")
    # regiomatch's icon where the server serves it; a file opened from disk gets an empty one
    # (otherwise every browser asks for /favicon.ico, a 404 in the log).
    icon = "/maps/static/favicon.svg" if assets == "served" else "data:,"
    root.header.add_child(RawHTML(f'<link rel="icon" href="{icon}">'), name="favicon")
    root.header.add_child(RawHTML(style.PAGE_CSS), name="regiomatch_css")
    root.html.add_child(RawHTML(style.HATCH_SVG), name="regiomatch_hatch")
    for name, z in PANES.items():
        folium.map.CustomPane(name, z_index=z, pointer_events=True).add_to(m)
    style.add_title(m, title, subtitle)
    style.add_attribution(m, population_year)
    style.add_scale(m)
    return m


def render(m: folium.Map) -> str:
    """The complete HTML page of a map (or of the figure it shares with another map).

    Element names are numbered in document order instead of folium's random ones, so the same
    map always renders to the same HTML (cacheable, comparable).
    """
    root = m.get_root()
    counter = iter(range(1, 1_000_000))

    def number(element) -> None:
        element._id = f"{next(counter):04d}"
        for child in element._children.values():
            number(child)

    number(root)
    return root.render()


def js_value(value: object, compact: bool | tuple[str, ...] = ()) -> str:
    r"""JSON that is safe inside an HTML ``<script>``: ``<``, ``>`` and ``&`` are escaped, so user
    text such as ``</script>`` can never end the script. Written without spaces when ``compact``
    is true, or for the values of the keys of a dict it names (per-zone columns, thousands of
    entries).

    Examples
    --------
    >>> js_value({"name": "</script><img src=x>"})
    '{"name": "\\u003c/script\\u003e\\u003cimg src=x\\u003e"}'
    >>> js_value({"key": "g1", "zones": {"code": ["a", "b"]}}, compact=("zones",))
    '{"key": "g1", "zones": {"code":["a","b"]}}'
    """
    if compact and isinstance(value, dict):
        text = "{" + ", ".join(json.dumps(k) + ": " + json.dumps(v, ensure_ascii=True,
                                                                  separators=(",", ":") if k in compact else None)
                               for k, v in value.items()) + "}"
    else:
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":") if compact is True else None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_data(value: object) -> str:
    r"""JSON that is safe inside an HTML ``<script type="application/json">`` data block: every
    ``</`` and ``<!`` is broken up (``<\/``, ``\u003c!``), so no text can end the block or open a
    comment there; everything else stays as it is (read with ``JSON.parse``, never run).

    Examples
    --------
    >>> json_data(["<b>W13</b>", "</script><!--"])
    '["<b>W13<\\/b>", "<\\/script>\\u003c!--"]'
    """
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!", "\\u003c!")


def _map_of(element) -> folium.Map:
    while element is not None and not isinstance(element, folium.Map):
        element = element._parent
    if element is None:
        raise ValueError("this map element must be added to a folium.Map (directly or in a group)")
    return element


def _opens_hidden(element) -> bool:
    """Whether ``element`` lies in a layer that opens switched off (``show=False``): its geometry
    is then fetched only when a user switches the layer on (``whenShown`` in regiomatch.js)."""
    while element is not None and not isinstance(element, folium.Map):
        if isinstance(element, folium.map.Layer) and not element.show:
            return True
        element = element._parent
    return False


@dataclass(frozen=True)
class GeometrySource:
    """Where a page gets the outlines of a layer (``layer=None``: the municipalities): a URL served
    once per layer (``/api/v1/geometry/...``) or, in a standalone file, data carried in the page
    once however many map layers draw it. ``key`` names the geometry inside the page."""

    layer: Layer | None
    detail: str
    data_dir: Path

    @property
    def body_and_digest(self) -> tuple[bytes, str]:
        return web_geometry(self.layer, self.detail, self.data_dir)

    @property
    def key(self) -> str:
        return "g" + self.body_and_digest[1][:16]

    def url(self) -> str:
        digest = self.body_and_digest[1]
        if self.layer is None:
            return f"{GEOMETRY_URL}/municipalities.geojson?detail={self.detail}&v={digest}"
        return f"{GEOMETRY_URL}/layers/{quote(self.layer.id, safe=':')}.geojson?detail={self.detail}&v={digest}"


class _Geometry(MacroElement):
    """Draws the features of a :class:`GeometrySource` that appear in a per-page style table keyed
    by feature id; the loader is ``maps/static/regiomatch.js``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        regiomatch.geo({{ this.map_name }}, {{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}
    """)

    def __init__(self, source: GeometrySource, table: dict[str, list], styles: list[dict], texts: list[str],
                 pane: str, interactive: bool, popups: "PopupSource | None" = None):
        super().__init__()
        self._name = "Geometry"
        self.source, self.table, self.styles, self.texts = source, table, styles, texts
        self.pane, self.interactive, self.popups = pane, interactive, popups

    def render(self, **kwargs) -> None:
        self.map_name, _, options = _loader_options(self, self.source, self.pane, self.popups)
        shared = _page_texts(self.get_root())
        options.update(interactive=self.interactive, table=shared.remap(self.table, self.texts), styles=self.styles)
        self.options = js_value(options)
        super().render(**kwargs)


def _loader_options(element, source: GeometrySource, pane: str,
                    popups: "PopupSource | None") -> tuple[str, bool, dict]:
    """What every geometry loader of ``regiomatch.js`` is told, for a map element: the map's
    name, whether the page is standalone (the geometry then travels in it, once per source), and
    the options naming the source, its pane, whether it waits until its layer is switched on and
    where its popups come from."""
    m = _map_of(element._parent)
    inline = getattr(m, "rm_assets", "inline") == "inline"
    options: dict = {"key": source.key, "url": None if inline else source.url(), "pane": pane}
    if _opens_hidden(element._parent):
        options["deferred"] = True
    if popups is not None:
        options["popups"] = {"url": popups.url, "loading": popups.loading, "failed": popups.failed}
    if inline:
        _carry_geometry(element.get_root(), source)
    return m.get_name(), inline, options


def _carry_geometry(root, source: GeometrySource) -> None:
    """A standalone file has no server: the geometry travels in it, once per source."""
    body = source.body_and_digest[0].decode("utf-8")
    payload = js_value(json.loads(body)) if "<" in body or ">" in body or "&" in body else body
    script = f"<script>regiomatch.register({js_value(source.key)}, {payload});</script>"
    root.header.add_child(RawHTML(script), name="rm_geometry_" + source.key)


class _PageTexts(Element):
    """Tooltip and popup texts of every layer on a page, each stored once (a municipality's zone
    summary appears in the popups of all its members and of the zone itself)."""

    # A data block, not a script: JSON.parse reads it, so "<" stays one byte (a tooltip's markup in
    # a script literal costs six per bracket: a third of a big map's page); see json_data.
    _template = Template('{% if this.texts %}<script type="application/json" id="rm-texts">{{ this.data() }}'
                         "</script>{% endif %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "PageTexts"
        self.texts: list[str] = []
        self.index: dict[str, int] = {}

    def data(self) -> str:
        return json_data(self.texts)

    def _one(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.texts)
            self.texts.append(text)
        return self.index[text]

    def remap(self, table: dict[str, list], texts: list[str]) -> dict[str, list]:
        """The layer's table with its text numbers turned into page-wide ones."""
        def ref(value):
            if value is None:
                return None
            if isinstance(value, list):
                return [self._one(texts[i]) for i in value]
            return self._one(texts[value])

        return {ident: [st, hv, ref(tip), ref(pop)] for ident, (st, hv, tip, pop) in table.items()}


def _page_texts(root) -> _PageTexts:
    shared = getattr(root, "rm_page_texts", None)
    if shared is None:
        shared = root.rm_page_texts = _PageTexts()
        root.header.add_child(shared, name="rm_page_texts")
    return shared


@dataclass(frozen=True)
class PopupSource:
    """Popups fetched when a feature is clicked, for features whose ``_pop`` is empty: the served
    page asks ``url`` + the feature id (URL-encoded) for an HTML fragment the server escaped, and
    shows ``loading`` meanwhile and ``failed`` (a later click tries again) when it cannot."""

    url: str
    loading: str = "Laden…"
    failed: str = "Dit kon niet geladen worden; klik opnieuw om het nog eens te proberen."


def feature_layer(frame: gpd.GeoDataFrame, name: str, pane: str, *, show: bool = True,
                  interactive: bool = True, control: bool = True, source: GeometrySource,
                  popups: PopupSource | None = None) -> folium.FeatureGroup:
    """A toggleable layer drawing ``source``'s features listed in ``frame``, each with its
    ``_style`` (dict) and optional ``_hover`` (dict), ``_tip`` and ``_pop`` (escaped HTML).

    Features are keyed by the frame's ``code`` column (zones) or its NIS-code index
    (municipalities). Styles and texts are stored once per page and referenced by number, so 300
    municipalities with 5 different styles cost 5 style objects. ``name`` is plain text (escaped
    here for the layer control).

    Examples
    --------
    >>> munis = municipalities(atoms)
    >>> munis["_style"] = [{"color": "#888", "weight": 0.5}] * len(munis)
    >>> group = feature_layer(munis, "Gemeenten", "municipalities", source=municipality_source()).add_to(m)
    >>> group.layer_name, "regiomatch" in render(m)
    ('Gemeenten', True)
    """
    ids = frame["code"].astype(str) if "code" in frame.columns else frame.index.astype(str)
    styles: list[dict] = []
    style_index: dict[str, int] = {}
    texts: list[str] = []
    text_index: dict[str, int] = {}

    def intern_style(value) -> int | None:
        if not isinstance(value, dict):
            return None
        key = json.dumps(value, sort_keys=True)
        if key not in style_index:
            style_index[key] = len(styles)
            styles.append(value)
        return style_index[key]

    def intern_text(value) -> int | list[int] | None:
        if isinstance(value, (list, tuple)):
            return [intern_text(part) for part in value]
        if not isinstance(value, str) or not value:
            return None
        if value not in text_index:
            text_index[value] = len(texts)
            texts.append(value)
        return text_index[value]

    columns = {c: frame[c].tolist() if c in frame.columns else [None] * len(frame)
               for c in ("_style", "_hover", "_tip", "_pop")}
    table = {ident: [intern_style(st), intern_style(hv), intern_text(tp), intern_text(pp)]
             for ident, st, hv, tp, pp in zip(ids, columns["_style"], columns["_hover"], columns["_tip"],
                                               columns["_pop"])}
    group = folium.FeatureGroup(name=style.esc(name), show=show, control=control)
    group.rm_table = table  # what this layer draws, by feature id (tests and scripts read it)
    group.rm_view = (frame, pane, show)  # the same view drawn as a PNG by maps.static_map
    group.rm_styles, group.rm_texts = styles, texts
    group.add_child(_Geometry(source, table, styles, texts, pane, interactive, popups))
    return group


@dataclass(frozen=True)
class ZoneTips:
    """How the browser writes a zone's tooltip on a map of many zones (:func:`zone_columns_layer`):
    the zone's name in bold and its code muted (followed by ``note``, e.g. ``", Raster"``), then the
    lines of one template of ``lines`` (the frame's ``_tip`` column picks one; the first without it).

    A line is ``(css, part, ...)`` (css ``""``: plain text); a part is text, or ``(how, column,
    ...)`` reading the zone's value in a column of the frame: ``("int", column)`` a whole number
    and ``("pct", column)`` a percentage already rounded to one decimal, written the Dutch way;
    ``("count", column, singular, plural)`` a whole number and its noun; ``("pick", column, list)``
    the entry of ``lists[list]`` at the column's number. All wording stays here: the browser puts
    the numbers (Dutch formats) and the user's names (as text) in place.

    Examples
    --------
    >>> tips = ZoneTips(lines=((("", ("int", "population"), " inwoners"),),))
    >>> tips.columns()
    {'population': 'int'}
    """

    lines: tuple
    lists: dict = field(default_factory=dict)
    note: str = ""

    def columns(self) -> dict[str, str]:
        """The frame's columns the lines read, with how (numbers are sent as numbers)."""
        found: dict[str, str] = {}
        for template in self.lines:
            for line in template:
                for part in line[1:]:
                    if not isinstance(part, str):
                        found.setdefault(part[1], part[0])
        return found

    def as_options(self) -> dict:
        """The templates as ``regiomatch.zoneColumns`` reads them (``options.tips``)."""
        return {"note": self.note, "lines": [[list(line[:1]) + [p if isinstance(p, str) else list(p) for p in line[1:]]
                                              for line in template] for template in self.lines],
                "lists": {k: list(v) for k, v in self.lists.items()}}


@dataclass(frozen=True)
class ZoneTexts:
    """The Dutch words of a zone's popup of members on a map of many zones (fetched from
    ``/api/v1/layers/{layer}/zones/{code}`` or carried by a standalone file), as
    ``maps.choropleth`` writes them for a map of few: ``population`` after the zone's inhabitants;
    ``part`` after a member counted for part of its inhabitants (``{share}`` a Dutch percentage);
    ``more`` the line after a capped member list (as :func:`more_text`, ``{n}`` the number left out).
    """

    population: str
    part: str = "voor {share}"
    more: str = "en {n} andere"
    loading: str = "Gemeenten laden…"
    failed: str = "De gemeenten konden niet geladen worden; klik opnieuw om het nog eens te proberen."
    max_members: int = 60


class _ZoneColumns(MacroElement):
    """Draws the zones of a :class:`GeometrySource` from per-zone columns (name, the numbers its
    tooltip names, style) instead of one prebuilt tooltip and popup text per zone: the browser
    composes the tooltip on hover (:class:`ZoneTips`) and loads the popup on click, the zone's members
    (``/api/v1/layers/{layer}/zones/{code}``, or carried by a standalone file) or an HTML fragment
    (:class:`PopupSource`). The loader is ``regiomatch.zoneColumns`` in ``maps/static/regiomatch.js``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        regiomatch.zoneColumns({{ this.map_name }}, {{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}
    """)

    def __init__(self, source: GeometrySource, columns: dict[str, list], styles: list[dict], hover: list[int | None],
                 tips: ZoneTips | None, texts: ZoneTexts | None, members: dict | None, popups: "PopupSource | None",
                 pane: str):
        super().__init__()
        self._name = "ZoneColumns"
        self.source, self.columns, self.styles, self.hover = source, columns, styles, hover
        self.tips, self.texts, self.members, self.popups, self.pane = tips, texts, members, popups, pane

    def render(self, **kwargs) -> None:
        self.map_name, inline, options = _loader_options(self, self.source, self.pane, self.popups)
        options.update(interactive=self.tips is not None, styles=self.styles, hover=self.hover, zones=self.columns)
        if self.tips is not None:
            options["tips"] = self.tips.as_options()
        if self.popups is None and self.texts is not None:
            t = self.texts
            options["words"] = {"population": t.population, "part": t.part, "more": t.more, "loading": t.loading,
                                "failed": t.failed, "maxMembers": t.max_members}
            if inline:
                options["members"] = self.members
            else:
                layer_id = self.source.layer.id if self.source.layer is not None else ""
                options["membersUrl"] = f"{ZONE_URL}/{quote(layer_id, safe=':')}/zones/"
        self.options = js_value(options, compact=("zones", "members"))
        super().render(**kwargs)


def zone_columns_layer(frame: gpd.GeoDataFrame, name: str, pane: str, *, source: GeometrySource,
                       tips: ZoneTips | None = None, texts: ZoneTexts | None = None,
                       members: dict[str, list[tuple]] | None = None, popups: PopupSource | None = None,
                       show: bool = True, control: bool = True) -> folium.FeatureGroup:
    """A toggleable layer of many zones that carries per-zone columns, not per-zone HTML.

    ``frame`` has ``code``, ``_style`` (dicts; few distinct ones) and, for a layer one can point
    at (``tips`` given), ``name``, ``_hover``, optionally ``_tip`` (which template of ``tips``) and
    the columns ``tips`` reads. Without ``tips`` the zones are only drawn (no tooltip, no popup).
    A clicked zone's popup is fetched from ``popups`` (an HTML fragment), or lists its members in
    the words of ``texts``: a served page fetches them, a standalone file carries ``members``
    (per zone code its ``(name, nis, share, inhabitants)``; ``frame`` then has ``population``).
    Names travel as JSON text and reach the page as text, never as HTML.

    Examples
    --------
    >>> frame = zones(elz)
    >>> frame["_style"] = [{"color": "#444", "weight": 1}] * len(frame)
    >>> frame["_hover"] = frame["name"]
    >>> tips = ZoneTips(lines=((("", ("int", "population"), " inwoners"),),))
    >>> group = zone_columns_layer(frame, "Raster", "fills", source=zone_source(elz), tips=tips,
    ...                            texts=ZoneTexts("inwoners")).add_to(m)
    >>> group.layer_name, "inwoners" in render(m)
    ('Raster', True)
    """
    styles: list[dict] = []
    style_index: dict[str, int] = {}

    def intern(value: dict) -> int:
        key = json.dumps(value, sort_keys=True)
        if key not in style_index:
            style_index[key] = len(styles)
            styles.append(value)
        return style_index[key]

    # A map of many zones gives the zones of one class the same dict object: serialise each once.
    by_object: dict[int, int] = {}
    style_of = []
    for value in frame["_style"]:
        number = by_object.get(id(value))
        if number is None:
            number = by_object[id(value)] = intern(value)
        style_of.append(number)
    hover: list[int | None] = [None] * len(styles)
    if tips is not None and "_hover" in frame.columns:
        for st, hv in zip(style_of, frame["_hover"]):
            if hover[st] is None:
                hover[st] = intern(hv)
    hover += [None] * (len(styles) - len(hover))
    codes = frame["code"].astype(str).tolist()
    columns: dict[str, list] = {"code": codes, "style": style_of}
    if tips is not None:
        columns["name"] = frame["name"].astype(str).tolist()
        if "_tip" in frame.columns:
            columns["tip"] = [int(v) for v in frame["_tip"]]
        for column, how in tips.columns().items():
            columns[column] = _column(frame[column], how)
    if members is not None and "population" not in columns:
        columns["population"] = _column(frame["population"], "int")
    carried = None
    if members is not None:
        carried = [[[int(nis), str(muni), round(float(share), 6), int(round(float(people)))]
                    for muni, nis, share, people in members.get(code, [])] for code in codes]
    group = folium.FeatureGroup(name=style.esc(name), show=show, control=control)
    group.rm_columns = columns  # what this layer draws, by zone (tests and scripts read it)
    group.rm_view = (frame, pane, show)  # the same view drawn as a PNG by maps.static_map
    group.rm_styles = styles
    group.add_child(_ZoneColumns(source, columns, styles, hover, tips, texts, carried, popups, pane))
    return group


def _column(values, how: str) -> list:
    """A column of the frame as the browser reads it: whole numbers, percentages with one decimal
    (as the server rounded them), or text."""
    if how in ("int", "count", "pick"):
        return [int(round(float(v))) for v in values]
    if how == "pct":
        return [round(float(v), 1) for v in values]
    return [str(v) for v in values]


class _Labels(MacroElement):
    """Text labels as ``L.divIcon`` markers (the text set as textContent, never HTML), never in
    the way of the mouse; overlapping ones are moved or hidden by priority in the browser."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        regiomatch.labels({{ this.map_name }}, {{ this._parent.get_name() }}, {{ this.points_js }},
                          {{ this.css|tojson }});
        {% endmacro %}
    """)

    def __init__(self, points: list[list], css: str):
        super().__init__()
        self._name = "Labels"
        self.points, self.css = points, css
        self.rm_labels = points  # drawn by maps.static_map too

    def render(self, **kwargs) -> None:
        self.map_name = _map_of(self._parent).get_name()
        # A map may label 10,000 zones: no spaces, and no priority where it is the default 0.
        self.points_js = js_value([p if p[3] else p[:3] for p in self.points], compact=True)
        super().render(**kwargs)


def add_labels(m: folium.Map | folium.FeatureGroup, frame: gpd.GeoDataFrame, text_column: str,
               small: bool = False, priority: int = 0) -> None:
    """Text labels at a point inside each polygon (EPSG:4326 frame). Where labels collide the
    browser keeps the lower ``priority`` in place and moves or hides the other.

    Examples
    --------
    >>> add_labels(m, zones(elz), "name", small=True, priority=1)
    """
    points = [[round(p.y, 5), round(p.x, 5), str(text), priority]
              for p, text in zip(frame.geometry.representative_point(), frame[text_column])
              if p is not None and not p.is_empty]
    m.add_child(_Labels(points, "rm-label rm-label-small" if small else "rm-label"))


class _Fit(MacroElement):
    """Open on the subject: ``fitBounds`` without animation, clear of the title, legend and
    attribution as they are laid out in the browser."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        regiomatch.fit({{ this._parent.get_name() }}, {{ this.bounds|tojson }});
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "Fit"
        self.bounds = bounds


def fit(m: folium.Map, frame: gpd.GeoDataFrame) -> None:
    """Fit the view to the polygons of a EPSG:4326 frame (call after the legend is added)."""
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
    m.rm_bounds = (minx, miny, maxx, maxy)
    m.add_child(_Fit([[miny, minx], [maxy, maxx]]))


# -- geometry: geo.geometry.polygons prepares and caches it, so the same outlines serve every request ----------
def municipality_source(data_dir: Path = SHIPPED_DATA, detail: str = DETAIL) -> GeometrySource:
    """The municipal outlines as a page references them."""
    return GeometrySource(None, detail, Path(data_dir))


def zone_source(layer: Layer, data_dir: Path = SHIPPED_DATA, detail: str = DETAIL) -> GeometrySource:
    """A layer's zone outlines as a page references them."""
    return GeometrySource(layer, detail, Path(data_dir))


def municipalities(atoms: Atoms, data_dir: Path = SHIPPED_DATA, detail: str = DETAIL) -> gpd.GeoDataFrame:
    """The municipalities in EPSG:4326 (as served) with name, population and region, indexed by NIS code."""
    frame = web_municipalities(detail, data_dir).set_index("nis_code")
    table = atoms.table.reindex(frame.index)
    frame["name"] = table["name"]
    frame["population"] = table["population"]
    frame["flemish"] = (table["region"] == "Vlaams Gewest").to_numpy()
    return frame.drop(columns=["code"])


def zones(layer: Layer, data_dir: Path = SHIPPED_DATA, detail: str = DETAIL,
          codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Zones of a layer in EPSG:4326 (as served) with population, member count and whether the
    zone lies in Brussels (all its members are Brussels municipalities). Zones without geometry
    are dropped."""
    frame = web_zones(layer, detail, data_dir)
    if codes is not None:
        wanted = {str(c) for c in codes}
        frame = frame[frame["code"].astype(str).isin(wanted)]
    summary = layer.summary().set_index("code")
    frame["population"] = frame["code"].map(summary["population"]).to_numpy()
    frame["members"] = frame["code"].map(summary["members"]).to_numpy()
    frame["brussels"] = frame["code"].map(dict(zip(layer.zone_codes, brussels_zones(layer)))).to_numpy()
    return frame.reset_index(drop=True)


def brussels_zones(layer: Layer) -> np.ndarray:
    """Per zone: True when none of its members is Flemish (shown grey, never judged)."""
    return ~layer.flemish_zones()


@lru_cache(maxsize=64)
def zone_colours(layer: Layer, data_dir: Path = SHIPPED_DATA) -> dict[str, str]:
    """A fill colour per zone code such that touching (and nearly touching) zones differ (greedy
    graph colouring; a layer of zones that overlap each other, such as the register of 286
    associations, can need more colours than there are: its colours repeat).

    Presentation only: zones that share a border get different colours so each zone reads as one
    patch; the colours carry no meaning.
    """
    metric = zone_polygons(layer, Path(data_dir))
    metric = metric[metric.geometry.notna() & ~metric.geometry.is_empty].reset_index(drop=True)
    # Bounding boxes first: a layer whose zones pile up on one place (thousands of zones on one
    # municipality) would make buffering and the exact test quadratic; its colours cannot differ anyway.
    tree = shapely.STRtree(metric.geometry.values)
    boxes = shapely.buffer(shapely.envelope(metric.geometry.values), NEAR_METRES, join_style="mitre")
    if len(tree.query(boxes)[0]) > MAX_COLOUR_PAIRS_PER_ZONE * max(len(metric), 1):
        return {code: style.ZONE_COLOURS[i % len(style.ZONE_COLOURS)] for i, code in enumerate(layer.zone_codes)}
    # Zones within NEAR_METRES of each other: the same pairs as buffering every zone and
    # intersecting, without building the buffers (8x faster).
    left, right = tree.query(metric.geometry.values, predicate="dwithin", distance=NEAR_METRES)
    keep = left != right
    codes = metric["code"].astype(str).to_numpy()
    colouring = greedy_colouring(layer.zone_codes, zip(codes[left[keep]], codes[right[keep]]))
    return {code: style.ZONE_COLOURS[i % len(style.ZONE_COLOURS)] for code, i in colouring.items()}


def zones_text(entries: list[tuple[str, str, float]]) -> str:
    """``code – name`` of the zones a municipality is in (with its share when partial), as HTML."""
    if not entries:
        return '<span class="rm-muted">in geen zone</span>'
    parts = []
    for code, name, share in entries[:MAX_ZONES_NAMED]:
        part = f"{style.esc(name)} <span class=\"rm-muted\">({style.esc(code)})</span>"
        if share < 0.999:
            part += f" voor {style.nl_pct(share)}"
        parts.append(part)
    return "; ".join(parts) + more_text(len(entries) - MAX_ZONES_NAMED)


def more_text(hidden: int) -> str:
    """``" en 12 andere"`` after a capped list (empty when nothing was left out).

    Examples
    --------
    >>> more_text(1992)
    ' en 1.992 andere'
    """
    return f" en {style.nl_int(hidden)} andere" if hidden > 0 else ""
