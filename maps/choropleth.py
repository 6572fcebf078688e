"""Population choropleth: the zones of any layer coloured by their inhabitants. A layer with a
population norm (``geo.reference.norms.norm_for``, e.g. the primary care zones) gets the policy norms
(60.000 and 100.000 inhabitants) as class boundaries in the legend and its failing zones outlined
in red; a layer without one (municipalities, police zones...) gets plain classes and no norm.

A layer of more than ``base.MANY_ZONES`` zones (an imported grid of 10,000 squares) is drawn from
numbers per zone: the browser writes each tooltip from them and fetches a zone's members when it is
clicked, instead of the page carrying a tooltip and a popup text for every zone."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import folium
import numpy as np

from geo import dutch
from geo.engine.layer import Layer
from geo.errors import InvalidInput
from geo.paths import SHIPPED_DATA
from geo.reference.norms import NORM_LINES, NORMS, PopulationNorm, check_population
from maps import base, style
from maps.assets import AssetMode

MAX_MEMBERS_NAMED = 60  # members listed in a zone's popup before "en N andere"
# A zone's tooltip on a map of many zones (_zone_tips): without a status line, or saying that it lies
# in Brussels, passes the norm or fails it.
_PLAIN, _BRUSSELS, _PASSES, _FAILS = 0, 1, 2, 3
MAX_NORM = 100_000_000  # far above any zone; keeps the class edges finite
_BELOW = ("#fdae6b", "#fee6ce")  # under the lowest norm: oranges, darker = further below
_ABOVE = ("#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c")


def population_classes(norm_lines: Sequence[int]) -> tuple[list[float], list[str]]:
    """Class edges around the norm lines and a colour per class.

    Half the lowest norm and twice the highest bound the outer classes, so a zone far below or
    far above the norms stands out.

    Examples
    --------
    >>> population_classes((60000, 100000))[0]
    [30000.0, 60000.0, 100000.0, 200000.0]
    """
    lines = sorted({int(v) for v in norm_lines})
    if not lines or lines[0] <= 0 or lines[-1] > MAX_NORM:
        raise InvalidInput(f"population norms must be whole numbers between 1 and {MAX_NORM:,}, "
                           f"got {list(norm_lines)}")
    if len(lines) > len(_ABOVE) - 1:
        raise InvalidInput(f"at most {len(_ABOVE) - 1} population norms can be drawn, got {len(lines)}")
    edges = [lines[0] / 2, *map(float, lines), lines[-1] * 2.0]
    above = len(edges) + 1 - len(_BELOW)
    picks = np.linspace(0, len(_ABOVE) - 1, above).round().astype(int)
    return edges, [*_BELOW, *(_ABOVE[i] for i in picks)]


def population_breaks(population: Sequence[float], classes: int = 5) -> list[float]:
    """Class edges for a layer without a norm: quintiles rounded to two significant digits.

    Examples
    --------
    >>> population_breaks([1_000, 12_345, 23_456, 34_567, 45_678, 156_789])
    [12000.0, 23000.0, 35000.0, 46000.0]
    """
    values = np.asarray([v for v in population if v > 0], dtype=float)
    if not len(values):
        return [1.0]
    edges = []
    for q in np.linspace(0, 1, classes + 1)[1:-1]:
        value = float(np.quantile(values, q))
        digits = max(int(np.floor(np.log10(value))) - 1, 0) if value > 0 else 0
        rounded = float(round(value / 10 ** digits) * 10 ** digits)
        if rounded > 0 and rounded not in edges:
            edges.append(rounded)
    return sorted(edges) or [float(values.max())]


def _norm_line_words(value: int, norm: PopulationNorm | None) -> str:
    """What a norm line in the legend stands for: this layer's own norm, or another one quoted.

    Examples
    --------
    >>> from geo.reference.norms import ZONE_MINIMUM_60K
    >>> _norm_line_words(60_000, ZONE_MINIMUM_60K)
    'norm: 60.000 inwoners (de norm van deze laag)'
    >>> _norm_line_words(100_000, ZONE_MINIMUM_60K)
    "norm: 100.000 inwoners (een andere norm die voor regio's geciteerd wordt; hier niet getoetst)"
    """
    words = f"norm: {style.nl_int(value)} inwoners"
    if norm is not None and value in (norm.minimum, norm.maximum):
        return f"{words} (de norm van deze laag)"
    if not any(value in (n.minimum, n.maximum) for n in NORMS.values()):
        return words
    if norm is None:
        return f"{words} (een norm die voor regio's geciteerd wordt)"
    return f"{words} (een andere norm die voor regio's geciteerd wordt; hier niet getoetst)"


def population_map(layer: Layer, norm: PopulationNorm | None = None, norm_lines: Sequence[int] | None = None, *,
                   data_dir: Path = SHIPPED_DATA, assets: AssetMode = "inline",
                   detail: str = base.DETAIL) -> folium.Map:
    """Colour the zones of ``layer`` by population.

    Parameters
    ----------
    norm : PopulationNorm, optional
        Zones failing it get a red dashed outline (e.g. ``norm_for(layer)``); Brussels zones are
        never judged.
    norm_lines : sequence of int, optional
        Thresholds drawn as norms (class boundaries) in the legend; by default ``NORM_LINES``
        when the layer has a norm, none otherwise (the classes are then quintiles).

    Examples
    --------
    >>> from geo.reference.norms import norm_for
    >>> "Eerstelijnszones" in base.render(population_map(elz, norm_for(elz)))
    True
    """
    year = layer.atoms.population_year
    if norm_lines is None and norm is not None:
        norm_lines = NORM_LINES
    zones = base.zones(layer, data_dir, detail)
    if norm_lines:
        edges, colours = population_classes(norm_lines)
    else:
        norm_lines = ()
        edges = population_breaks(layer.summary()["population"])
        picks = np.linspace(0, len(_ABOVE) - 1, len(edges) + 1).round().astype(int)
        colours = [_ABOVE[i] for i in picks]
    failing: set[str] = set()
    if norm is not None:
        checked = check_population(layer, norm)
        failing = set(checked.loc[~checked["passes"], "code"].astype(str))

    subtitle = f"{style.nl_int(len(layer))} zones, {style.population_label(year)}"
    if norm is not None:
        subtitle += f"; {len(failing)} halen de norm niet ({norm.label})"
    m = base.new_map(f"{layer.name}: inwoners per zone", subtitle, year, assets)

    classes = np.digitize(zones["population"].astype(float), edges, right=False)
    looks: dict[tuple, tuple[dict, dict]] = {}  # one style pair per kind of zone, shared by its zones
    pairs = []
    for code, brussels, c in zip(zones["code"], zones["brussels"], classes):
        key = (bool(brussels), int(c), code in failing)
        if key not in looks:
            looks[key] = _looks(colours, *key)
        pairs.append(looks[key])
    zones["_style"] = [normal for normal, _ in pairs]
    zones["_hover"] = [hover for _, hover in pairs]
    name = f"{layer.name} (inwoners)"
    source = base.zone_source(layer, data_dir, detail)
    if len(zones) > base.MANY_ZONES:
        # Thousands of zones: the page carries numbers per zone, the browser writes the tooltip and
        # fetches a zone's members when it is clicked (prebuilt texts made a page of megabytes).
        zones["_tip"] = [_BRUSSELS if brussels else _PLAIN if norm is None else _FAILS if code in failing else _PASSES
                         for code, brussels in zip(zones["code"], zones["brussels"])]
        fills = base.zone_columns_layer(zones, name, "fills", source=source, tips=_zone_tips(norm, year),
                                        texts=base.ZoneTexts(population=style.population_label(year),
                                                             max_members=MAX_MEMBERS_NAMED),
                                        members=_members_by_zone(layer) if assets == "inline" else None)
    else:
        rows = zones[["code", "name", "population", "members", "brussels"]].to_dict("records")
        zones["_tip"] = [_zone_tip(row, layer, norm, row["code"] in failing, year) for row in rows]
        members = _members_by_zone(layer)
        zones["_pop"] = [_zone_popup(row, members.get(str(row["code"]), []), year) for row in rows]
        fills = base.feature_layer(zones, name, "fills", source=source)
    fills.add_to(m)

    munis = base.municipalities(layer.atoms, data_dir, detail)
    coverage = dict(zip(layer.atoms.nis_codes.astype(int), layer.coverage()))
    gaps = [coverage.get(int(n), 0.0) <= 0 for n in munis.index]
    munis["_style"] = [
        {"fillColor": (style.NO_ZONE_FILL if flemish else style.BRUSSELS_FILL) if gap else "#ffffff",
         "fillOpacity": 0.9 if gap else 0.0, "color": style.BOUNDARY, "weight": 0.4, "opacity": 0.7}
        for gap, flemish in zip(gaps, munis["flemish"])]
    base.feature_layer(munis, "Gemeentegrenzen", "municipalities", interactive=False,
                       source=base.municipality_source(data_dir, detail)).add_to(m)

    rows = [style.LegendRow(style.fill_swatch(colours[0]),
                            f"minder dan {style.nl_int(edges[0])}")] if len(edges) else []
    for i in range(1, len(edges)):
        if edges[i - 1] in {float(v) for v in norm_lines}:
            rows.append(style.LegendRow(style.line_swatch(), _norm_line_words(int(edges[i - 1]), norm), strong=True))
        rows.append(style.LegendRow(style.fill_swatch(colours[i]),
                                    f"{style.nl_int(edges[i - 1])} tot {style.nl_int(edges[i])}"))
    rows.append(style.LegendRow(style.fill_swatch(colours[-1]), f"{style.nl_int(edges[-1])} of meer"))
    if norm is not None:
        rows.append(style.LegendRow(style.outline_swatch(style.FAIL, 3, dashed=True),
                                    f"haalt de norm niet: {norm.label}",
                                    strong=True))
    if zones["brussels"].any() or not munis["flemish"].all():
        rows.append(style.LegendRow(style.fill_swatch(style.BRUSSELS_FILL), "Brussel: getoond, niet beoordeeld"))
    if any(g and f for g, f in zip(gaps, munis["flemish"])):
        rows.append(style.LegendRow(style.fill_swatch(style.NO_ZONE_FILL), "In geen zone van deze laag"))
    style.add_legend(m, f"Inwoners per zone ({'1/1/' + str(year)})", rows,
                     notes=[f"Bron: Statbel, bevolking op 1 januari {year}.", "Beweeg over een zone voor de cijfers."])
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    base.fit(m, zones if len(zones) else munis)
    return m


def _looks(colours: Sequence[str], brussels: bool, c: int, fails: bool) -> tuple[dict, dict]:
    """The style of a zone of population class ``c`` and its style under the mouse."""
    normal = {"fillColor": style.BRUSSELS_FILL if brussels else colours[c], "fillOpacity": 0.85,
              "color": style.FAIL if fails else style.ZONE_BORDER, "weight": 3.5 if fails else 1.4,
              "dashArray": "7 5" if fails else None, "opacity": 1.0}
    hover = {**normal, "weight": normal["weight"] + 2,
             "color": "#000000" if normal["color"] != style.FAIL else style.FAIL}
    return normal, hover


def _members_by_zone(layer: Layer) -> dict[str, list[tuple]]:
    """Per zone code its members as ``(name, nis, share, inhabitants)``, by NIS code."""
    # All memberships read once and grouped: one lookup per zone would be quadratic in zones.
    table = layer.members()
    population = layer.atoms.table["population"].reindex(table["nis_code"]).to_numpy()
    members: dict[str, list[tuple]] = {}
    for code, name, nis, share, people in zip(table["zone_code"].astype(str), table["municipality"], table["nis_code"],
                                              table["share"], population * table["share"].to_numpy()):
        members.setdefault(code, []).append((name, nis, share, people))
    return members


def _zone_tips(norm: PopulationNorm | None, year: int) -> base.ZoneTips:
    """A zone's tooltip on a map of many zones, in the words :func:`_zone_tip` writes for a map of
    few: one template per status line (``_PLAIN``, ``_BRUSSELS``, ``_PASSES``, ``_FAILS``)."""
    numbers = (("", ("int", "population"), f" {style.population_label(year)}"),
               ("", ("count", "members", "gemeente", "gemeenten")))
    statuses = [(), (("rm-muted", style.BRUSSELS_NOTE),)]
    if norm is not None:
        statuses += [(("", f"haalt de norm: {norm.label}"),), (("rm-warn", f"haalt de norm niet: {norm.label}"),)]
    return base.ZoneTips(lines=tuple(numbers + status for status in statuses))


def _zone_tip(row, layer: Layer, norm: PopulationNorm | None, fails: bool, year: int) -> str:
    lines = [f"<b>{style.esc(row['name'])}</b> <span class=\"rm-muted\">({style.esc(row['code'])})</span>",
             f"{style.nl_int(row['population'])} {style.population_label(year)}",
             dutch.municipalities(row['members'])]
    if row["brussels"]:
        lines.append(f'<span class="rm-muted">{style.esc(style.BRUSSELS_NOTE)}</span>')
    elif norm is not None:
        lines.append(f'<span class="rm-warn">haalt de norm niet: {style.esc(norm.label)}</span>' if fails
                     else f"haalt de norm: {style.esc(norm.label)}")
    return "<br>".join(lines)


def _zone_popup(row, members: list[tuple], year: int) -> str:
    """The zone's members (``name, nis, share, inhabitants``), the first ``MAX_MEMBERS_NAMED`` by name."""
    items = "".join(
        f"<li>{style.esc(name)} ({nis}): {style.nl_int(people)}"
        + (f" (voor {style.nl_pct(share)})" if share < 0.999 else "") + "</li>"
        for name, nis, share, people in members[:MAX_MEMBERS_NAMED])
    if len(members) > MAX_MEMBERS_NAMED:
        items += f"<li>{base.more_text(len(members) - MAX_MEMBERS_NAMED).strip()}</li>"
    return (f'<div class="rm-popup"><h4>{style.esc(row["name"])} <span class="rm-muted">({style.esc(row["code"])})'
            f"</span></h4>{style.nl_int(row['population'])} {style.population_label(year)}<ul>{items}</ul></div>")
