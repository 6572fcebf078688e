"""Overlay map: layer B as coloured zones, layer A as bold outlines, and the municipalities that
sit outside their A-zone's dominant B-zone hatched in red.

It answers "where does my association cut across a primary care zone, and which members are on
the wrong side of the line?" at a glance; hovering a municipality gives its zones in both
layers, clicking gives the zone summaries.

A served map of a layer of more than ``base.MANY_ZONES`` zones (an imported grid of 10,000 squares)
carries no text per zone: its outlines' tooltips are written by the browser from per-zone numbers
(:func:`base.zone_columns_layer`), a zone's summary is fetched when its outline is clicked
(``ZONE_SUMMARY_URL``) and a municipality's popup, which names up to eight of its zones, when it
is clicked (``MUNICIPALITY_POPUP_URL``); fills of such a layer are drawn from a column of styles.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import folium
import pandas as pd

from geo import dutch
from geo.engine.areas import zone_summary
from geo.engine.details import ZoneDetail
from geo.engine.overlay import OverlayResult
from geo.paths import SHIPPED_DATA
from maps import base, style
from maps.assets import AssetMode

MAX_LISTED_ZONES = 12
# When the A-zones' summaries (what their outlines' popups show) come to more than this, a served
# page fetches a summary when its outline is clicked (``ZONE_SUMMARY_URL``) instead of carrying
# them all, and the members' popups name their A-zones in short: the register of 286 associations
# made a page of 1 MB of prebuilt popups.
FETCHED_SUMMARY_BYTES = 90_000
ZONE_SUMMARY_URL = "/maps/overlay/zone"
MUNICIPALITY_POPUP_URL = "/maps/overlay/municipality"
# The templates of an A-zone's tooltip on a map of many A-zones (_outline_tips), per zone in column _tip.
_IN_NO_ZONE, _NESTED, _SPLIT = 0, 1, 2
# On such a map, and when a municipality lies in more than COMPACT_MEMBER_ZONES zones of either
# layer (the register: up to 40), a member's tooltip names at most COMPACT_NAMED zones of a layer
# and warnings; beyond that it counts them (its popup lists them).
COMPACT_NAMED = 2
COMPACT_MEMBER_ZONES = 4


def overlay_map(result: OverlayResult, focus: str | None = None, *, data_dir: Path = SHIPPED_DATA,
                assets: AssetMode = "inline", detail: str = base.DETAIL) -> folium.Map:
    """Map an overlay of layer A on layer B.

    Parameters
    ----------
    result : OverlayResult
        ``geo.engine.overlay.overlay(a, b, weight)``.
    focus : str, optional
        Code of an A-zone to zoom to (unknown codes raise ``UnknownZone``).
    assets : {"inline", "served"}
        Carry Leaflet inside the page or link it from the API's ``/maps/static``.

    Examples
    --------
    >>> result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))
    >>> "W13" in base.render(overlay_map(result, focus="W13"))
    True
    """
    a, b = result.a, result.b
    details = result.details()
    focused = result.zone_detail(focus) if focus is not None else None
    atoms = a.atoms
    year = atoms.population_year
    unit = _unit(result)
    served = assets != "inline"
    many_a = served and len(a) > base.MANY_ZONES and result.weight == "population"
    many_b = served and len(b) > base.MANY_ZONES
    summaries: dict[str, str] = {}
    shorts: dict[str, str] = {}  # the outlines' tooltips
    if not many_a:
        summaries = {d.code: _zone_summary_html(d, result, unit) for d in details}
        shorts = {d.code: _zone_summary_html(d, result, unit, short=True) for d in details}
    fetched = many_a or (served and sum(map(len, summaries.values())) > FETCHED_SUMMARY_BYTES)
    compact = served and (fetched or many_b or max(_most_zones_of_a_member(a), _most_zones_of_a_member(b))
                          > COMPACT_MEMBER_ZONES)
    # What members' popups say of their A-zones: the outlines' tooltips (stored once) when the
    # summaries are fetched; with a layer of many zones the popups are fetched themselves.
    fetched_popups = many_a or many_b
    in_members: dict[str, str | list[str]] = {}
    if fetched and not fetched_popups:
        in_members = {code: [short, "<hr>"] for code, short in shorts.items()}
    elif not fetched:
        in_members = summaries

    outside: dict[int, list[ZoneDetail]] = {}
    for zone_detail in details:
        for member in zone_detail.members_outside_dominant:
            outside.setdefault(member.nis_code, []).append(zone_detail)

    title = f"{a.name} tegenover {b.name}"
    m = base.new_map(title, _subtitle(result, details, focused, outside, atoms), year, assets)

    # B: coloured zones (Brussels grey), drawn below everything and never in the way of the mouse.
    b_zones = base.zones(b, data_dir, detail)
    colours = base.zone_colours(b, data_dir)
    fills: dict[str, dict] = {}  # one style object per colour, shared by its zones
    b_zones["_style"] = [
        fills.setdefault(fill, {"fillColor": fill, "fillOpacity": 0.62, "color": style.ZONE_BORDER, "weight": 1.6,
                                "opacity": 0.9})
        for fill in (style.BRUSSELS_FILL if brussels else colours.get(code, style.ZONE_COLOURS[0])
                     for code, brussels in zip(b_zones["code"], b_zones["brussels"]))]
    b_name, b_source = f"{b.name} (vlakken)", base.zone_source(b, data_dir, detail)
    if many_b:  # a column of styles, no feature table
        base.zone_columns_layer(b_zones, b_name, "fills", source=b_source).add_to(m)
    else:
        base.feature_layer(b_zones, b_name, "fills", interactive=False, source=b_source).add_to(m)

    # Municipalities: thin borders, the tooltips and popups, white where B has no zone.
    munis = base.municipalities(atoms, data_dir, detail)
    muni_source = base.municipality_source(data_dir, detail)
    b_coverage = dict(zip(atoms.nis_codes.astype(int), b.coverage()))
    b_summary = zone_summary(b, result.weight).set_index("code")
    tips, pops, styles = [], [], []
    for nis, row in munis.iterrows():
        a_zones, b_zones_of = a.zones_of(nis), b.zones_of(nis)
        flemish = bool(row["flemish"])
        tips.append(_municipality_tip(nis, row, a, b, a_zones, b_zones_of, outside.get(nis, []) if flemish else [],
                                      flemish, year, compact=compact))
        pops.append(None if fetched_popups else
                    _municipality_popup(nis, row, result, a_zones, b_zones_of, in_members, b_summary, unit))
        if b_coverage.get(nis, 0.0) > 0:
            fill, opacity = "#ffffff", 0.0
        else:
            fill, opacity = (style.NO_ZONE_FILL, 0.85) if flemish else (style.BRUSSELS_FILL, 0.85)
        styles.append({"fillColor": fill, "fillOpacity": opacity, "color": style.BOUNDARY, "weight": 0.5,
                       "opacity": 0.8})
    munis["_tip"], munis["_pop"], munis["_style"] = tips, pops, styles
    munis["_hover"] = [{**s, "weight": 2.5, "color": "#222222"} for s in styles]
    muni_popups = None
    if fetched_popups:
        muni_popups = base.PopupSource(f"{MUNICIPALITY_POPUP_URL}?{urlencode({'a': a.id, 'b': b.id})}&nis=",
                                       loading="Gemeente laden…",
                                       failed="De gegevens van deze gemeente konden niet geladen worden; klik opnieuw "
                                              "om het nog eens te proberen.")
    base.feature_layer(munis, "Gemeenten", "municipalities", source=muni_source, popups=muni_popups).add_to(m)

    # Members on the wrong side of the line: red hatching (Brussels is never judged).
    flagged = munis[munis.index.isin(list(outside)) & munis["flemish"]].copy()
    if len(flagged):
        flagged["_style"] = [{"fillColor": style.HATCH_FILL, "fillOpacity": 1.0, "color": style.HIGHLIGHT,
                              "weight": 2.2, "opacity": 1.0}] * len(flagged)
        base.feature_layer(flagged.drop(columns=["_tip", "_pop", "_hover"]), "Gemeenten buiten de dominante zone",
                           "highlight", interactive=False, source=muni_source).add_to(m)

    # A: bold outlines with the zone summary on hover and click.
    a_zones = base.zones(a, data_dir, detail)
    looks = {weight: {"fill": False, "color": style.OUTLINE, "weight": weight, "opacity": 1.0} for weight in (3.5, 5.0)}
    a_zones["_style"] = [looks[5.0 if code == focus else 3.5] for code in a_zones["code"]]
    hovers = {id(s): {**s, "color": "#000000", "weight": s["weight"] + 2} for s in looks.values()}
    a_zones["_hover"] = [hovers[id(s)] for s in a_zones["_style"]]
    popups = None
    if fetched:
        popups = base.PopupSource(f"{ZONE_SUMMARY_URL}?{urlencode({'a': a.id, 'b': b.id})}&code=",
                                  loading="Samenvatting laden…",
                                  failed="De samenvatting kon niet geladen worden; klik opnieuw om het nog eens "
                                         "te proberen.")
    a_name, a_source = f"{a.name} (randen)", base.zone_source(a, data_dir, detail)
    if many_a:  # the browser writes the tooltips from numbers per zone
        _outline_columns(a_zones, details, result)
        base.zone_columns_layer(a_zones, a_name, "outlines", source=a_source, tips=_outline_tips(result),
                                popups=popups).add_to(m)
    else:
        a_zones["_tip"] = [shorts[c] for c in a_zones["code"]]
        a_zones["_pop"] = None if fetched else [summaries[c] for c in a_zones["code"]]
        base.feature_layer(a_zones, a_name, "outlines", source=a_source, popups=popups).add_to(m)

    # Names: A-zone codes, and the B-zones they touch when there are few enough to read.
    labels = folium.FeatureGroup(name="Namen", show=True)
    shown = [focused] if focused else details
    touched = _touched_codes(shown)
    if focused is not None:
        # Zoomed in on one zone: name its members (the B-zones are named in the legend).
        members = {mb.nis_code for z in focused.zones_touched for mb in z.members}
        members |= {mb.nis_code for mb in focused.not_covered}
        base.add_labels(labels, munis[munis.index.isin(members)], "name", small=True)
    elif len(touched) <= MAX_LISTED_ZONES * 2:
        base.add_labels(labels, b_zones[b_zones["code"].isin(touched)], "name", small=True)
    base.add_labels(labels, a_zones, "code")
    labels.add_to(m)

    style.add_legend(m, "Legende", _legend_rows(result, shown, touched, colours, munis, b_coverage, bool(len(flagged))),
                     notes=[f"{style.population_label(year).capitalize()}, bron Statbel.",
                            "Dominante zone: de zone van " + b.name + " waarin het grootste deel van een zone van "
                            + a.name + " ligt.",
                            "Beweeg over een gemeente voor haar zones; klik voor de samenvatting."])
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    # Focused: open on that zone. Otherwise the whole territory of both layers, every zone in view;
    # an imported layer that covers part of Flanders (only Limburg) opens on its part.
    if focus is not None:
        target = a_zones[a_zones["code"] == focus]
    elif a.kind == "imported" and len(a_zones):
        target = pd.concat([a_zones, b_zones[b_zones["code"].isin(touched)]]) if touched else a_zones
    else:
        target = pd.concat([a_zones, b_zones])
    if not len(target):  # a zone without outline (members only partly in it): fit to its municipalities
        members = {mb.nis_code for d in shown for z in d.zones_touched for mb in z.members}
        target = munis[munis.index.isin(members)] if members else munis
    base.fit(m, target)
    return m


def _outline_columns(a_zones, details: list[ZoneDetail], result: OverlayResult) -> None:
    """The numbers an A-zone's tooltip names (:func:`_outline_tips`), as columns of ``a_zones``."""
    by_code = {d.code: d for d in details}
    b_position = {code: i for i, code in enumerate(result.b.zone_codes)}
    rows = []
    for code in a_zones["code"].astype(str):
        d = by_code[code]
        if d.dominant_zone is None:
            rows.append((_IN_NO_ZONE, d.weight, -1, 0.0, 0, 0, 0.0))
        elif d.nested:
            rows.append((_NESTED, d.weight, b_position[d.dominant_zone], 0.0, 0, 0, 0.0))
        else:  # the percentage as nl_pct rounds it
            rows.append((_SPLIT, d.weight, b_position[d.dominant_zone], float(f"{d.dominant_share * 100:.1f}"),
                         len(d.zones_touched), len(d.members_outside_dominant), d.weight_outside_dominant))
    names = ["_tip", "population", "dominant", "share", "touched", "outside", "outside_weight"]
    for name, values in zip(names, zip(*rows) if rows else [[]] * len(names)):
        a_zones[name] = list(values)


