"""The Dutch HTML pages of the feature service (``/ogc`` in a browser): the landing page, the
conformance classes, the collections, one collection, its features and one feature.

The pages render what :mod:`api.routes.ogc` puts in the JSON answers; they compute nothing new.
No script: CSP-safe as every other page.

Examples
--------
>>> html = render_ogc("landing", {"title": "regiomatch", "links": []}, population_year=2024)
>>> "Objecten" in html or "Collecties" in html
True
"""

from __future__ import annotations

from typing import Any

from geo import dutch
from maps.templating import render

# Dutch headers of the properties; a municipality's per-layer property is headed by the layer's name.
LABELS = {
    "code": "Code", "name": "Naam", "population": "Inwoners", "members": "Gemeenten",
    "population_year": "Bevolkingsjaar", "moved_in": "Erin verschoven", "moved_out": "Eruit verschoven",
    "changed": "Gewijzigd", "nis_code": "NIS-code", "region": "Gewest", "legal_type": "Rechtsvorm",
    "status": "Status", "zones_touched": "Zones geraakt", "zones": "Zones", "dominant_zone": "Grootste zone",
    "dominant_zone_name": "Naam grootste zone", "dominant_share": "Aandeel in de grootste zone",
    "crosses": "Grensoverschrijdend", "members_outside": "Leden erbuiten", "outside": "Leden buiten de grootste zone",
    "outside_population": "Inwoners erbuiten", "against": "Tegenover", "associations": "Samenwerkingsverbanden",
    "crossing": "Waarvan grensoverschrijdend", "minority_side": "Daarvan aan de minderheidskant",
}
NUMBERS = {"population", "outside_population", "members", "zones_touched", "members_outside", "associations",
           "crossing", "minority_side"}


def label(name: str, layer_names: dict[str, str] | None = None) -> str:
    """The Dutch header of property ``name``.

    Examples
    --------
    >>> label("population"), label("eerstelijnszone", {"eerstelijnszone": "Eerstelijnszones"})
    ('Inwoners', 'Eerstelijnszones')
    """
    return LABELS.get(name) or (layer_names or {}).get(name) or name


def value(name: str, raw: Any) -> str:
    """A property's value as a Dutch reader expects it (``"321.235"``, ``"37,1 %"``, ``"ja"``).

    Examples
    --------
    >>> value("population", 321235), value("dominant_share", 0.371), value("crosses", True), value("nis_code", 34025)
    ('321.235', '37,1 %', 'ja', '34025')
    """
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "ja" if raw else "nee"
    if name == "dominant_share":
        return dutch.percent(raw)
    if name in NUMBERS:
        return dutch.number(raw)
    return str(raw)


def render_ogc(page: str, document: dict, **context: Any) -> str:
    """One page of the service: ``landing``, ``conformance``, ``collections``, ``collection``,
    ``items`` or ``item``, from the JSON ``document`` the same request answers with ``f=json``."""
    return render(f"ogc_{page}.html", doc=document, label=label, value=value, **context)
