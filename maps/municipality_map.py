"""Municipality map: "which structures am I part of?" One municipality and, layer by layer, every
zone it belongs to, each layer a toggle in the layer control and a line in the legend."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import folium
import geopandas as gpd
import pandas as pd

from geo import dutch
from geo.engine.layer import Layer
from geo.paths import METRIC_CRS, SHIPPED_DATA
from maps import base, style
from maps.assets import AssetMode

# Layers whose zone is the municipality itself add nothing to this view.
SKIPPED_LAYERS = ("gemeente",)
# A layer in which the municipality lies in more zones than this starts hidden (toggle it on).
MAX_SHOWN_ZONES = 3
# A popup names at most this many member municipalities of a zone ("en N andere" after).
MAX_MEMBERS_NAMED = 60


def municipality_map(nis_code: int, layers: Sequence[Layer], *, data_dir: Path = SHIPPED_DATA,
                     assets: AssetMode = "inline", detail: str = "fine") -> folium.Map:
    """Map a municipality with the zones it belongs to in each layer.

    Parameters
    ----------
    nis_code : int
        A 2025 NIS code (unknown codes raise ``UnknownMunicipality``).
    layers : sequence of Layer
        The layers to look in, in the order they are listed.

    Examples
    --------
    >>> "Kortrijk" in base.render(municipality_map(34022, catalog.layers()))
    True
    """
    layers = [layer for layer in layers if layer.id not in SKIPPED_LAYERS]
    if not layers:
        raise ValueError("municipality_map needs at least one layer")
    atoms = layers[0].atoms
    atoms.position(nis_code)
    name = atoms.name(nis_code)
    year = atoms.population_year
    flemish = bool(atoms.flemish[atoms.position(nis_code)])

    memberships = [(layer, layer.zones_of(nis_code)) for layer in layers]
    member_of = [(layer, zones) for layer, zones in memberships if zones]
    subtitle = (f"NIS {nis_code} · {style.nl_int(atoms.population(nis_code))} {style.population_label(year)} · "
                f"in {len(member_of)} van {len(layers)} lagen")
    m = base.new_map(f"{name}: van welke structuren maakt de gemeente deel uit?", subtitle, year, assets)

    munis = base.municipalities(atoms, data_dir, detail)
    muni_source = base.municipality_source(data_dir, detail)
    munis["_style"] = [{"fillColor": "#ffffff", "fillOpacity": 0.35, "color": style.BOUNDARY, "weight": 0.6,
                        "opacity": 0.8}] * len(munis)
    munis["_hover"] = [{"fillColor": "#ffffff", "fillOpacity": 0.35, "color": "#222222", "weight": 2.0}] * len(munis)
    munis["_tip"] = [f"<b>{style.esc(r['name'])}</b> <span class=\"rm-muted\">NIS {n}</span><br>"
                     f"{style.nl_int(r['population'])} {style.population_label(year)}" for n, r in munis.iterrows()]
    base.feature_layer(munis, "Gemeentegrenzen", "fills", source=muni_source).add_to(m)

    rows: list[style.LegendRow] = []
    shown_frames: list[gpd.GeoDataFrame] = []
    for i, (layer, zones_of) in enumerate(memberships):
        colour = style.LAYER_COLOURS[i % len(style.LAYER_COLOURS)]
        if not zones_of:
            rows.append(style.LegendRow(style.outline_swatch("#bbbbbb", 1), f"{layer.name}: in geen zone"))
            continue
        # A municipality in thousands of zones of one (imported) layer: draw and name a bounded few.
        shown = zones_of[:base.MAX_ZONES_NAMED]
        codes = [code for code, _, _ in shown]
        frame = base.zones(layer, data_dir, detail, codes=codes)
        if not len(frame):
            continue
        dash = None if i % 2 == 0 else "8 5"
        frame["_style"] = [{"fill": True, "fillColor": colour, "fillOpacity": 0.0, "color": colour,
                            "weight": 3.5, "opacity": 0.95, "dashArray": dash}] * len(frame)
        frame["_hover"] = [{"fillColor": colour, "fillOpacity": 0.25, "color": colour, "weight": 6.0,
                            "dashArray": dash}] * len(frame)
        frame["_tip"] = [_zone_tip(layer, row, year) for _, row in frame.iterrows()]
        frame["_pop"] = [_zone_popup(layer, row, year) for _, row in frame.iterrows()]
        label = "; ".join(f"{zone_name} ({code})" + (f" voor {style.nl_pct(share)}" if share < 0.999 else "")
                          for code, zone_name, share in shown) + base.more_text(len(zones_of) - len(shown))
        # A register of many overlapping associations would cover every other outline: off until asked for.
        group = folium.FeatureGroup(name=style.esc(f"{layer.name}: {label}"), show=len(zones_of) <= MAX_SHOWN_ZONES)
        base.feature_layer(frame, layer.name, "outlines", control=False,
                           source=base.zone_source(layer, data_dir, detail)).add_to(group)
        group.add_to(m)
        rows.append(style.LegendRow(style.outline_swatch(colour, 3, dashed=dash is not None), f"{layer.name}: {label}"))
        if len(zones_of) <= MAX_SHOWN_ZONES:
            shown_frames.append(frame)

    # The municipality itself, on top of every zone outline.
    own = munis.loc[[nis_code]].copy()
    own["_style"] = [{"fillColor": "#ffd400", "fillOpacity": 0.75, "color": "#111111", "weight": 3.0, "opacity": 1.0}]
    own = own.drop(columns=["_hover"])
    base.feature_layer(own, name, "highlight", source=muni_source).add_to(m)
    base.add_labels(m, own, "name")

    rows.insert(0, style.LegendRow(style.fill_swatch("#ffd400", "#111111"), name, strong=True))
    notes = [f"Inwoners: Statbel, 1 januari {year}.", "Zet lagen aan of uit met de laagknop rechtsboven."]
    if not flemish:
        notes.insert(0, style.BRUSSELS_NOTE + ".")
    style.add_legend(m, "Structuren waarvan de gemeente deel uitmaakt", rows, notes=notes)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    # One zone per layer (its smallest): a layer of many large associations must not outweigh the rest.
    smallest = [f.iloc[[int(f.to_crs(METRIC_CRS).area.to_numpy().argmin())]][["geometry"]] for f in shown_frames]
    extent = pd.concat([own[["geometry"]], *smallest])
    # Open on the local structures: a province would shrink the municipality to a dot.
    areas = extent.to_crs(METRIC_CRS).area
    extent = extent[areas <= 4 * areas.median()]
    base.fit(m, gpd.GeoDataFrame(extent, geometry="geometry", crs=own.crs))
    return m


def _zone_tip(layer: Layer, row, year: int) -> str:
    return (f"<i>{style.esc(layer.name)}</i><br><b>{style.esc(row['name'])}</b> "
            f"<span class=\"rm-muted\">({style.esc(row['code'])})</span><br>"
            f"{dutch.municipalities(row['members'])}, {style.nl_int(row['population'])} {style.population_label(year)}")


def _zone_popup(layer: Layer, row, year: int) -> str:
    members = layer.members(str(row["code"]))
    listed = list(members["municipality"][:MAX_MEMBERS_NAMED])
    names = ", ".join(style.esc(n) for n in listed) + base.more_text(len(members) - len(listed))
    return (f'<div class="rm-popup"><h4>{style.esc(row["name"])} <span class="rm-muted">({style.esc(row["code"])})'
            f"</span></h4><i>{style.esc(layer.name)}</i><br>{dutch.municipalities(row['members'])}, "
            f"{style.nl_int(row['population'])} {style.population_label(year)}<br>{names}</div>")