def _outline_tips(result: OverlayResult) -> base.ZoneTips:
    """An A-zone's tooltip on a map of many A-zones: the words of ``_zone_summary_html(short=True)``,
    one template for a zone in no B-zone, one for a zone inside one, one for a zone split over several."""
    a, b = result.a, result.b
    people = ("", ("count", "population", "inwoner", "inwoners"))
    dominant = (("pick", "dominant", "b_name"), " (", ("pick", "dominant", "b_code"), ")")
    return base.ZoneTips(
        note=f", {a.name}",
        lists={"b_name": [str(n) for n in b.zones["name"]], "b_code": list(b.zone_codes)},
        lines=(
            (people, ("", f"in geen enkele zone van {b.name}")),
            (people, ("", "ligt volledig in ", *dominant)),
            (people, ("", ("pct", "share"), " in ", *dominant, "; raakt ", ("int", "touched"), " zones"),
             ("rm-warn", ("count", "outside", "gemeente", "gemeenten"), " (",
              ("count", "outside_weight", "inwoner", "inwoners"), ") buiten de dominante zone")),
        ))


def _unit(result: OverlayResult):
    if result.weight == "population":
        return dutch.inhabitants
    return dutch.area


def _touched_codes(details: list[ZoneDetail]) -> list[str]:
    seen: dict[str, None] = {}
    for detail in details:
        for zone in detail.zones_touched:
            seen.setdefault(zone.code, None)
    return list(seen)


