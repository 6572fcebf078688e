"""Pages of the fit atlas and of any zone with every overlap, and the atlas as a download.

They take :mod:`geo.views.atlas` and :mod:`geo.views.zones` results and render them; nothing is computed
here beyond wording. Every page states the population year and credits the data.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from geo import dutch
from geo.engine.layer import Layer
from geo.errors import NotFound
from geo.reference.associations import Association, association
from geo.reference.catalog import Catalog
from geo.reference.history import parse_date
from geo.reference.roles import association_layer
from geo.views.atlas import AGAINST_LAYERS, ALL_STATUSES, Atlas, AtlasRow, is_historical
from geo.views.search import association_layers
from geo.views.zones import ZoneOverlaps
from maps.templating import render, zone_noun


def association_facts(association: Association | None, today: date | None = None,
                      listed_on: date | None = None) -> dict | None:
    """Legal type, status, vintage and registration date of an association, in Dutch, and
    whether it is historical (ended before today: ISOM until 2018). ``listed_on``: the date its
    members are counted on (the dated association layer), said as the list's vintage ("toestand op
    1 december 2026") instead of the published list's years.

    Examples
    --------
    >>> association_facts(None) is None
    True
    """
    if association is None:
        return None
    historical = is_historical(association, today)
    status = association.status
    if historical:
        status = f"historisch (tot {dutch.date(association.valid_to)})"
    return {
        "code": association.code, "name": association.name, "legal_type": association.legal_type or "onbekend",
        "status": status, "historical": historical,
        # A list cannot describe an association after its end ("historisch (tot 31 december 2018)
        # · ledenlijst 2019-2023" contradicted itself): a historical one's list is as it ended.
        "vintage": f"tot {dutch.date(association.valid_to)}" if historical else
        dutch.state_on(listed_on) if listed_on is not None else association.registered or "onbekend",
        "registered_on": dutch.date(association.registered_on) if association.registered_on else "onbekend",
        "source": association.source,
        "since": dutch.date(association.valid_from) if association.valid_from else None,
        "until": dutch.date(association.valid_to) if association.valid_to else None,
        "non_municipal_members": list(association.non_municipal_members),
    }


def association_facts_of(catalog: Catalog, layer_id: str, code: str) -> dict | None:
    """:func:`association_facts` of zone ``code`` when ``layer_id`` is an association layer, else ``None``.

    Examples
    --------
    >>> association_facts_of(catalog, "samenwerkingsverband@2018-06-30", "ISOM")["historical"]
    True
    >>> association_facts_of(catalog, "samenwerkingsverband", "WZK")["vintage"]
    'toestand op 1 december 2026'
    """
    layer_id, _, day = str(layer_id).partition("@")  # the layer on a date: the same associations
    if layer_id not in association_layers():
        return None
    # The dated association layer lists the members of its date (the id's, else the catalog's).
    listed_on = None
    if layer_id == association_layer():
        listed_on = parse_date(day) if day else catalog.as_of
    try:
        return association_facts(association(catalog, code), listed_on=listed_on)
    except NotFound:
        return None


def headline(atlas: Atlas) -> str:
    """'73 van de 253 actieve samenwerkingsverbanden overschrijden een grens van een referentieregio.'

    Examples
    --------
    >>> from geo.views.atlas import fit_atlas
    >>> headline(fit_atlas(catalog))
    '73 van de 253 actieve samenwerkingsverbanden overschrijden een grens van een referentieregio.'
    """
    status = atlas.status if atlas.status and atlas.status.lower() != ALL_STATUSES else None
    adjective = {"actief": "actieve ", "niet actief": "niet-actieve ",
                 "onbekend": ""}.get((status or "").lower(), "")
    unknown = " (status onbekend)" if status and status.lower() == "onbekend" else ""
    legal = f" van het type {atlas.legal_type}" if atlas.legal_type else ""
    verb = "overschrijdt" if atlas.crossing_count == 1 else "overschrijden"
    return (f"{dutch.number(atlas.crossing_count)} van de {dutch.number(atlas.association_count)} {adjective}"
            f"samenwerkingsverbanden{legal}{unknown} {verb} een grens van een {zone_noun(atlas.against)}.")


def atlas_rows(atlas: Atlas) -> list[dict]:
    """One dict per association for the page and the JSON answer, worst fit first."""
    return [_row(row) for row in atlas.rows]


def _row(row: AtlasRow) -> dict:
    a = row.association
    return {
        "code": a.code, "name": a.name, "legal_type": a.legal_type, "status": a.status,
        "registered": a.registered, "registered_on": a.registered_on,
        "population": row.population, "members": row.members, "zones_touched": len(row.zones),
        "zones": [{"code": c, "name": n, "population": p} for c, n, p in row.zones],
        "dominant_zone": row.dominant_zone, "dominant_zone_name": row.dominant_zone_name,
        "dominant_share": row.dominant_share, "crosses": row.crosses,
        "outside": [{"nis_code": m.nis_code, "name": m.name, "population": m.population, "zone": m.zone}
                    for m in row.outside],
        "outside_population": row.outside_population, "not_covered_population": row.not_covered_population,
    }


def atlas_table(atlas: Atlas) -> pd.DataFrame:
    """The atlas as one table with Dutch headers, for CSV and Excel downloads."""
    year = atlas.population_year
    noun = zone_noun(atlas.against)
    return pd.DataFrame([{
        "ondernemingsnummer": r.association.code, "naam": r.association.name,
        "rechtsvorm": r.association.legal_type, "status": r.association.status,
        "geregistreerd": r.association.registered, "registratiedatum": r.association.registered_on or "",
        f"inwoners (1/1/{year})": round(r.population), "gemeenten": r.members,
        f"{noun} geraakt": len(r.zones), f"grootste {noun}": r.dominant_zone_name or "",
        f"aandeel in grootste {noun}": round(r.dominant_share, 4),
        "overschrijdt een grens": "ja" if r.crosses else "nee",
        f"inwoners buiten grootste {noun}": round(r.outside_population),
        "gemeenten buiten grootste zone": "; ".join(f"{m.name} ({round(m.population)})" for m in r.outside),
    } for r in atlas.rows])


def border_table(atlas: Atlas) -> pd.DataFrame:
    """The grensgemeente counts per municipality with Dutch headers (Flemish municipalities)."""
    frame = atlas.municipalities.merge(
        pd.DataFrame({"nis_code": atlas.layer.atoms.nis_codes.astype(int), "flemish": atlas.layer.atoms.flemish}),
        on="nis_code")
    frame = frame[frame["flemish"]].sort_values(["minority_side", "crossing", "municipality"],
                                                ascending=[False, False, True])
    return pd.DataFrame({"NIS-code": frame["nis_code"], "gemeente": frame["municipality"],
                         "samenwerkingsverbanden": frame["associations"],
                         "waarvan grensoverschrijdend": frame["crossing"],
                         "daarvan aan de minderheidskant": frame["minority_side"]})


def atlas_csv(atlas: Atlas) -> bytes:
    """The atlas as CSV for Excel in a Dutch locale: ``;`` separated, decimal comma, UTF-8 with BOM."""
    from maps.exports import EXCEL, csv_bytes

    return csv_bytes(atlas_table(atlas), EXCEL)


def render_atlas(atlas: Atlas, *, map_uri: str, legal_types: list[str], statuses: list[str],
                 against_layers: list[Layer], query: dict[str, str]) -> str:
    """The /atlas page: filters, headline, the map, the table and the grensgemeenten.

    Examples
    --------
    >>> from geo.views.atlas import fit_atlas
    >>> html = render_atlas(fit_atlas(catalog), map_uri="", legal_types=[], statuses=[], against_layers=[],
    ...                     query={})
    """
    borders = border_table(atlas)
    return render("atlas.html", atlas=atlas, headline=headline(atlas), rows=atlas.rows, map_uri=map_uri,
                  legal_types=legal_types, statuses=statuses, against_layers=against_layers, query=query,
                  noun=zone_noun(atlas.against), nouns=zone_noun(atlas.against, plural=True),
                  borders=borders[borders["daarvan aan de minderheidskant"] > 0].to_dict("records"),
                  population_year=atlas.population_year, all_statuses=ALL_STATUSES, dutch=dutch)


def render_zone(view: ZoneOverlaps, *, facts: dict | None, associations: list[dict],
                reconciliation: object = None) -> str:
    """The /zones/{layer}/{code} page: a zone with every overlapping zone of every other layer.

    ``associations``: the associations active on its territory, each ``{"facts", "layer_id",
    "population", "share_of_zone"}``.
    """
    return render("zone.html", view=view, facts=facts, associations=associations, reconciliation=reconciliation,
                  population_year=view.population_year, zone_noun=zone_noun, dutch=dutch,
                  against_layers=AGAINST_LAYERS)
