"""Server-rendered pages: the landing page, municipality search and profile, the overlay table.

Plain HTML from Jinja2 templates in ``maps/templates``; no build step, no framework, no network.
Tables sort by following their header links (server-side) and, where JavaScript runs, in place.
Every page credits the data and states the population year.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

import pandas as pd

from geo import dutch
from geo.engine.layer import Layer
from geo.engine.overlay import OverlayResult
from geo.reference.catalog import Catalog
from geo.reference.roles import association_layer, nesting_layer, zoning_layer
from geo.reference.vintages import normalise_name
from geo.views.profile import MunicipalityProfile
from geo.views.search import search
from maps.exports import DUTCH_HEADERS
from maps.report import layer_measures, measures_caveat
from maps.templating import render, zone_noun

Order = Literal["asc", "desc"]
# Columns of the overlay zone table a user may sort on: key -> column of ``zone_table()``.
OVERLAY_SORT_KEYS = ("code", "name", "weight", "members", "dominant_zone_name", "dominant_share",
                     "zones_touched", "outside", "not_covered", "nested")
ASSOCIATION_LAYER = association_layer()  # the layer with role "associations" in data/layers.json
ZONING_LAYER, NESTING_LAYER = zoning_layer(), nesting_layer()  # roles in data/layers.json
# The landing page's suggested pairs: the associations against the zoning and what it nests in, then
# two pairs practitioners ask about (pairs whose layers are not shipped are left out).
SUGGESTED_OVERLAYS = (
    (ASSOCIATION_LAYER, ZONING_LAYER),
    (ASSOCIATION_LAYER, NESTING_LAYER),
    (ZONING_LAYER, NESTING_LAYER),
    ("logo", "gezondheidsmakers"),
    (ZONING_LAYER, "politiezone"),
)


def format_weight(value: float, weight: str) -> str:
    """Inhabitants as whole people ('12.345'), areas in km^2 with one decimal ('123,4 km²')."""
    return dutch.number(value) if weight == "population" else dutch.area(value)


# -- landing page ----------------------------------------------------------------------------
def render_landing(layers: list[Layer], scenarios: list[dict], population_year: int,
                   associations: Layer | None = None, association_facts: dict | None = None) -> str:
    """The front door: layers, search, overlays, fit reports, scenarios and the API docs.

    Parameters
    ----------
    layers : list of Layer
        Shipped and imported layers, in the order to list them.
    scenarios : list of dict
        Saved scenarios: ``id``, ``name``, ``base_layer``, ``layer_id``, ``moves`` (count).
    associations : Layer, optional
        The cooperation associations, offered as one-click fit reports.
    association_facts : dict, optional
        Zone code -> legal type, status, vintage and registration date (historical ones are marked).

    Examples
    --------
    >>> html = render_landing(catalog.layers(), [], 2020, catalog.layer("samenwerkingsverband"))
    """
    ids = {layer.id for layer in layers}
    suggested = [(a, b) for a, b in SUGGESTED_OVERLAYS if a in ids and b in ids]
    names = {layer.id: layer.name for layer in layers}
    association_zones = [] if associations is None else [
        {"code": str(c), "name": str(n)} for c, n in zip(associations.zones["code"], associations.zones["name"])]
    return render("landing.html", layers=layers, scenarios=scenarios, population_year=population_year,
                  suggested=suggested, names=names, associations=associations,
                  association_zones=association_zones, facts=association_facts or {},
                  default_a=ASSOCIATION_LAYER if ASSOCIATION_LAYER in ids else
                  layers[0].id, default_b=ZONING_LAYER if ZONING_LAYER in ids else layers[-1].id)


# -- search ----------------------------------------------------------------------------------
def search_hits(catalog: Catalog, query: str, layers: list[Layer] | None = None, limit: int = 30) -> list[dict]:
    """Municipalities (name, old name, NIS code, postal code, small typos), zones and associations
    matching ``query``, best first, each with the link to open (:func:`geo.views.search.search`)."""
    hits = []
    for hit in search(catalog, query, layers, limit):
        if hit.kind == "municipality":
            link = f"/municipalities/{hit.nis_code}"
        else:
            link = f"/zones/{quote(str(hit.layer_id), safe='')}/{quote(str(hit.code), safe='')}"
        hits.append({"kind": hit.kind, "name": hit.label, "nis_code": hit.nis_code, "layer_id": hit.layer_id,
                     "layer_name": hit.layer_name, "code": hit.code, "match": hit.match, "matched": hit.matched,
                     "how": HOW_FOUND[hit.match], "link": link})
    return hits


HOW_FOUND = {"exact": "naam", "postcode": "postcode", "prefix": "begin van de naam", "old name": "oude naam",
             "contains": "deel van de naam", "typo": "naam met een tikfout"}


def single_match(hits: list[dict], query: str) -> str | None:
    """The page to go to straight away: the only hit, the only municipality with this exact name,
    NIS code or postal code, or else the only zone with this exact name or code."""
    if len(hits) == 1:
        return hits[0]["link"]
    exact = [h for h in hits if h["match"] in ("exact", "postcode")]
    municipalities = {h["link"] for h in exact if h["kind"] == "municipality"}
    if len(municipalities) == 1:  # "Gent" is the city first; its namesake zones are one click away
        return municipalities.pop()
    links = {h["link"] for h in exact}
    return links.pop() if len(links) == 1 else None


def render_search(query: str, hits: list[dict], population_year: int) -> str:
    return render("search.html", query=query, hits=hits, population_year=population_year)


# -- municipality profile --------------------------------------------------------------------
def render_municipality(profile: MunicipalityProfile, border: dict | None = None,
                        association_facts: dict | None = None) -> str:
    """The profile page; ``border``: the municipality's counts in the fit atlas
    (``associations, crossing, minority_side, against``); ``association_facts``: code -> facts."""
    return render("municipality.html", p=profile, population_year=profile.population_year, border=border,
                  facts=association_facts or {})


# -- overlay table ---------------------------------------------------------------------------
def overlay_zone_rows(result: OverlayResult) -> list[dict]:
    """One row per A-zone, with the keys the overlay table sorts on."""
    table = result.zone_table()
    weight = result.weight
    outside = {d.code: [m.name for m in d.members_outside_dominant] for d in result.details()}
    return [{
        "code": str(r["code"]), "name": str(r["name"]), "weight": float(r[weight]), "members": int(r["members"]),
        "dominant_zone": r["dominant_zone"], "dominant_zone_name": r["dominant_zone_name"] or "",
        "dominant_share": float(r["dominant_share"]), "zones_touched": int(r["zones_touched"]),
        "outside": float(r[f"{weight}_outside_dominant"]), "not_covered": float(r[f"{weight}_not_covered"]),
        "nested": bool(r["nested"]), "outside_members": outside.get(str(r["code"]), []),
    } for _, r in table.iterrows()]


def sort_rows(rows: list[dict], key: str | None, order: Order = "asc") -> list[dict]:
    """Rows sorted on a whitelisted key (text case- and accent-insensitively); unknown keys keep the order."""
    if key not in OVERLAY_SORT_KEYS:
        return rows
    def value(row: dict) -> tuple:
        v = row[key]
        return (0, normalise_name(v)) if isinstance(v, str) else (0, v)
    return sorted(rows, key=value, reverse=order == "desc")


def render_overlay_table(result: OverlayResult, layers: list[Layer], sort: str | None = None,
                         order: Order = "asc", scenarios: list[dict] | None = None) -> str:
    """The overlay of two layers as sortable HTML tables with CSV/XLSX download links.

    ``scenarios`` (``{"layer_id", "name"}``) are offered in the layer choosers next to the layers,
    so a table of a scenario keeps the scenario selected.

    Examples
    --------
    >>> html = render_overlay_table(overlay(assoc, elz), catalog.layers(), sort="dominant_share")
    """
    rows = sort_rows(overlay_zone_rows(result), sort, order)
    cells = result.cells().rename(columns={result.weight: "weight"})
    cells = cells.merge(pd.DataFrame({"a_code": result.a.zones["code"], "a_total": result.a_totals}), on="a_code")
    cells["share_of_a"] = cells["weight"] / cells["a_total"].where(cells["a_total"] > 0)
    return render("overlay.html", result=result, rows=rows, cells=cells.to_dict("records"), layers=layers,
                  sort=sort, order=order, weight=result.weight, fmt=format_weight,
                  choices=layer_choices(layers, scenarios or [], (result.a, result.b)),
                  measures=layer_measures(result.summary, result.a, result.b, result.weight),
                  caveat=measures_caveat(result.summary, result.a, result.b),
                  a_noun=zone_noun(result.a), b_noun=zone_noun(result.b), population_year=result.population_year)


def layer_choices(layers: list[Layer], scenarios: list[dict], shown: tuple[Layer, ...]) -> list[dict]:
    """Options of the layer choosers: layers, then saved scenarios, then any shown layer not yet listed.

    Examples
    --------
    >>> [c["id"] for c in layer_choices([], [{"layer_id": "scenario:x", "name": "Lendelede"}], ())]
    ['scenario:x']
    """
    choices = [{"id": layer.id, "name": layer.name, "group": "Lagen"} for layer in layers]
    choices += [{"id": s["layer_id"], "name": s["name"], "group": "Scenario's"} for s in scenarios]
    listed = {c["id"] for c in choices}
    choices += [{"id": layer.id, "name": layer.name, "group": "Scenario's"} for layer in shown
                if layer.id not in listed]
    return choices


def overlay_sheets(result: OverlayResult, member_rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The overlay as spreadsheet tabs with Dutch headers: zones, cells, members."""
    unit = f"inwoners (1/1/{result.population_year})" if result.weight == "population" else "oppervlakte (km²)"
    rows = overlay_zone_rows(result)
    zones = pd.DataFrame([{
        f"code ({result.a.name})": r["code"], "naam": r["name"], unit: _rounded(r["weight"], result.weight),
        "leden": r["members"], f"grootste zone ({result.b.name})": r["dominant_zone"] or "",
        "naam grootste zone": r["dominant_zone_name"], "aandeel in grootste zone": round(r["dominant_share"], 4),
        "zones geraakt": r["zones_touched"], f"buiten grootste zone, {unit}": _rounded(r["outside"], result.weight),
        f"in geen zone, {unit}": _rounded(r["not_covered"], result.weight),
        "volledig binnen één zone": "ja" if r["nested"] else "nee"} for r in rows])
    cells = result.cells()
    cells = pd.DataFrame({f"code ({result.a.name})": cells["a_code"], f"naam ({result.a.name})": cells["a_name"],
                          f"code ({result.b.name})": cells["b_code"], f"naam ({result.b.name})": cells["b_name"],
                          unit: [_rounded(v, result.weight) for v in cells[result.weight]]})
    members = member_rows.rename(columns=lambda c: DUTCH_HEADERS.get(c, c))
    return {"zones": zones, "overlappingen": cells, "leden": members}