def _subtitle(result: OverlayResult, details: list[ZoneDetail], focused: ZoneDetail | None,
              outside: dict[int, list[ZoneDetail]], atoms) -> str:
    flemish = dict(zip(atoms.nis_codes.astype(int), atoms.flemish))
    if focused is not None:
        if focused.dominant_zone is None:
            return f"{focused.name}: geen enkele gemeente ligt in een zone van {result.b.name}"
        if focused.nested:
            return f"{focused.name} ligt volledig in {focused.dominant_zone_name} ({focused.dominant_zone})"
        return (f"{focused.name}: {style.nl_pct(focused.dominant_share)} in {focused.dominant_zone_name} "
                f"({focused.dominant_zone}); {dutch.municipalities(len(focused.members_outside_dominant))} erbuiten, "
                f"{len(focused.zones_touched)} zones geraakt")
    nested = sum(d.nested for d in details)
    count = sum(1 for nis in outside if flemish.get(nis, False))
    return (f"{nested} van {len(details)} zones liggen volledig in één zone; "
            f"{dutch.municipalities(count)} {'ligt' if count == 1 else 'liggen'} buiten de dominante zone van hun zone")


def _municipality_tip(nis: int, row, a, b, a_zones, b_zones, outside: list[ZoneDetail], flemish: bool,
                      year: int, compact: bool = False) -> str:
    """Name, inhabitants, its zones in both layers and the A-zones whose dominant zone it is not in.
    ``compact`` (a map of many A-zone summaries): beyond a few, the A-zones are counted, not named
    (the popup names them), and at most a few warnings are spelled out."""
    def listed(zones) -> str:
        if compact and len(zones) > COMPACT_NAMED:
            return f"{style.nl_int(len(zones))} zones (klik voor de lijst)"
        return base.zones_text(zones)

    lines = [f"<b>{style.esc(row['name'])}</b> <span class=\"rm-muted\">NIS {nis}</span>",
             f"{style.nl_int(row['population'])} {style.population_label(year)}",
             f"<i>{style.esc(a.name)}:</i> {listed(a_zones)}",
             f"<i>{style.esc(b.name)}:</i> {listed(b_zones)}"]
    warned = outside[:COMPACT_NAMED] if compact else outside
    for detail in warned:
        lines.append(f'<span class="rm-warn">buiten de dominante zone van {style.esc(detail.code)}: '
                     f"{style.esc(detail.dominant_zone_name)} ({style.esc(detail.dominant_zone)})</span>")
    if len(outside) > len(warned):
        lines.append('<span class="rm-warn">en buiten de dominante zone van '
                     f'{style.nl_int(len(outside) - len(warned))} '
                     "andere</span>")
    if not flemish:
        lines.append(f'<span class="rm-muted">{style.esc(style.BRUSSELS_NOTE)}</span>')
    return "<br>".join(lines)


