"""Scenario map: today's zoning and a scenario side by side, panned and zoomed together; the
moved municipalities outlined in purple and the zones failing a population norm in dashed red,
on both sides, so a proposal is judged by what it changes."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Figure, MacroElement
from jinja2 import Template

from geo import dutch
from geo.engine.layer import Layer
from geo.engine.scenario import moved
from geo.paths import SHIPPED_DATA
from geo.reference.norms import PopulationNorm, check_population
from maps import base, style
from maps.assets import AssetMode


class _Sync(MacroElement):
    """Keep two maps on the same view (a few lines instead of the Leaflet.Sync plugin)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function(a, b) {
            var busy = false;
            function follow(src, dst) {
                src.on('move zoomend', function() {
                    if (busy) { return; }
                    busy = true;
                    dst.setView(src.getCenter(), src.getZoom(), {animate: false});
                    busy = false;
                });
            }
            follow(a, b);
            follow(b, a);
            // Once the page is laid out (the two maps side by side, the legend drawn), fit the map
            // with the legend to the subject and give the other exactly its view: both open on the
            // same place at the same zoom, whatever size each had when its own fit ran.
            function together() {
                a.invalidateSize(false);
                b.invalidateSize(false);
                regiomatch.fit(b, {{ this.bounds|tojson }});
                busy = true;
                a.setView(b.getCenter(), b.getZoom(), {animate: false});
                busy = false;
            }
            if (document.readyState === 'complete') { together(); }
            else { window.addEventListener('load', function () { setTimeout(together, 0); }); }
        })({{ this.left.get_name() }}, {{ this.right.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, left: folium.Map, right: folium.Map, bounds: list[list[float]]):
        super().__init__()
        self._name = "Sync"
        self.left, self.right, self.bounds = left, right, bounds


def scenario_map(base_layer: Layer, scenario: Layer, norm: PopulationNorm | None = None,
                 context: Layer | None = None, *,
                 data_dir: Path = SHIPPED_DATA, assets: AssetMode = "inline",
                 detail: str = base.DETAIL) -> folium.Map:
    """Today's zoning (left) against a scenario of it (right).

    Parameters
    ----------
    base_layer, scenario : Layer
        The scenario must have the base layer's zones (``geo.engine.scenario.apply_moves``).
    norm : PopulationNorm, optional
        Zones failing it are flagged on both sides (``norm_for(scenario, base_layer.id)``).
    context : Layer, optional
        The associations (e.g. ``samenwerkingsverband``) whose fit the moves are about: the zones
        of this layer that hold a moved municipality are drawn as bold outlines on both sides.

    Returns
    -------
    folium.Map
        The right-hand map; render its figure (``maps.render``) to get both.

    Examples
    --------
    >>> from geo.engine.scenario import Move, apply_moves
    >>> from geo.reference.norms import ZONE_MINIMUM_60K
    >>> html = base.render(scenario_map(elz, apply_moves(elz, [Move(34025, "elz18")]), ZONE_MINIMUM_60K))
    >>> "Lendelede" in html
    True
    """
    changes = moved(base_layer, scenario)
    moved_codes = {c["nis_code"] for c in changes}
    year = base_layer.atoms.population_year
    colours = base.zone_colours(base_layer, data_dir)
    munis = base.municipalities(base_layer.atoms, data_dir, detail)
    failing = {side.id: _failing(side, norm) for side in (base_layer, scenario)}
    associations = _associations(context, moved_codes, data_dir, detail)

    figure = Figure()
    place = {"width": "50%", "height": "100%", "top": "0%", "position": "absolute"}
    maps = []
    for side, left, label in ((base_layer, "0%", "Vandaag"), (scenario, "50%", "Scenario")):
        title = f"{label}: {base_layer.name}" if side is base_layer else f"{label}: {scenario.name}"
        subtitle = _subtitle(side, changes, norm, failing[side.id], side is base_layer)
        m = base.new_map(title, subtitle, year, assets, figure=figure, left=left, **place)
        _draw_side(m, side, base_layer, scenario, munis, colours, moved_codes, failing[side.id], norm, data_dir,
                   detail)
        if associations is not None:
            base.feature_layer(associations, f"{context.name} (randen)", "outlines", interactive=True,
                               source=base.zone_source(context, data_dir, detail)).add_to(m)
            base.add_labels(m, associations, "code", priority=0)
        maps.append(m)
    left_map, right_map = maps

    rows = [style.LegendRow(style.fill_swatch(style.ZONE_COLOURS[0], style.ZONE_BORDER),
                            f"{base_layer.name}: zelfde kleur links en rechts = zelfde zone", strong=True),
            style.LegendRow(style.outline_swatch(style.MOVED, 3), "Verplaatste gemeente", strong=True)]
    if associations is not None:
        for _, row in associations.iterrows():
            rows.append(style.LegendRow(style.outline_swatch(style.OUTLINE, 3), f"{row['name']} ({row['code']})",
                                        strong=True))
    if norm is not None:
        rows.append(style.LegendRow(style.outline_swatch(style.FAIL, 3, dashed=True),
                                    f"haalt de norm niet: {norm.label}"))
    if not munis["flemish"].all():
        rows.append(style.LegendRow(style.fill_swatch(style.BRUSSELS_FILL), "Brussel: getoond, niet beoordeeld"))
    notes = [f"Inwoners: Statbel, 1 januari {year}.", "Beide kaarten bewegen samen."]
    if norm is None:
        notes.insert(0, "Voor deze laag is geen bevolkingsnorm ingesteld.")
    style.add_legend(right_map, "Legende", rows, notes=notes)
    for m in maps:
        folium.LayerControl(collapsed=True, position="topright").add_to(m)

    # Open on the zones the moves touch (both the zones they leave and the ones they join).
    touched = {z for c in changes for z in (*c["from_zones"], *c["to_zones"])}
    extent = base.zones(base_layer, data_dir, detail, codes=touched) if touched else None
    if extent is None or not len(extent):
        extent = base.zones(base_layer, data_dir, detail)
    for m in maps:
        base.fit(m, extent)
    minx, miny, maxx, maxy = (float(v) for v in extent.total_bounds)
    if associations is not None and len(associations):
        # The associations drawn (W13 around Lendelede) are what the moves are about: whole, too.
        ax0, ay0, ax1, ay1 = (float(v) for v in associations.total_bounds)
        minx, miny, maxx, maxy = min(minx, ax0), min(miny, ay0), max(maxx, ax1), max(maxy, ay1)
    right_map.add_child(_Sync(left_map, right_map, [[miny, minx], [maxy, maxx]]))
    return right_map


def _associations(context: Layer | None, moved_codes: set[int], data_dir: Path, detail: str):
    """The zones of ``context`` that hold a moved municipality, styled as bold outlines (or None)."""
    if context is None or not moved_codes:
        return None
    codes = {code for nis in moved_codes for code, _, _ in context.zones_of(nis)}
    if not codes:
        return None
    frame = base.zones(context, data_dir, detail, codes=sorted(codes)[:base.MAX_ZONES_NAMED])
    if not len(frame):
        return None
    frame["_style"] = [{"fill": False, "color": style.OUTLINE, "weight": 4.0, "opacity": 1.0}] * len(frame)
    frame["_tip"] = [f"<b>{style.esc(r['name'])}</b> <span class=\"rm-muted\">({style.esc(r['code'])}, "
                     f"{style.esc(context.name)})</span><br>{dutch.municipalities(r['members'])}"
                     for _, r in frame.iterrows()]
    return frame


def _failing(layer: Layer, norm: PopulationNorm | None) -> set[str]:
    if norm is None:
        return set()
    checked = check_population(layer, norm)
    return set(checked.loc[~checked["passes"], "code"].astype(str))


def _subtitle(layer: Layer, changes: list[dict], norm: PopulationNorm | None, failing: set[str], today: bool) -> str:
    parts = [] if today else [f"{dutch.municipalities(len(changes))} verplaatst"]
    if norm is not None:
        parts.append(f"{len(failing)} zones halen de norm niet ({norm.label})")
    else:
        parts.append(f"{len(layer)} zones")
    return "; ".join(parts)


def _draw_side(m: folium.Map, layer: Layer, base_layer: Layer, scenario: Layer, munis: gpd.GeoDataFrame,
               colours: dict[str, str], moved_codes: set[int], failing: set[str], norm: PopulationNorm | None,
               data_dir: Path, detail: str) -> None:
    year = layer.atoms.population_year
    zones = base.zones(layer, data_dir, detail)
    zones["_style"] = [
        {"fillColor": style.BRUSSELS_FILL if brussels else colours.get(code, style.ZONE_COLOURS[0]),
         "fillOpacity": 0.62, "color": style.FAIL if code in failing else style.ZONE_BORDER,
         "weight": 3.5 if code in failing else 1.6, "dashArray": "7 5" if code in failing else None, "opacity": 1.0}
        for code, brussels in zip(zones["code"], zones["brussels"])]
    base.feature_layer(zones, f"{layer.name} (zones)", "fills", interactive=False,
                       source=base.zone_source(layer, data_dir, detail)).add_to(m)

    frame = munis.copy()
    base_population = layer.summary().set_index("code")["population"]
    tips = []
    for nis, row in frame.iterrows():
        today, proposed = base_layer.zones_of(nis), scenario.zones_of(nis)
        lines = [f"<b>{style.esc(row['name'])}</b> <span class=\"rm-muted\">NIS {nis}</span>",
                 f"{style.nl_int(row['population'])} {style.population_label(year)}",
                 f"<i>vandaag:</i> {base.zones_text(today)}", f"<i>scenario:</i> {base.zones_text(proposed)}"]
        for code, name, _ in layer.zones_of(nis):
            verdict = ""
            if not row["flemish"]:
                verdict = " (niet beoordeeld)"
            elif norm is not None:
                verdict = " — haalt de norm niet" if code in failing else " — haalt de norm"
            lines.append(f"zone {style.esc(name)}: {style.nl_int(base_population.loc[code])} inwoners"
                         + (f'<span class="rm-warn">{verdict}</span>' if code in failing and row["flemish"]
                            else verdict))
        if nis in moved_codes:
            lines.append('<span class="rm-warn" style="color:' + style.MOVED + '">verplaatst in dit scenario</span>')
        tips.append("<br>".join(lines))
    frame["_tip"] = tips
    frame["_style"] = [{"fillColor": "#ffffff", "fillOpacity": 0.0, "color": style.BOUNDARY, "weight": 0.5,
                        "opacity": 0.8}] * len(frame)
    frame["_hover"] = [{"fillColor": "#ffffff", "fillOpacity": 0.0, "color": "#222222", "weight": 2.5}] * len(frame)
    base.feature_layer(frame, "Gemeenten", "municipalities",
                       source=base.municipality_source(data_dir, detail)).add_to(m)

    if moved_codes:
        shifted = munis[munis.index.isin(list(moved_codes))].copy()
        shifted["_style"] = [{"fill": False, "color": style.MOVED, "weight": 3.5, "opacity": 1.0}] * len(shifted)
        base.feature_layer(shifted, "Verplaatste gemeenten", "highlight", interactive=False,
                           source=base.municipality_source(data_dir, detail)).add_to(m)
        base.add_labels(m, shifted, "name", small=True, priority=1)
    # Every zone is named; where names collide the failing zones keep their place first.
    failing_zones = zones["code"].isin(pd.Index(sorted(failing)))
    base.add_labels(m, zones[failing_zones], "name", small=True, priority=2)
    base.add_labels(m, zones[~failing_zones], "name", small=True, priority=3)