def _rounded(value: float, weight: str) -> float | int:
    return int(round(value)) if weight == "population" else round(float(value), 2)


# -- not found -------------------------------------------------------------------------------
def render_not_found(heading: str, message: str, suggestions: list[dict], query: str = "",
                     suggestions_heading: str = "Bedoelde u misschien") -> str:
    """The Dutch 404 page of the HTML routes: what was not found, close matches, a search box.

    Parameters
    ----------
    suggestions : list of dict
        ``{"href", "label"}`` links to what the user probably meant.

    Examples
    --------
    >>> html = render_not_found("Gemeente niet gevonden", "Geen gemeente met NIS-code 99999.", [])
    >>> "Zoek een gemeente" in html
    True
    """
    return render("notfound.html", heading=heading, message=message, suggestions=suggestions, query=query,
                  suggestions_heading=suggestions_heading)


def render_invalid(problems: list[str]) -> str:
    """The Dutch page of a page's address with a value it cannot take (status 422): each
    problem in a sentence, the search box and the way back.

    Examples
    --------
    >>> html = render_invalid(["‘format’ moet een van ‘html’, ‘pdf’ zijn, niet ‘docx’."])
    >>> "Ongeldige invoer (fout 422)" in html, "niet ‘docx’" in html
    (True, True)
    """
    message = " ".join(problems) + " Pas het adres aan, of begin opnieuw vanaf de startpagina."
    return render("notfound.html", heading="Deze pagina kan zo niet getoond worden", message=message,
                  suggestions=[], query="", suggestions_heading="", status_line="Ongeldige invoer (fout 422)")