def _most_zones_of_a_member(layer) -> int:
    """The most zones of ``layer`` one municipality lies in (1 for a partition).

    Examples
    --------
    >>> _most_zones_of_a_member(catalog.layer("eerstelijnszone"))
    1
    """
    counts = (layer.membership > 0).sum(axis=1)
    return int(counts.max()) if counts.size else 0


def _municipality_popup(nis: int, row, result: OverlayResult, a_zones, b_zones, summaries: dict[str, str | list[str]],
                        b_summary, unit) -> list[str]:
    """The popup in parts: the zone summaries (``summaries``, by A-zone code: a text or a list of
    parts) are shared by every member of a zone, and the page stores each part once."""
    parts = [f'<div class="rm-popup"><h4>{style.esc(row["name"])} <span class="rm-muted">(NIS {nis})</span></h4>']
    for code, _, _ in a_zones[:base.MAX_ZONES_NAMED]:
        summary = summaries[code]
        parts.extend(summary if isinstance(summary, list) else [summary])
    for code, name, _ in b_zones[:base.MAX_ZONES_NAMED]:
        parts.append(f"<h4>{style.esc(name)} <span class=\"rm-muted\">({style.esc(code)}, {style.esc(result.b.name)})"
                     f"</span></h4>{dutch.municipalities(b_summary.loc[code, 'members'])}, "
                     f"{unit(b_summary.loc[code, result.weight])}<br>")
    hidden = max(len(a_zones) - base.MAX_ZONES_NAMED, 0) + max(len(b_zones) - base.MAX_ZONES_NAMED, 0)
    if hidden:
        parts.append(f'<span class="rm-muted">{base.more_text(hidden).strip()} zones</span>')
    parts.append("</div>")
    return parts


def overlay_municipality_popup(result: OverlayResult, nis_code: int) -> str:
    """The popup of municipality ``nis_code`` on the overlay map as an HTML fragment: what a map
    of a layer of many zones fetches when the municipality is clicked (the page would otherwise
    carry up to eight zone summaries for each). Unknown codes raise ``UnknownMunicipality``.

    Examples
    --------
    >>> overlay_municipality_popup(overlay(assoc, elz), 34025)[:41]
    '<div class="rm-popup"><h4>Lendelede <span'
    """
    atoms, unit = result.a.atoms, _unit(result)
    row = {"name": atoms.name(nis_code)}
    a_zones, b_zones = result.a.zones_of(nis_code), result.b.zones_of(nis_code)
    shorts = {code: [_zone_summary_html(result.zone_detail(code), result, unit, short=True), "<hr>"]
              for code, _, _ in a_zones[:base.MAX_ZONES_NAMED]}
    b_summary = zone_summary(result.b, result.weight).set_index("code")
    return "".join(_municipality_popup(int(nis_code), row, result, a_zones, b_zones, shorts, b_summary, unit))


def overlay_zone_summary(result: OverlayResult, code: str) -> str:
    """The summary of A-zone ``code`` as an HTML fragment: what its outline's popup shows (a map
    of many A-zones fetches it when the outline is clicked). Unknown codes raise ``UnknownZone``.

    Examples
    --------
    >>> overlay_zone_summary(overlay(assoc, elz), "W13")[:25]
    '<div class="rm-popup"><b>'
    """
    return _zone_summary_html(result.zone_detail(code), result, _unit(result))


def _zone_summary_html(detail: ZoneDetail, result: OverlayResult, unit, short: bool = False) -> str:
    """What a planner wants to know about one A-zone against layer B."""
    head = (f"<b>{style.esc(detail.name)}</b> <span class=\"rm-muted\">({style.esc(detail.code)}, "
            f"{style.esc(result.a.name)})</span><br>{unit(detail.weight)}")
    if detail.dominant_zone is None:
        return head + f"<br>in geen enkele zone van {style.esc(result.b.name)}"
    if detail.nested:
        head += f"<br>ligt volledig in {style.esc(detail.dominant_zone_name)} ({style.esc(detail.dominant_zone)})"
    else:
        head += (f"<br>{style.nl_pct(detail.dominant_share)} in {style.esc(detail.dominant_zone_name)} "
                 f"({style.esc(detail.dominant_zone)}); raakt {style.nl_int(len(detail.zones_touched))} zones")
        head += (f'<br><span class="rm-warn">{dutch.municipalities(len(detail.members_outside_dominant))} '
                 f"({unit(detail.weight_outside_dominant)}) buiten de dominante zone</span>")
    if short:
        return head
    items = "".join(
        f"<li>{style.esc(z.name)} ({style.esc(z.code)}): {unit(z.weight)}, {style.nl_pct(z.share)} — "
        + ", ".join(style.esc(mb.name) for mb in z.members) + "</li>" for z in detail.zones_touched)
    if detail.not_covered:
        items += ("<li>in geen zone: " + ", ".join(style.esc(mb.name) for mb in detail.not_covered) + "</li>")
    return f'<div class="rm-popup">{head}<ul>{items}</ul></div>'


def _legend_rows(result: OverlayResult, shown: list[ZoneDetail], touched: list[str], colours: dict[str, str],
                 munis, b_coverage: dict[int, float], any_flagged: bool) -> list[style.LegendRow]:
    a, b = result.a, result.b
    rows = [style.LegendRow(style.outline_swatch(style.OUTLINE, 3), f"{a.name} (dikke rand)", strong=True),
            style.LegendRow(style.fill_swatch(style.ZONE_COLOURS[0]), f"{b.name} (gekleurde vlakken)", strong=True)]
    # The touched zones get a swatch each only for one focused zone, where the list stays short.
    if len(shown) == 1 and len(touched) <= MAX_LISTED_ZONES:
        names = dict(zip(b.zone_codes, b.zones["name"]))
        shares = {}
        if len(shown) == 1:
            shares = {z.code: z.share for z in shown[0].zones_touched}
        brussels = dict(zip(b.zone_codes, base.brussels_zones(b)))
        for code in touched:
            colour = style.BRUSSELS_FILL if brussels.get(code) else colours.get(code, style.ZONE_COLOURS[0])
            label = f"{names[code]} ({code})" + (f": {style.nl_pct(shares[code])}" if code in shares else "")
            rows.append(style.LegendRow(style.fill_swatch(colour), label))
    if any_flagged:
        rows.append(style.LegendRow(style.hatch_swatch(), "Gemeente buiten de dominante zone", strong=True))
    brussels_zone = dict(zip(b.zone_codes, base.brussels_zones(b)))
    if not munis["flemish"].all() and (len(shown) != 1 or any(brussels_zone.get(c) for c in touched)):
        rows.append(style.LegendRow(style.fill_swatch(style.BRUSSELS_FILL), "Brussel: getoond, niet beoordeeld"))
    if any(b_coverage.get(int(n), 0.0) <= 0 for n in munis.index[munis["flemish"]]):
        rows.append(style.LegendRow(style.fill_swatch(style.NO_ZONE_FILL), f"In geen zone van {b.name}"))
    return rows
